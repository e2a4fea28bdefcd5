"""Housekeeping the sweeper runs on jobs: expire uploads never confirmed, send stuck queued
jobs to the dispatcher again (then fail them), fail jobs whose container was lost."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.models import Job
from app.domain.errors import InvalidTransition
from app.domain.job_dispatch import DispatchLimits, QueuedStep, queued_step, redispatch_dedup_id
from app.domain.job_liveness import LivenessLimits, awaits_batch, is_lost
from app.domain.job_states import Actor, JobStatus
from app.domain.jobs import FailureCode
from app.outbox.messages import Destination, enqueue
from app.services.jobs.confirmation import job_message
from app.services.jobs.transitions import lock_job, transition_job, transition_to_failed

EXPIRE_BATCH = 100

logger = logging.getLogger("app.sweeper")


async def expire_stale_uploads(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """Jobs still waiting for their upload past the URL's expiry and the grace -> expired
    (the same deadline confirm enforces).

    One transaction per job: a confirm racing the sweeper waits on the row lock, and
    whichever comes second sees the other's outcome.
    """
    deadline = now - timedelta(seconds=settings.upload_confirm_grace_seconds)
    expired = 0
    while True:
        async with sessionmaker() as session:
            stale = list(
                (
                    await session.scalars(
                        select(Job.id)
                        .where(
                            Job.status == JobStatus.PENDING_UPLOAD.value,
                            Job.upload_expires_at < deadline,
                        )
                        .order_by(Job.upload_expires_at)
                        .limit(EXPIRE_BATCH)
                    )
                ).all()
            )
        for job_id in stale:
            async with sessionmaker() as session:
                try:
                    job = await lock_job(session, job_id)
                    transition = await transition_job(
                        session,
                        settings,
                        job,
                        JobStatus.EXPIRED,
                        actor=Actor.SWEEPER,
                        reason="the upload was never confirmed",
                    )
                except InvalidTransition:
                    continue  # confirmed or canceled meanwhile
                await session.commit()
                expired += int(transition.changed)
        if len(stale) < EXPIRE_BATCH:
            return expired


def liveness_limits(settings: Settings) -> LivenessLimits:
    return LivenessLimits(
        running_timeout=timedelta(seconds=settings.job_heartbeat_timeout_seconds),
        submitted_timeout=timedelta(seconds=settings.job_submitted_timeout_seconds),
    )


async def fail_lost_jobs(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """Running jobs whose container went silent, and submitted jobs Batch never started ->
    failed with `container_lost` (retryable).

    The candidates are read without a lock; each is then locked and judged again on what the
    row says now, so a job that just finished, was canceled, or whose container just
    reported is left as it is.
    """
    limits = liveness_limits(settings)
    failed = 0
    judged: set[uuid.UUID] = set()
    while True:
        async with sessionmaker() as session:
            candidates = await _lost_job_ids(session, limits, now, exclude=judged)
        for job_id in candidates:
            judged.add(job_id)
            async with sessionmaker() as session:
                failed += await _fail_if_still_lost(session, settings, job_id, limits, now)
        if len(candidates) < EXPIRE_BATCH:
            return failed


async def _lost_job_ids(
    session: AsyncSession, limits: LivenessLimits, now: datetime, *, exclude: set[uuid.UUID]
) -> list[uuid.UUID]:
    running_deadline = now - limits.running_timeout
    submitted_deadline = now - limits.submitted_timeout
    query = (
        select(Job.id)
        .where(
            or_(
                and_(
                    Job.status == JobStatus.RUNNING.value,
                    # The same order as last_sign_of_life.
                    func.coalesce(Job.heartbeat_at, Job.started_at, Job.updated_at)
                    < running_deadline,
                ),
                and_(Job.status == JobStatus.SUBMITTED.value, Job.updated_at < submitted_deadline),
            )
        )
        .order_by(Job.id)
        .limit(EXPIRE_BATCH)
    )
    if exclude:
        query = query.where(Job.id.not_in(exclude))
    return list((await session.scalars(query)).all())


async def _fail_if_still_lost(
    session: AsyncSession,
    settings: Settings,
    job_id: uuid.UUID,
    limits: LivenessLimits,
    now: datetime,
) -> int:
    job = await lock_job(session, job_id)
    status = JobStatus(job.status)
    awaiting_batch = awaits_batch(job.metrics)
    if not is_lost(
        status,
        heartbeat_at=job.heartbeat_at,
        started_at=job.started_at,
        updated_at=job.updated_at,
        limits=limits,
        now=now,
        awaiting_batch=awaiting_batch,
    ):
        await session.rollback()
        return 0
    silence = limits.silence_allowed(status, awaiting_batch=awaiting_batch)
    assert silence is not None  # is_lost holds only for running and submitted jobs
    message = (
        f"The container stopped reporting for more than {int(silence.total_seconds())} s "
        "(killed or its host was lost); submit the job again."
        if limits.owes_heartbeats(status, awaiting_batch=awaiting_batch)
        else f"The Batch job did not start within {int(silence.total_seconds())} s; "
        "submit the job again."
    )
    # Both running and submitted jobs may fail.
    transition = await transition_to_failed(
        session, settings, job, FailureCode.CONTAINER_LOST, message, actor=Actor.SWEEPER
    )
    await session.commit()
    return int(transition.changed)


@dataclass(frozen=True, slots=True)
class QueuedRecovery:
    redispatched: int
    failed: int


def dispatch_limits(settings: Settings) -> DispatchLimits:
    return DispatchLimits(
        timeout=timedelta(seconds=settings.job_queued_timeout_seconds),
        max_attempts=settings.job_dispatch_attempts,
    )


async def recover_queued_jobs(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> QueuedRecovery:
    """Queued jobs nothing took to Batch within the timeout of their latest message: enqueued
    again through the outbox (a new deduplication id each time), at most
    `job_dispatch_attempts` times; then failed as `dispatch_failed` (retryable).

    Candidates are read without a lock; each is locked and judged again, so a job the
    dispatcher submitted, or a customer canceled, meanwhile is left as it is.
    """
    limits = dispatch_limits(settings)
    redispatched = failed = 0
    judged: set[uuid.UUID] = set()
    while True:
        async with sessionmaker() as session:
            query = (
                select(Job.id)
                .where(
                    Job.status == JobStatus.QUEUED.value,
                    Job.dispatch_enqueued_at < now - limits.timeout,
                )
                .order_by(Job.id)
                .limit(EXPIRE_BATCH)
            )
            if judged:
                query = query.where(Job.id.not_in(judged))
            candidates = list((await session.scalars(query)).all())
        for job_id in candidates:
            judged.add(job_id)
            async with sessionmaker() as session:
                step = await _recover_if_still_stuck(session, settings, job_id, limits, now)
            redispatched += int(step is QueuedStep.REDISPATCH)
            failed += int(step is QueuedStep.FAIL)
        if len(candidates) < EXPIRE_BATCH:
            return QueuedRecovery(redispatched=redispatched, failed=failed)


async def _recover_if_still_stuck(
    session: AsyncSession,
    settings: Settings,
    job_id: uuid.UUID,
    limits: DispatchLimits,
    now: datetime,
) -> QueuedStep:
    job = await lock_job(session, job_id)
    if job.status != JobStatus.QUEUED or job.dispatch_enqueued_at is None:
        await session.rollback()
        return QueuedStep.WAIT
    step = queued_step(
        enqueued_at=job.dispatch_enqueued_at,
        attempts=job.dispatch_attempts,
        limits=limits,
        now=now,
    )
    if step is QueuedStep.WAIT:
        await session.rollback()
        return step
    waited = int(limits.timeout.total_seconds())
    if step is QueuedStep.REDISPATCH:
        job.dispatch_attempts += 1
        job.dispatch_enqueued_at = now
        enqueue(
            session,
            Destination.JOBS,
            job_message(job),
            group_id=str(job.account_id),
            dedup_id=redispatch_dedup_id(job.id, job.requeue_count, job.dispatch_attempts),
        )
        logger.warning(
            "queued job sent to the dispatcher again",
            extra={
                "job_id": str(job.id),
                "account_id": str(job.account_id),
                "attempt": job.dispatch_attempts,
                "waited_seconds": waited,
            },
        )
        await session.commit()
        return step
    message = (
        f"The job could not be handed to Batch: it stayed queued through "
        f"{job.dispatch_attempts + 1} dispatch attempts, {waited} s each; submit it again."
    )
    await transition_to_failed(
        session, settings, job, FailureCode.DISPATCH_FAILED, message, actor=Actor.SWEEPER
    )
    await session.commit()
    return step
