"""Multipart uploads of large sources, the way Mux direct uploads and Uppy's S3 flow work.

The create opens an S3 multipart upload and hands out presigned part URLs, each bound to
its part's exact length. The client may ask for fresh URLs and for the parts S3 already
holds (to resume after a dropped connection or a closed tab), then completes the upload
with the parts' ETags, and confirms the job as for a single PUT. A job canceled or expired
has its upload aborted; the sweeper aborts whatever is still open behind a finished job.

S3 checks a part URL's signed length itself; the emulation the tests and the local run use
does not, so `complete` checks every part's length against the layout before assembling.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.aws.presigning import Presigner
from app.aws.s3 import (
    StoredPart,
    abort_multipart_upload,
    bare_etag,
    complete_multipart_upload,
    list_parts,
    presign_part,
    start_multipart_upload,
)
from app.config import Settings
from app.db.models import Job
from app.domain.clock import utcnow
from app.domain.errors import (
    InvalidTransition,
    MultipartUploadClosed,
    NotMultipart,
    UploadPartsMismatch,
    ValidationFailed,
)
from app.domain.job_states import JobStatus
from app.domain.multipart import PartLayout, layout_for
from app.services.jobs import management
from app.services.jobs.queries import get_job

logger = logging.getLogger("app.jobs.multipart")

ABANDONED_BATCH = 100


@dataclass(frozen=True, slots=True)
class PartUrl:
    part_number: int
    size_bytes: int
    url: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class OpenedUpload:
    upload_id: str
    layout: PartLayout


@dataclass(frozen=True, slots=True)
class MultipartTicket:
    """What the create answers for a source above the threshold."""

    upload_id: str
    part_size_bytes: int
    part_count: int
    parts: list[PartUrl]  # the first ones; more from the part-URL endpoint
    urls_expire_at: datetime
    expires_at: datetime  # the job's upload window


@dataclass(frozen=True, slots=True)
class UploadStatus:
    job: Job
    layout: PartLayout
    completed: bool
    parts: list[StoredPart]  # what S3 holds, by part number

    @property
    def missing_parts(self) -> list[int]:
        """Parts not yet uploaded, or uploaded with a length other than the layout's."""
        if self.completed:
            return []
        good = {p.part_number for p in self.parts if _fits(self.layout, p)}
        return [n for n in range(1, self.layout.part_count + 1) if n not in good]


def is_multipart(settings: Settings, size_bytes: int) -> bool:
    return size_bytes > settings.multipart_threshold_bytes


def upload_window(settings: Settings, size_bytes: int) -> timedelta:
    """How long a job may wait for its upload: parts take longer than one PUT."""
    seconds = (
        settings.multipart_upload_window_seconds
        if is_multipart(settings, size_bytes)
        else settings.upload_url_ttl_seconds
    )
    return timedelta(seconds=seconds)


async def open_upload(
    settings: Settings, s3: Any, key: str, *, content_type: str, size_bytes: int
) -> OpenedUpload:
    layout = layout_for(size_bytes, settings.multipart_min_part_bytes)
    upload_id = await start_multipart_upload(s3, settings.s3_bucket, key, content_type=content_type)
    return OpenedUpload(upload_id=upload_id, layout=layout)


async def ticket_for(
    settings: Settings,
    presigner: Presigner,
    key: str,
    opened: OpenedUpload,
    expires_at: datetime,
) -> MultipartTicket:
    first = range(1, min(opened.layout.part_count, settings.multipart_urls_per_request) + 1)
    return MultipartTicket(
        upload_id=opened.upload_id,
        part_size_bytes=opened.layout.part_size_bytes,
        part_count=opened.layout.part_count,
        parts=await _part_urls(settings, presigner, key, opened.upload_id, opened.layout, first),
        urls_expire_at=utcnow() + timedelta(seconds=settings.upload_url_ttl_seconds),
        expires_at=expires_at,
    )


async def upload_status(
    session: AsyncSession, settings: Settings, s3: Any, account_id: uuid.UUID, job_id: uuid.UUID
) -> UploadStatus:
    """The parts S3 already holds: where a client resumes from."""
    job = await get_job(session, account_id, job_id)
    layout = _layout_of(job)
    if job.multipart_upload_id is None:
        return UploadStatus(job=job, layout=layout, completed=_completed(job), parts=[])
    parts = await list_parts(s3, settings.s3_bucket, job.upload_key, job.multipart_upload_id)
    if parts is None:  # completed or aborted a moment ago
        job = await get_job(session, account_id, job_id)
        return UploadStatus(job=job, layout=layout, completed=_completed(job), parts=[])
    return UploadStatus(job=job, layout=layout, completed=False, parts=parts)


async def renew_part_urls(
    session: AsyncSession,
    settings: Settings,
    presigner: Presigner,
    account_id: uuid.UUID,
    job_id: uuid.UUID,
    part_numbers: list[int],
) -> tuple[list[PartUrl], datetime]:
    """Fresh URLs for `part_numbers` (new ones, or ones whose URLs expired or failed)."""
    job = await get_job(session, account_id, job_id)
    layout = _layout_of(job)
    upload_id = _open_upload_id(job)
    numbers = sorted(set(part_numbers))
    if len(numbers) > settings.multipart_urls_per_request:
        raise ValidationFailed(
            f"Ask for at most {settings.multipart_urls_per_request} part URLs at a time.",
            errors=[
                {
                    "field": "part_numbers",
                    "message": f"at most {settings.multipart_urls_per_request} parts per request",
                    "type": "too_long",
                }
            ],
        )
    outside = [n for n in numbers if not layout.has_part(n)]
    if outside:
        raise ValidationFailed(
            f"This upload has parts 1 to {layout.part_count}.",
            errors=[
                {
                    "field": "part_numbers",
                    "message": f"parts {_few(outside)} do not exist",
                    "type": "value_error",
                }
            ],
        )
    urls = await _part_urls(settings, presigner, job.upload_key, upload_id, layout, numbers)
    return urls, utcnow() + timedelta(seconds=settings.upload_url_ttl_seconds)


async def complete_upload(
    session: AsyncSession,
    settings: Settings,
    s3: Any,
    account_id: uuid.UUID,
    job_id: uuid.UUID,
    claimed: dict[int, str],
) -> Job:
    """Assembles the source from its parts once each has its exact length and the ETag the
    client got for it. Completing an upload completed before returns the job unchanged."""
    job = await get_job(session, account_id, job_id)
    layout = _layout_of(job)
    if job.multipart_upload_id is None and _completed(job):
        return job
    upload_id = _open_upload_id(job)
    stored = await list_parts(s3, settings.s3_bucket, job.upload_key, upload_id)
    if stored is None:
        raise _closed(await get_job(session, account_id, job_id))
    by_number = {p.part_number: p for p in stored}
    numbers = range(1, layout.part_count + 1)
    missing = [n for n in numbers if n not in by_number or n not in claimed]
    wrong_size = [n for n in numbers if n in by_number and not _fits(layout, by_number[n])]
    other_etag = [
        n
        for n in numbers
        if n in by_number and n in claimed and bare_etag(claimed[n]) != by_number[n].etag
    ]
    extra = sorted(n for n in claimed if not layout.has_part(n))
    if missing or wrong_size or other_etag or extra:
        raise UploadPartsMismatch(
            _mismatch_detail(missing, wrong_size, other_etag, extra),
            missing_parts=missing,
            wrong_size_parts=wrong_size,
            etag_mismatch_parts=other_etag,
            unknown_parts=extra,
            part_size_bytes=layout.part_size_bytes,
            part_count=layout.part_count,
        )
    parts = [by_number[n] for n in numbers]
    if not await complete_multipart_upload(
        s3, settings.s3_bucket, job.upload_key, upload_id, parts
    ):
        raise _closed(await get_job(session, account_id, job_id))
    await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.multipart_upload_id == upload_id)
        .values(multipart_upload_id=None)
    )
    await session.commit()
    return await get_job(session, account_id, job_id)


async def abort_upload(
    session: AsyncSession, settings: Settings, s3: Any, account_id: uuid.UUID, job_id: uuid.UUID
) -> Job:
    """Gives the upload up: its parts are discarded and the job is canceled."""
    job = await get_job(session, account_id, job_id)
    _layout_of(job)
    if job.status != JobStatus.PENDING_UPLOAD and job.status != JobStatus.CANCELED:
        raise InvalidTransition(
            f"The upload of a job that is {job.status} is over; cancel the job instead.",
            job_status=job.status,
        )
    job = await management.cancel_job(session, settings, account_id, job_id)
    await discard_upload(session, settings, s3, job)
    return job


async def discard_upload(session: AsyncSession, settings: Settings, s3: Any, job: Job) -> None:
    """Aborts the open upload of a job that will never take it (canceled, expired). Best
    effort: if S3 is away, the sweeper tries again, and the bucket's lifecycle rule last."""
    upload_id = job.multipart_upload_id
    if upload_id is None:
        return
    try:
        await abort_multipart_upload(s3, settings.s3_bucket, job.upload_key, upload_id)
    except Exception:
        logger.warning("multipart abort deferred to the sweeper", extra={"job_id": str(job.id)})
        return
    await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.multipart_upload_id == upload_id)
        .values(multipart_upload_id=None)
    )
    await session.commit()


async def abort_abandoned_uploads(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, s3: Any
) -> int:
    """Aborts the open uploads of jobs no longer waiting for one (expired, canceled, or
    whose inline abort failed). Run by the sweeper after it expires stale jobs."""
    aborted = 0
    tried: set[uuid.UUID] = set()
    while True:
        async with sessionmaker() as session:
            query = (
                select(Job)
                .where(
                    Job.multipart_upload_id.is_not(None),
                    Job.status != JobStatus.PENDING_UPLOAD.value,
                )
                .order_by(Job.id)
                .limit(ABANDONED_BATCH)
            )
            if tried:
                query = query.where(Job.id.not_in(tried))
            jobs = list((await session.scalars(query)).all())
            for job in jobs:
                tried.add(job.id)
                before = job.multipart_upload_id
                await discard_upload(session, settings, s3, job)
                await session.refresh(job)
                aborted += int(before is not None and job.multipart_upload_id is None)
        if len(jobs) < ABANDONED_BATCH:
            return aborted


def _layout_of(job: Job) -> PartLayout:
    if job.part_size_bytes is None:
        raise NotMultipart("This job's source uploads in one PUT to the URL the create gave.")
    return PartLayout(size_bytes=job.size_bytes, part_size_bytes=job.part_size_bytes)


def _completed(job: Job) -> bool:
    """Closed without an abort: the job went on (pending its confirm, or confirmed)."""
    return job.status not in (JobStatus.CANCELED, JobStatus.EXPIRED)


def _open_upload_id(job: Job) -> str:
    if job.status != JobStatus.PENDING_UPLOAD or job.multipart_upload_id is None:
        raise _closed(job)
    return job.multipart_upload_id


def _closed(job: Job) -> MultipartUploadClosed:
    if job.status == JobStatus.PENDING_UPLOAD:
        detail = "The upload was completed already: confirm the job."
    else:
        detail = f"The job is {job.status}: its upload is over."
    return MultipartUploadClosed(detail, job_status=job.status)


def _fits(layout: PartLayout, part: StoredPart) -> bool:
    return layout.has_part(part.part_number) and part.size_bytes == layout.part_bytes(
        part.part_number
    )


async def _part_urls(
    settings: Settings,
    presigner: Presigner,
    key: str,
    upload_id: str,
    layout: PartLayout,
    part_numbers: range | list[int],
) -> list[PartUrl]:
    urls = []
    for number in part_numbers:
        size = layout.part_bytes(number)
        url = await presign_part(
            presigner,
            key,
            upload_id=upload_id,
            part_number=number,
            size_bytes=size,
            ttl_seconds=settings.upload_url_ttl_seconds,
        )
        urls.append(
            PartUrl(
                part_number=number,
                size_bytes=size,
                url=url,
                headers={"Content-Length": str(size)},
            )
        )
    return urls


def _mismatch_detail(
    missing: list[int], wrong_size: list[int], other_etag: list[int], extra: list[int]
) -> str:
    reasons = []
    if missing:
        reasons.append(f"parts {_few(missing)} are missing")
    if wrong_size:
        reasons.append(f"parts {_few(wrong_size)} have another length than their URL's")
    if other_etag:
        reasons.append(f"parts {_few(other_etag)} hold other bytes than the ETags sent")
    if extra:
        reasons.append(f"parts {_few(extra)} lie outside this upload")
    return "The upload cannot be completed: " + "; ".join(reasons) + "."


def _few(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
