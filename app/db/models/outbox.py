from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin
from app.domain.clock import utcnow


class OutboxMessage(IdMixin, Base):
    """A message committed with the change that implies it; the relay publishes it later.

    `destination` names a publisher (`jobs`, `webhooks`, `email`, ...); `group_id` and
    `dedup_id` become the SQS FIFO MessageGroupId and MessageDeduplicationId.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # Serves the claim's "an earlier message of the group waits out a backoff" test
        # (sent_at IS NULL, available_at > now) and the prune of old sent rows (sent_at <).
        Index("ix_outbox_messages_pending", "sent_at", "available_at"),
        # The claim itself: unsent rows in id order, without reading the sent ones kept for days.
        Index(
            "ix_outbox_messages_unsent",
            "id",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )

    destination: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    group_id: Mapped[str | None] = mapped_column(String(128))
    dedup_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
