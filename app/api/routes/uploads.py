"""A large source's multipart upload: its parts, fresh part URLs, complete, abort."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from app.api.deps import AwsDep, CurrentCaller, SessionDep, SettingsDep, require_jobs_scope
from app.api.schemas.jobs import JobResponse
from app.api.schemas.problems import problem_responses
from app.api.schemas.uploads import (
    CompleteUploadRequest,
    MultipartUploadStatus,
    PartUrlsRequest,
    PartUrlsResponse,
)
from app.services.jobs import multipart

router = APIRouter(
    prefix="/api/jobs/{job_id}/upload",
    tags=["uploads"],
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    dependencies=[Depends(require_jobs_scope)],
)


@router.get(
    "",
    response_model=MultipartUploadStatus,
    summary="The parts storage already holds: resume from the missing ones",
)
async def get_multipart_upload(
    job_id: uuid.UUID,
    caller: CurrentCaller,
    session: SessionDep,
    settings: SettingsDep,
    aws: AwsDep,
) -> MultipartUploadStatus:
    status = await multipart.upload_status(session, settings, aws.s3, caller.account_id, job_id)
    return MultipartUploadStatus.of(status)


@router.post(
    "/part-urls",
    response_model=PartUrlsResponse,
    summary="Presigned URLs for some parts (new ones, or to replace expired ones)",
)
async def create_part_urls(
    job_id: uuid.UUID,
    body: PartUrlsRequest,
    caller: CurrentCaller,
    session: SessionDep,
    settings: SettingsDep,
    aws: AwsDep,
) -> PartUrlsResponse:
    urls, expire_at = await multipart.renew_part_urls(
        session, settings, aws.presigner, caller.account_id, job_id, body.part_numbers
    )
    return PartUrlsResponse.of(urls, expire_at)


@router.post(
    "/complete",
    response_model=JobResponse,
    summary="Assemble the source from its parts (then confirm the job)",
)
async def complete_multipart_upload(
    job_id: uuid.UUID,
    body: CompleteUploadRequest,
    caller: CurrentCaller,
    session: SessionDep,
    settings: SettingsDep,
    aws: AwsDep,
) -> JobResponse:
    claimed = {p.part_number: p.etag for p in body.parts}
    job = await multipart.complete_upload(
        session, settings, aws.s3, caller.account_id, job_id, claimed
    )
    return JobResponse.of(job)


@router.post(
    "/abort",
    response_model=JobResponse,
    summary="Give the upload up: its parts are discarded and the job is canceled",
)
async def abort_multipart_upload(
    job_id: uuid.UUID,
    caller: CurrentCaller,
    session: SessionDep,
    settings: SettingsDep,
    aws: AwsDep,
) -> JobResponse:
    job = await multipart.abort_upload(session, settings, aws.s3, caller.account_id, job_id)
    return JobResponse.of(job)
