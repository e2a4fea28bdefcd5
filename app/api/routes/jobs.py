from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import JSONResponse

from app.api.deps import (
    AwsDep,
    CurrentAccount,
    CurrentCaller,
    IdempotencyDep,
    SessionDep,
    SettingsDep,
    WakeOutbox,
    require_jobs_scope,
)
from app.api.schemas.jobs import (
    CreateJobRequest,
    CreateJobResponse,
    JobEventResponse,
    JobListResponse,
    JobOutputsResponse,
    JobResponse,
)
from app.api.schemas.problems import problem_responses
from app.domain.job_states import JobStatus
from app.services.jobs import confirmation, creation, management, multipart, queries
from app.services.jobs.creation import BeforeCommit, CreatedJob, JobRequest

router = APIRouter(
    prefix="/api/jobs",
    tags=["jobs"],
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[Depends(require_jobs_scope)],
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CreateJobResponse,
    responses=problem_responses(403, 409, 503),
    summary="Create a job and get the URL to upload its video to",
)
async def create_job(
    body: CreateJobRequest,
    caller: CurrentCaller,
    session: SessionDep,
    settings: SettingsDep,
    aws: AwsDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    request = JobRequest(
        filename=body.filename,
        content_type=body.content_type,
        size_bytes=body.size_bytes,
        duration_seconds=body.duration_seconds,
        aspect_ratio=body.options.aspect_ratio,
        resolution=body.options.resolution,
    )

    async def create(before_commit: BeforeCommit) -> CreatedJob:
        return await creation.create_job(
            session,
            settings,
            aws.presigner,
            caller.account_id,
            request,
            s3=aws.s3,
            before_commit=before_commit,
        )

    return await idempotency.respond(
        _fingerprinted(request), create, CreateJobResponse.of, status.HTTP_201_CREATED
    )


def _fingerprinted(request: JobRequest) -> dict[str, object]:
    """What a retry must repeat to be answered from the saved response."""
    fields = dataclasses.asdict(request)
    fields["aspect_ratio"] = request.aspect_ratio.value
    return fields


@router.get("", response_model=JobListResponse, summary="This account's jobs, newest first")
async def list_jobs(
    caller: CurrentCaller,
    session: SessionDep,
    settings: SettingsDep,
    aws: AwsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    starting_after: Annotated[
        uuid.UUID | None, Query(description="the id of the last job of the previous page")
    ] = None,
    job_status: Annotated[JobStatus | None, Query(alias="status")] = None,
) -> JobListResponse:
    page = await queries.list_jobs(
        session, caller.account_id, limit=limit, starting_after=starting_after, status=job_status
    )
    thumbnails = await queries.thumbnail_links(settings, aws.presigner, page.jobs)
    return JobListResponse.of(page, thumbnails)


@router.get("/{job_id}", response_model=JobResponse)
async def get_job(job_id: uuid.UUID, caller: CurrentCaller, session: SessionDep) -> JobResponse:
    return JobResponse.of(await queries.get_job(session, caller.account_id, job_id))


@router.post(
    "/{job_id}/confirm",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobResponse,
    responses=problem_responses(403, 409, 503),
    summary="Tell us the upload finished: the job is queued",
)
async def confirm_job(
    job_id: uuid.UUID,
    account: CurrentAccount,
    session: SessionDep,
    settings: SettingsDep,
    aws: AwsDep,
    wake_outbox: WakeOutbox,
) -> JobResponse:
    job = await confirmation.confirm_job(session, settings, aws.s3, account, job_id)
    wake_outbox()
    return JobResponse.of(job)


@router.post("/{job_id}/cancel", response_model=JobResponse, responses=problem_responses(409))
async def cancel_job(
    job_id: uuid.UUID,
    caller: CurrentCaller,
    session: SessionDep,
    settings: SettingsDep,
    aws: AwsDep,
) -> JobResponse:
    job = await management.cancel_job(session, settings, caller.account_id, job_id)
    await multipart.discard_upload(session, settings, aws.s3, job)  # its parts, if any
    return JobResponse.of(job)


@router.get(
    "/{job_id}/events",
    response_model=list[JobEventResponse],
    summary="The job's status history, oldest first",
)
async def list_job_events(
    job_id: uuid.UUID, caller: CurrentCaller, session: SessionDep
) -> list[JobEventResponse]:
    events = await queries.list_events(session, caller.account_id, job_id)
    return [JobEventResponse.of(e) for e in events]


@router.get(
    "/{job_id}/outputs",
    response_model=JobOutputsResponse,
    responses=problem_responses(409),
    summary="Download links for a succeeded job's video, thumbnail and manifest",
)
async def get_job_outputs(
    job_id: uuid.UUID,
    caller: CurrentCaller,
    session: SessionDep,
    settings: SettingsDep,
    aws: AwsDep,
) -> JobOutputsResponse:
    links = await queries.output_links(session, settings, aws.presigner, caller.account_id, job_id)
    return JobOutputsResponse.of(links)
