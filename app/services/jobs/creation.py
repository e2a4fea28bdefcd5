"""A new job: check the request against the plan, store the job, hand out an upload URL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws.presigning import Presigner
from app.aws.s3 import presign_put
from app.config import Settings
from app.db.locking import lock_by_id
from app.db.models import Account, Job
from app.domain import plan_gate
from app.domain.clock import utcnow
from app.domain.errors import TokenAccountGone
from app.domain.ids import new_id
from app.domain.job_states import Actor
from app.domain.jobs import new_upload_key
from app.domain.periods import month_of
from app.domain.plans import AspectRatio
from app.services.email.verification import unverified_error
from app.services.jobs import multipart
from app.services.jobs.multipart import MultipartTicket
from app.services.jobs.transitions import insert_new_job
from app.services.usage import plan_and_usage


@dataclass(frozen=True, slots=True)
class JobRequest:
    filename: str
    content_type: str
    size_bytes: int
    duration_seconds: float | None
    aspect_ratio: AspectRatio
    resolution: str


@dataclass(frozen=True, slots=True)
class UploadTicket:
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CreatedJob:
    job: Job
    upload: UploadTicket | MultipartTicket


# Runs inside the job's transaction, just before it commits: what it adds commits with the job.
BeforeCommit = Callable[[CreatedJob], None]


async def create_job(
    session: AsyncSession,
    settings: Settings,
    presigner: Presigner,
    account_id: uuid.UUID,
    request: JobRequest,
    *,
    s3: Any,
    before_commit: BeforeCommit | None = None,
) -> CreatedJob:
    period = month_of(utcnow())
    # One creation at a time per account, the caps counted after the lock: a burst of
    # requests counted at the same moment would all see room under the pending-uploads cap.
    if not await lock_by_id(session, Account, account_id):
        raise TokenAccountGone()
    standing = await plan_and_usage(session, account_id, period.key)
    if standing is None:
        raise TokenAccountGone()
    # No upload URL (storage on our bill, reusable until it expires) for an unproven address.
    if not standing.email_verified:
        raise unverified_error(standing.email)
    plan = standing.plan
    if settings.cap_pending_uploads:
        plan_gate.ensure_pending_uploads(settings.upgrade_url, plan, standing.pending_uploads)
    plan_gate.ensure_upload_size(settings.upgrade_url, plan, request.size_bytes)
    plan_gate.ensure_source_duration(settings.upgrade_url, plan, request.duration_seconds)
    plan_gate.ensure_output_options(
        settings.upgrade_url, plan, request.aspect_ratio, request.resolution
    )
    # Refuse early when the month is used up; confirm checks again, in its transaction.
    plan_gate.ensure_monthly_jobs(settings.upgrade_url, plan, standing.usage.jobs, period)

    now = utcnow()
    job_id = new_id()
    expires_at = now + multipart.upload_window(settings, request.size_bytes)
    upload_key = new_upload_key(job_id)
    # Above the threshold the source arrives in parts: S3 opens the upload before the row
    # exists (should the commit fail, the bucket's lifecycle rule aborts it).
    opened = (
        await multipart.open_upload(
            settings,
            s3,
            upload_key,
            content_type=request.content_type,
            size_bytes=request.size_bytes,
        )
        if multipart.is_multipart(settings, request.size_bytes)
        else None
    )
    job_row = {
        "id": job_id,
        "account_id": account_id,
        "plan": plan.name.value,
        "filename": request.filename,
        "content_type": request.content_type,
        "size_bytes": request.size_bytes,
        "duration_seconds": request.duration_seconds,
        "aspect_ratio": request.aspect_ratio.value,
        "resolution": request.resolution,
        "upload_key": upload_key,
        "upload_expires_at": expires_at,
        "part_size_bytes": opened.layout.part_size_bytes if opened is not None else None,
        "multipart_upload_id": opened.upload_id if opened is not None else None,
        "created_at": now,
        "updated_at": now,
    }
    job = await insert_new_job(session, job_row, actor=Actor.CUSTOMER)
    ticket: UploadTicket | MultipartTicket
    if opened is not None:
        ticket = await multipart.ticket_for(settings, presigner, upload_key, opened, expires_at)
    else:
        url = await presign_put(
            presigner,
            job.upload_key,
            content_type=request.content_type,
            size_bytes=request.size_bytes,
            ttl_seconds=settings.upload_url_ttl_seconds,
        )
        ticket = UploadTicket(
            url=url,
            method="PUT",
            # Both are signed: the upload must send exactly these.
            headers={
                "Content-Type": request.content_type,
                "Content-Length": str(request.size_bytes),
            },
            expires_at=expires_at,
        )
    created = CreatedJob(job=job, upload=ticket)
    if before_commit is not None:
        before_commit(created)
    await session.commit()
    return created
