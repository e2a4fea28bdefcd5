"""POST /api/jobs/{id}/confirm: the upload is there and fits, so the job is queued.

The HEAD happens before any lock (no row waits on S3). Then one transaction: the account
row locked (quota checks serialise per account), the job -> queued with its event, the
month's usage counted, and the outbox message for the dispatcher.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws.s3 import head_object
from app.config import Settings
from app.db.locking import select_for_update
from app.db.models import Account, Job
from app.domain import plan_gate
from app.domain.clock import utcnow
from app.domain.errors import (
    InvalidTransition,
    UploadContentTypeMismatch,
    UploadMissing,
    UploadSizeMismatch,
    UploadTooLarge,
)
from app.domain.job_states import Actor, JobStatus
from app.domain.periods import month_of
from app.domain.plans import AspectRatio, get_plan
from app.outbox.messages import Destination, enqueue
from app.services.email.verification import ensure_email_verified
from app.services.jobs.queries import get_job
from app.services.jobs.transitions import lock_job, transition_job
from app.services.usage import active_jobs, add_usage, period_usage
from contracts.dispatch import JobMessage


def job_message(job: Job) -> dict[str, str]:
    """The dispatcher's message body (the contract's); the job id doubles as the FIFO
    deduplication id."""
    return JobMessage(job_id=job.id, account_id=job.account_id).model_dump(mode="json")


async def confirm_job(
    session: AsyncSession, settings: Settings, s3: Any, account: Account, job_id: uuid.UUID
) -> Job:
    """Returns the queued job; a job confirmed before comes back unchanged, nothing resent."""
    account_id = account.id
    job = await get_job(session, account_id, job_id)
    if job.queued_at is not None:
        return job
    _ensure_confirmable(job)
    ensure_email_verified(account)
    if utcnow() > confirm_deadline(settings, job):
        # The sweeper has not come by yet; the outcome must not depend on when it does.
        job = await lock_job(session, job_id, account_id=account_id)
        await transition_job(
            session,
            settings,
            job,
            JobStatus.EXPIRED,
            actor=Actor.CUSTOMER,
            reason="confirmed after the upload window closed",
        )
        await session.commit()
        _ensure_confirmable(job)
    # The plan may have changed since the job was created.
    plan = get_plan(account.plan)
    upgrade_url = settings.upgrade_url
    plan_gate.ensure_source_duration(upgrade_url, plan, job.duration_seconds)
    plan_gate.ensure_output_options(
        upgrade_url, plan, AspectRatio(job.aspect_ratio), job.resolution
    )
    stored = await head_object(s3, settings.s3_bucket, job.upload_key)
    if stored is None:
        raise UploadMissing(
            "Nothing was uploaded for this job yet: "
            + (
                "upload its parts and complete the multipart upload first."
                if job.part_size_bytes is not None
                else "PUT the file to the upload URL first."
            ),
            job_status=job.status,
        )
    if stored.size_bytes != job.size_bytes:
        raise UploadSizeMismatch(
            f"The upload has {stored.size_bytes} bytes; the job declared {job.size_bytes}.",
            declared_bytes=job.size_bytes,
            actual_bytes=stored.size_bytes,
        )
    if stored.size_bytes > plan.max_upload_bytes:
        raise UploadTooLarge(
            f"The {plan.name.value} plan accepts uploads up to {plan.max_upload_bytes} bytes.",
            size_bytes=stored.size_bytes,
            limit_bytes=plan.max_upload_bytes,
        )
    if stored.content_type != job.content_type:
        raise UploadContentTypeMismatch(
            f"The upload is {stored.content_type!r}; the job declared {job.content_type!r}.",
            declared_content_type=job.content_type,
            actual_content_type=stored.content_type,
        )

    await select_for_update(session, Account, Account.id == account_id)
    job = await lock_job(session, job_id, account_id=account_id)
    if job.queued_at is not None:  # a concurrent confirm got here first
        await session.commit()
        return job
    _ensure_confirmable(job)
    period = month_of(utcnow())
    used = await period_usage(session, account_id, period.key)
    plan_gate.ensure_monthly_jobs(upgrade_url, plan, used.jobs, period)
    plan_gate.ensure_concurrency(upgrade_url, plan, await active_jobs(session, account_id))

    await transition_job(
        session, settings, job, JobStatus.QUEUED, actor=Actor.CUSTOMER, reason="upload confirmed"
    )
    job.plan = plan.name.value
    job.usage_period = period.key
    job.counted_source_seconds = job.duration_seconds or 0.0
    await add_usage(
        session, account_id, period.key, jobs=1, source_seconds=job.counted_source_seconds
    )
    enqueue(
        session,
        Destination.JOBS,
        job_message(job),
        group_id=str(account_id),
        dedup_id=str(job.id),
    )
    await session.commit()
    return job


def confirm_deadline(settings: Settings, job: Job) -> datetime:
    return job.upload_expires_at + timedelta(seconds=settings.upload_confirm_grace_seconds)


def _ensure_confirmable(job: Job) -> None:
    if job.status != JobStatus.PENDING_UPLOAD:
        raise InvalidTransition(
            f"A job that is {job.status} cannot be confirmed.", job_status=job.status
        )
