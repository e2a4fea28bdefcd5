"""Callbacks of the dispatcher Lambda (service token) and the Batch container (job token).

A user's JWT or API key opens none of these.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from app.api.deps import SessionDep, SettingsDep, require_callback_token, require_service_token
from app.api.schemas.internal_jobs import (
    BatchJobRequest,
    CompleteRequest,
    DispatchResponse,
    FailRequest,
    InternalJobResponse,
    ProgressRequest,
)
from app.api.schemas.problems import problem_responses
from app.services.jobs import callbacks

dispatcher = APIRouter(
    prefix="/internal/jobs",
    tags=["internal"],
    dependencies=[Depends(require_service_token)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
container = APIRouter(
    prefix="/internal/jobs",
    tags=["internal"],
    dependencies=[Depends(require_callback_token)],
    responses=problem_responses(401, 403, 409, 422),
)


@dispatcher.post("/{job_id}/dispatch", response_model=DispatchResponse)
async def dispatch_job(
    job_id: uuid.UUID, session: SessionDep, settings: SettingsDep
) -> DispatchResponse:
    return DispatchResponse.of(await callbacks.dispatch_job(session, settings, job_id))


@dispatcher.post("/{job_id}/submitted", response_model=InternalJobResponse)
async def job_submitted(
    job_id: uuid.UUID, body: BatchJobRequest, session: SessionDep, settings: SettingsDep
) -> InternalJobResponse:
    return InternalJobResponse.of(
        await callbacks.mark_submitted(session, settings, job_id, body.batch_job_id)
    )


@container.post("/{job_id}/start", response_model=InternalJobResponse)
async def job_started(
    job_id: uuid.UUID, body: BatchJobRequest, session: SessionDep, settings: SettingsDep
) -> InternalJobResponse:
    return InternalJobResponse.of(
        await callbacks.start_job(session, settings, job_id, body.batch_job_id)
    )


@container.post("/{job_id}/progress", response_model=InternalJobResponse)
async def job_progress(
    job_id: uuid.UUID, body: ProgressRequest, session: SessionDep
) -> InternalJobResponse:
    job = await callbacks.report_progress(session, job_id, body.stage, body.percent)
    return InternalJobResponse.of(job)


@container.post("/{job_id}/complete", response_model=InternalJobResponse)
async def job_completed(
    job_id: uuid.UUID, body: CompleteRequest, session: SessionDep, settings: SettingsDep
) -> InternalJobResponse:
    job = await callbacks.complete_job(
        session, settings, job_id, body.outputs.model_dump(), body.metrics
    )
    return InternalJobResponse.of(job)


@container.post("/{job_id}/fail", response_model=InternalJobResponse)
async def job_failed(
    job_id: uuid.UUID, body: FailRequest, session: SessionDep, settings: SettingsDep
) -> InternalJobResponse:
    return InternalJobResponse.of(
        await callbacks.fail_job(session, settings, job_id, body.code, body.message)
    )
