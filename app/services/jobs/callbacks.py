"""The internal side of the lifecycle: the dispatcher Lambda and the Batch container.

Every handler locks the job row once, so duplicate and out-of-order callbacks serialise; each
answers a repeat of what already happened with success and changes nothing.
"""

from __future__ import annotations

import hmac
import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Job
from app.domain.clock import utcnow
from app.domain.errors import (
    AlreadyDispatched,
    BatchJobConflict,
    Forbidden,
    InvalidTransition,
    ValidationFailed,
)
from app.domain.job_liveness import AWAITING_BATCH, awaits_batch
from app.domain.job_states import Actor, JobStatus
from app.domain.jobs import (
    OUTPUT_NAMES,
    FailureCode,
    ProgressStage,
    children_percent,
    output_key,
    output_prefix_key,
    progress_advances,
    s3_uri,
)
from app.domain.keyring import Purpose
from app.domain.plan_gate import source_limit_details
from app.domain.plans import Feature, get_plan
from app.domain.secrets import new_opaque_token
from app.services.jobs.transitions import lock_job, transition_job, transition_to_failed
from app.services.usage import add_usage


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What the dispatcher needs to submit the Batch job, and the container to run it."""

    job_id: uuid.UUID
    account_id: uuid.UUID
    plan: str
    input_uri: str
    output_prefix: str
    aspect_ratio: str
    resolution: str
    max_source_seconds: int
    batch_queue: str
    callback_token: str
    source_seconds: float | None
    render_split: tuple[int, int, int]  # threshold, segment seconds, most children


async def authenticate_callback(
    session: AsyncSession, settings: Settings, job_id: uuid.UUID, token: str
) -> None:
    """Only the token handed out with this job's latest dispatch opens its callbacks."""
    stored = await session.scalar(select(Job.callback_token_hash).where(Job.id == job_id))
    candidates = settings.keyring.candidate_hashes(Purpose.CALLBACK_TOKEN, token)
    if stored is None or not any(hmac.compare_digest(stored, c) for c in candidates):
        raise Forbidden("This credential is not the callback token of this job.")


async def dispatch_job(session: AsyncSession, settings: Settings, job_id: uuid.UUID) -> JobSpec:
    """The job's spec and a fresh callback token; the job stays queued (a redelivered message
    after a crash before SubmitJob dispatches again, and the new token replaces the old)."""
    job = await lock_job(session, job_id)
    if job.status == JobStatus.PENDING_UPLOAD:
        raise InvalidTransition("The job was never confirmed.", job_status=job.status)
    if job.status != JobStatus.QUEUED:
        raise AlreadyDispatched(
            f"The job is {job.status}; acknowledge the message without a new Batch job.",
            job_status=job.status,
        )
    token = new_opaque_token()
    job.callback_token_hash = settings.keyring.hash(Purpose.CALLBACK_TOKEN, token)
    spec = JobSpec(
        job_id=job.id,
        account_id=job.account_id,
        plan=job.plan,
        input_uri=s3_uri(settings.s3_bucket, job.upload_key),
        output_prefix=s3_uri(settings.s3_bucket, output_prefix_key(job.id)),
        aspect_ratio=job.aspect_ratio,
        resolution=job.resolution,
        max_source_seconds=get_plan(job.plan).max_source_seconds,
        batch_queue="priority" if get_plan(job.plan).allows(Feature.PRIORITY_QUEUE) else "standard",
        callback_token=token,
        source_seconds=job.duration_seconds,
        render_split=(
            settings.render_split_threshold_seconds,
            settings.render_segment_seconds,
            settings.render_split_max_children,
        ),
    )
    await session.commit()
    return spec


def _claim_batch_job(job: Job, batch_job_id: str, *, conflict: str) -> bool:
    """Ties the locked job to `batch_job_id`: True when it already was (a repeated callback,
    or the other of submitted/started came first). Another Batch job's claim is refused
    with `conflict`: the job belongs to the first one reported."""
    if job.batch_job_id == batch_job_id:
        return True
    if job.batch_job_id is not None:
        raise BatchJobConflict(conflict, job_status=job.status)
    job.batch_job_id = batch_job_id
    return False


async def mark_submitted(
    session: AsyncSession, settings: Settings, job_id: uuid.UUID, batch_job_id: str
) -> Job:
    job = await lock_job(session, job_id)
    if _claim_batch_job(job, batch_job_id, conflict="The job was submitted as another Batch job."):
        return job  # a repeat, or the container's start came first
    await transition_job(
        session,
        settings,
        job,
        JobStatus.SUBMITTED,
        actor=Actor.DISPATCHER,
        reason=f"submitted as Batch job {batch_job_id}",
    )
    await session.commit()
    return job


async def start_job(
    session: AsyncSession, settings: Settings, job_id: uuid.UUID, batch_job_id: str
) -> Job:
    """submitted -> running. A second container for the same job gets 409 and exits."""
    job = await lock_job(session, job_id)
    _claim_batch_job(
        job, batch_job_id, conflict="The job belongs to another Batch job; exit without work."
    )
    if job.status == JobStatus.QUEUED:
        # The container started before the dispatcher reported the submission.
        await transition_job(
            session,
            settings,
            job,
            JobStatus.SUBMITTED,
            actor=Actor.CONTAINER,
            reason=f"Batch job {batch_job_id} started before its submission was reported",
        )
    await transition_job(
        session,
        settings,
        job,
        JobStatus.RUNNING,
        actor=Actor.CONTAINER,
        reason=f"started in Batch job {batch_job_id}",
    )
    job.heartbeat_at = utcnow()  # a repeated start is a sign of life too
    await session.commit()
    return job


async def report_progress(
    session: AsyncSession,
    job_id: uuid.UUID,
    stage: ProgressStage,
    percent: int,
    child: tuple[int, int] | None = None,
    *,
    handed_off: bool = False,
) -> Job:
    """Only while running (a canceled job answers 409: the container stops); never backwards.

    Every report, a repeat included, is the container's heartbeat: the sweeper fails a
    running job whose container stopped sending them. `child` (index, children): a child of
    a split render, whose percents add up with its siblings'; `handed_off`: its step is done
    and the next Batch job of the render may wait for capacity (the sweeper waits as long as
    for a submitted job) until a running container reports again.
    """
    job = await lock_job(session, job_id)
    if job.status != JobStatus.RUNNING:
        raise InvalidTransition(
            f"The job is {job.status}; progress is only taken while it runs.", job_status=job.status
        )
    job.heartbeat_at = utcnow()
    if child is not None:
        percent = _children_progress(job, child, percent)
    if awaits_batch(job.metrics) != handed_off:
        job.metrics = {**(job.metrics or {}), AWAITING_BATCH: handed_off}
    if progress_advances(job.stage, job.percent, stage, percent):
        job.stage = stage.value
        job.percent = percent
    await session.commit()
    return job


async def complete_job(
    session: AsyncSession,
    settings: Settings,
    job_id: uuid.UUID,
    outputs: dict[str, str],
    metrics: dict[str, Any],
) -> Job:
    for name in OUTPUT_NAMES:
        output_key(outputs[name], settings.s3_bucket, job_id)
    measured = _measured_duration(metrics)
    job = await lock_job(session, job_id)
    plan = get_plan(job.plan)
    if measured is not None and measured > plan.max_source_seconds:
        # The container should have refused this source at its probe; the API does not take
        # its word: a source over the plan's limit never succeeds, and is not charged.
        return await _refuse_source(
            session,
            settings,
            job,
            measured,
            f"the source is {measured:.0f} seconds long; the {plan.name.value} plan takes "
            f"sources up to {plan.max_source_seconds} seconds",
        )
    transition = await transition_job(
        session,
        settings,
        job,
        JobStatus.SUCCEEDED,
        actor=Actor.CONTAINER,
        reason="pipeline finished",
    )
    if transition.changed:
        job.outputs = {name: outputs[name] for name in OUTPUT_NAMES}
        job.metrics = metrics
        job.stage = ProgressStage.OUTPUTS.value
        job.percent = 100
        if measured is not None and job.usage_period is not None:
            # The measured duration replaces the customer's hint in the month it was counted.
            await add_usage(
                session,
                job.account_id,
                job.usage_period,
                source_seconds=measured - job.counted_source_seconds,
            )
            job.counted_source_seconds = measured
    await session.commit()
    return job


async def fail_job(
    session: AsyncSession,
    settings: Settings,
    job_id: uuid.UUID,
    code: FailureCode,
    message: str,
    duration_seconds: float | None = None,
) -> Job:
    job = await lock_job(session, job_id)
    if code == FailureCode.SOURCE_TOO_LONG:
        limit = get_plan(job.plan).max_source_seconds
        if duration_seconds is not None and duration_seconds > limit:
            return await _refuse_source(session, settings, job, duration_seconds, message)
        # A refund needs the measurement that earns it; without one this is the
        # container's fault, charged like any other failure.
        code = FailureCode.PIPELINE_ERROR
        message = (
            f"the container refused the source as too long without measuring it over the "
            f"plan's {limit} seconds: {message}"
        )
    await transition_to_failed(session, settings, job, code, message, actor=Actor.CONTAINER)
    await session.commit()
    return job


async def _refuse_source(
    session: AsyncSession,
    settings: Settings,
    job: Job,
    measured: float | None,
    message: str,
) -> Job:
    """Fail the locked job with source_too_long, in the tier_limit shape, and take back what
    its confirm counted: a refused job is not charged."""
    transition = await transition_to_failed(
        session, settings, job, FailureCode.SOURCE_TOO_LONG, message, actor=Actor.CONTAINER
    )
    if transition.changed:
        job.metrics = source_limit_details(settings.upgrade_url, get_plan(job.plan), measured)
        if job.usage_period is not None:
            await add_usage(
                session,
                job.account_id,
                job.usage_period,
                jobs=-1,
                source_seconds=-job.counted_source_seconds,
            )
            job.counted_source_seconds = 0.0
    await session.commit()
    return job


# Where a running split render keeps its children's percents, until complete replaces it.
CHILDREN_PROGRESS = "render_children"


def _children_progress(job: Job, child: tuple[int, int], percent: int) -> int:
    index, children = child
    metrics = dict(job.metrics or {})
    kept = metrics.get(CHILDREN_PROGRESS)
    if not isinstance(kept, dict) or kept.get("children") != children:
        kept = {"base": min(job.percent or 0, percent), "children": children, "percents": {}}
    percents = dict(kept["percents"])
    percents[str(index)] = max(percent, int(percents.get(str(index), 0)))
    metrics[CHILDREN_PROGRESS] = {**kept, "percents": percents}
    job.metrics = metrics  # a new value: the JSON column sees the change
    return children_percent(int(kept["base"]), percents, children)


def _measured_duration(metrics: dict[str, Any]) -> float | None:
    value = metrics.get("duration_seconds")
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValidationFailed(
            "metrics.duration_seconds must be a non-negative number of seconds.",
            field="metrics.duration_seconds",
        )
    return float(value)
