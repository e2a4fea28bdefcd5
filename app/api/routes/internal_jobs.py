"""Callbacks of the dispatcher Lambda (its service token) and the Batch container (the job's
callback token). Bodies and answers are the contract's models (`contracts/`).

A user's JWT or API key opens none of these, and neither does the webhook Lambda's token.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from app.api.deps import (
    SessionDep,
    SettingsDep,
    require_callback_token,
    require_dispatcher_token,
    require_plain_internal_path,
)
from app.api.schemas.internal_jobs import dispatch_spec, job_state
from app.api.schemas.problems import problem_responses
from app.config import Settings
from app.services.jobs import callbacks
from contracts.callbacks import (
    CompleteCallback,
    FailCallback,
    JobState,
    ProgressCallback,
    StartCallback,
)
from contracts.dispatch import BatchJobReport, DispatchSpec

dispatcher = APIRouter(
    prefix="/internal/jobs",
    tags=["internal"],
    dependencies=[Depends(require_plain_internal_path), Depends(require_dispatcher_token)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
container = APIRouter(
    prefix="/internal/jobs",
    tags=["internal"],
    dependencies=[Depends(require_plain_internal_path), Depends(require_callback_token)],
    responses=problem_responses(401, 403, 409, 422),
)


def callback_url(settings: Settings, job_id: uuid.UUID) -> str:
    """Where the job's container calls back: this job's routes of the `container` router."""
    return f"{settings.callback_base_url}{container.prefix}/{job_id}"


@dispatcher.post("/{job_id}/dispatch", response_model=DispatchSpec)
async def dispatch_job(
    job_id: uuid.UUID, session: SessionDep, settings: SettingsDep
) -> DispatchSpec:
    spec = await callbacks.dispatch_job(session, settings, job_id)
    return dispatch_spec(spec, callback_url(settings, job_id))


@dispatcher.post("/{job_id}/submitted", response_model=JobState)
async def job_submitted(
    job_id: uuid.UUID, body: BatchJobReport, session: SessionDep, settings: SettingsDep
) -> JobState:
    return job_state(await callbacks.mark_submitted(session, settings, job_id, body.batch_job_id))


@container.post("/{job_id}/start", response_model=JobState)
async def job_started(
    job_id: uuid.UUID, body: StartCallback, session: SessionDep, settings: SettingsDep
) -> JobState:
    return job_state(await callbacks.start_job(session, settings, job_id, body.batch_job_id))


@container.post("/{job_id}/progress", response_model=JobState)
async def job_progress(job_id: uuid.UUID, body: ProgressCallback, session: SessionDep) -> JobState:
    child = None if body.child is None or body.children is None else (body.child, body.children)
    job = await callbacks.report_progress(
        session, job_id, body.stage, body.percent, child, handed_off=body.handed_off
    )
    return job_state(job)


@container.post("/{job_id}/complete", response_model=JobState)
async def job_completed(
    job_id: uuid.UUID, body: CompleteCallback, session: SessionDep, settings: SettingsDep
) -> JobState:
    job = await callbacks.complete_job(
        session, settings, job_id, body.outputs.model_dump(), body.metrics
    )
    return job_state(job)


@container.post("/{job_id}/fail", response_model=JobState)
async def job_failed(
    job_id: uuid.UUID, body: FailCallback, session: SessionDep, settings: SettingsDep
) -> JobState:
    job = await callbacks.fail_job(
        session, settings, job_id, body.code, body.message, body.duration_seconds
    )
    return job_state(job)
