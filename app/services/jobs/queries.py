"""Reading a customer's jobs: one job, a page of jobs, a job's history, its outputs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.aws.presigning import Presigner
from app.aws.s3 import presign_get
from app.config import Settings
from app.db.models import Job, JobEvent
from app.domain.clock import utcnow
from app.domain.errors import NotFound, OutputsNotReady
from app.domain.job_states import JobStatus
from app.domain.jobs import OUTPUT_NAMES, output_key


@dataclass(frozen=True, slots=True)
class JobPage:
    jobs: list[Job]
    has_more: bool


@dataclass(frozen=True, slots=True)
class DownloadLink:
    url: str
    expires_at: datetime


async def get_job(session: AsyncSession, account_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """Another account's job answers exactly like a job that does not exist."""
    # A primary-key get: SQLAlchemy caches its statement, where a select() is built anew.
    job = await session.get(Job, job_id, populate_existing=True)
    if job is None or job.account_id != account_id:
        raise NotFound("No such job.")
    return job


async def list_jobs(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    limit: int,
    starting_after: uuid.UUID | None = None,
    status: JobStatus | None = None,
) -> JobPage:
    """Newest first. Ids are UUIDv7 (time-ordered), so the cursor is a plain `id <` on an index;
    one extra row tells whether more follow, without counting."""
    query = select(Job).where(Job.account_id == account_id)
    if status is not None:
        query = query.where(Job.status == status.value)
    if starting_after is not None:
        query = query.where(Job.id < starting_after)
    rows = list((await session.scalars(query.order_by(Job.id.desc()).limit(limit + 1))).all())
    return JobPage(jobs=rows[:limit], has_more=len(rows) > limit)


async def list_events(
    session: AsyncSession, account_id: uuid.UUID, job_id: uuid.UUID
) -> list[JobEvent]:
    await get_job(session, account_id, job_id)
    result = await session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
    )
    return list(result.all())


async def output_links(
    session: AsyncSession,
    settings: Settings,
    presigner: Presigner,
    account_id: uuid.UUID,
    job_id: uuid.UUID,
) -> dict[str, DownloadLink]:
    job = await get_job(session, account_id, job_id)
    if job.status != JobStatus.SUCCEEDED or not job.outputs:
        raise OutputsNotReady(
            f"A job that is {job.status} has no outputs; they appear once it succeeds.",
            job_status=job.status,
        )
    expires_at = utcnow() + timedelta(seconds=settings.download_url_ttl_seconds)
    links: dict[str, DownloadLink] = {}
    for name in OUTPUT_NAMES:
        key = output_key(job.outputs[name], settings.s3_bucket, job.id)
        url = await presign_get(presigner, key, ttl_seconds=settings.download_url_ttl_seconds)
        links[name] = DownloadLink(url=url, expires_at=expires_at)
    # The upload itself, to show beside the result; storage expires it after a retention period.
    source_url = await presign_get(
        presigner, job.upload_key, ttl_seconds=settings.download_url_ttl_seconds
    )
    links["source"] = DownloadLink(url=source_url, expires_at=expires_at)
    return links


async def thumbnail_links(
    settings: Settings, presigner: Presigner, jobs: list[Job]
) -> dict[uuid.UUID, str]:
    """A still of each succeeded job of a page, for the list (presigning is local signing)."""
    links: dict[uuid.UUID, str] = {}
    for job in jobs:
        if job.status != JobStatus.SUCCEEDED or not job.outputs or "thumbnail" not in job.outputs:
            continue
        key = output_key(job.outputs["thumbnail"], settings.s3_bucket, job.id)
        links[job.id] = await presign_get(
            presigner, key, ttl_seconds=settings.download_url_ttl_seconds
        )
    return links
