from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.domain.clock import utcnow


class Job(IdMixin, TimestampMixin, Base):
    """One reframing job, from its upload to its outputs.

    Its `status` only changes through `app.services.jobs.transitions` (`transition_job`).
    Ids are UUIDv7, so ordering by id is ordering by creation (the list's cursor).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_account_id_id", "account_id", "id"),
        Index("ix_jobs_account_id_status_id", "account_id", "status", "id"),
        Index("ix_jobs_status_upload_expires_at", "status", "upload_expires_at"),
        # The scrape's oldest job per state, and the sweeper's stuck queued jobs.
        Index("ix_jobs_status_status_changed_at", "status", "status_changed_at"),
        # The sweeper's walk over multipart uploads S3 still holds open.
        Index(
            "ix_jobs_multipart_upload_id_open",
            "status",
            postgresql_where=text("multipart_upload_id IS NOT NULL"),
            sqlite_where=text("multipart_upload_id IS NOT NULL"),
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    # The plan the job was accepted under (set at creation, refreshed at confirm).
    plan: Mapped[str] = mapped_column(String(32))

    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_seconds: Mapped[float | None] = mapped_column(
        doc="the customer's declared source duration, a hint for usage until the pipeline measures"
    )
    aspect_ratio: Mapped[str] = mapped_column(String(8))
    resolution: Mapped[str] = mapped_column(String(8))

    upload_key: Mapped[str] = mapped_column(String(255), unique=True)
    upload_expires_at: Mapped[datetime]
    # A source above the multipart threshold arrives in parts of this size (the last smaller);
    # the S3 upload id is kept while the upload is open (cleared once completed or aborted).
    part_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    multipart_upload_id: Mapped[str | None] = mapped_column(String(1024))

    batch_job_id: Mapped[str | None] = mapped_column(String(128))
    callback_token_hash: Mapped[str | None] = mapped_column(String(64))
    requeue_count: Mapped[int] = mapped_column(default=0)
    # When the job's latest dispatcher message was enqueued (confirm, requeue, or the
    # sweeper's re-enqueue of a job stuck in queued), and how many times the sweeper
    # re-enqueued it since it last entered queued.
    dispatch_enqueued_at: Mapped[datetime | None]
    dispatch_attempts: Mapped[int] = mapped_column(default=0)

    stage: Mapped[str | None] = mapped_column(String(16))
    percent: Mapped[int | None]
    outputs: Mapped[dict[str, Any] | None]
    metrics: Mapped[dict[str, Any] | None]
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)

    # Usage is counted into the period of the confirm; the measured duration corrects it later.
    usage_period: Mapped[str | None] = mapped_column(String(7))
    counted_source_seconds: Mapped[float] = mapped_column(default=0.0)

    # When `status` last changed: the age of a job in its state.
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # The container's last callback while running (start, progress, or a repeated progress
    # as a heartbeat); the sweeper fails a job whose container has gone silent.
    heartbeat_at: Mapped[datetime | None]


class JobEvent(IdMixin, Base):
    """One status change of a job: the history customers and support read."""

    __tablename__ = "job_events"
    __table_args__ = (Index("ix_job_events_job_id_id", "job_id", "id"),)

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
