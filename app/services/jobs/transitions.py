"""The single place where a job's status changes, and where a job begins.

Every caller locks the row first (`lock_job`, once per transaction) and then hands the
locked `Job` to `transition_job` (or `transition_to_failed`), which applies the one policy
in `app.domain.job_states`, stamps the job, records the `job_events` row and announces the
change. A new job comes to exist through `insert_new_job`: its row in the initial status,
with its first event.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.locking import select_for_update
from app.db.models import Job, JobEvent
from app.domain.clock import utcnow
from app.domain.errors import NotFound
from app.domain.ids import new_id
from app.domain.job_states import INITIAL_STATUS, Actor, JobStatus, is_final, must_change
from app.domain.jobs import FailureCode
from app.services.jobs.announcements import announce_transition

logger = logging.getLogger("app.jobs")

_INSERT_JOB = insert(cast(Table, Job.__table__))
_INSERT_JOB_EVENT = insert(cast(Table, JobEvent.__table__))
CREATED_REASON = "job created"


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


def _event(
    job_id: uuid.UUID,
    previous: JobStatus | None,
    target: JobStatus,
    actor: Actor,
    reason: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "job_id": job_id,
        "from_status": previous.value if previous is not None else None,
        "to_status": target.value,
        "actor": actor.value,
        "reason": reason,
        "created_at": now,
    }


async def insert_new_job(session: AsyncSession, row: dict[str, Any], *, actor: Actor) -> Job:
    """Inserts a job (`row`: its columns but the status) in the initial status, with its first
    event, in the caller's transaction; returns it transient, to render a response from.

    Core inserts on the session's connection: on the busiest write path the ORM's unit of
    work and execute plumbing cost more than these two rows are worth, and nothing else in
    the session touches them.
    """
    row = {**row, "status": INITIAL_STATUS.value}
    connection = await session.connection()
    await connection.execute(_INSERT_JOB, row)
    await connection.execute(
        _INSERT_JOB_EVENT,
        _event(row["id"], None, INITIAL_STATUS, actor, CREATED_REASON, row["created_at"]),
    )
    return Job(**row)


async def transition_job(
    session: AsyncSession,
    settings: Settings,
    job: Job,
    target: JobStatus,
    *,
    actor: Actor,
    reason: str | None = None,
) -> Transition:
    """Moves `job`, whose row the caller has locked (`lock_job`), to `target`, recording a
    `job_events` row.

    Already in `target`: a no-op (`changed=False`). Not allowed by the table: `InvalidTransition`.
    The caller adds its own changes to the same transaction and commits.
    """
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
    session.add(JobEvent(**_event(job.id, previous, target, actor, reason, now)))
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
    job: Job,
    code: FailureCode,
    message: str,
    *,
    actor: Actor,
) -> Transition:
    """`transition_job` to failed, with the failure's code and message on the job; a job
    already failed keeps the error it has. The caller holds the row lock and commits."""
    transition = await transition_job(
        session, settings, job, JobStatus.FAILED, actor=actor, reason=f"failed: {code.value}"
    )
    if transition.changed:
        job.error_code = code.value
        job.error_message = message
    return transition
