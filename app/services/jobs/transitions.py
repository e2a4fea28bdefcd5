"""The single place where a job's status changes."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.locking import select_for_update
from app.db.models import Job, JobEvent
from app.domain.clock import utcnow
from app.domain.errors import NotFound
from app.domain.job_states import Actor, JobStatus, is_final, must_change
from app.domain.jobs import FailureCode
from app.services.jobs.announcements import announce_transition

logger = logging.getLogger("app.jobs")


@dataclass(frozen=True, slots=True)
class Transition:
    job: Job
    previous: JobStatus
    changed: bool


async def lock_job(
    session: AsyncSession, job_id: uuid.UUID, *, account_id: uuid.UUID | None = None
) -> Job:
    """The job row, locked until the transaction ends; scoped to `account_id` when given."""
    criteria = [Job.id == job_id]
    if account_id is not None:
        criteria.append(Job.account_id == account_id)
    job = await select_for_update(session, Job, *criteria)
    if job is None:
        raise NotFound("No such job.")
    return job


async def transition_job(
    session: AsyncSession,
    settings: Settings,
    job_id: uuid.UUID,
    target: JobStatus,
    *,
    actor: Actor,
    reason: str | None = None,
    account_id: uuid.UUID | None = None,
) -> Transition:
    """Moves the job to `target` with its row locked, recording a `job_events` row.

    Already in `target`: a no-op (`changed=False`). Not allowed by the table: `InvalidTransition`.
    The caller adds its own changes to the same transaction and commits.
    """
    job = await lock_job(session, job_id, account_id=account_id)
    previous = JobStatus(job.status)
    if not must_change(previous, target):
        return Transition(job=job, previous=previous, changed=False)
    now = utcnow()
    job.status = target.value
    job.updated_at = now
    job.status_changed_at = now
    if target is JobStatus.QUEUED:
        # Every way into queued sends the dispatcher a message (confirm, requeue).
        job.queued_at = job.queued_at or now
        job.dispatch_enqueued_at = now
        job.dispatch_attempts = 0
    elif target is JobStatus.RUNNING:
        job.started_at = now
    elif is_final(target):
        job.finished_at = now
    session.add(
        JobEvent(
            job_id=job.id,
            from_status=previous.value,
            to_status=target.value,
            actor=actor.value,
            reason=reason,
            created_at=now,
        )
    )
    await announce_transition(session, settings, job, target, reason)
    logger.info(
        "job status changed",
        extra={
            "job_id": str(job.id),
            "account_id": str(job.account_id),
            "from_status": previous.value,
            "to_status": target.value,
            "actor": actor.value,
        },
    )
    return Transition(job=job, previous=previous, changed=True)


async def transition_to_failed(
    session: AsyncSession,
    settings: Settings,
    job_id: uuid.UUID,
    code: FailureCode,
    message: str,
    *,
    actor: Actor,
) -> Transition:
    """`transition_job` to failed, with the failure's code and message on the job; a job
    already failed keeps the error it has. The caller commits."""
    transition = await transition_job(
        session, settings, job_id, JobStatus.FAILED, actor=actor, reason=f"failed: {code.value}"
    )
    if transition.changed:
        transition.job.error_code = code.value
        transition.job.error_message = message
    return transition
