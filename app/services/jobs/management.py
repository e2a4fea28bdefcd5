"""Changes a customer or an operator asks for: cancel, requeue."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Job
from app.domain.clock import utcnow
from app.domain.errors import InvalidTransition
from app.domain.job_states import ACTIVE_STATES, Actor, JobStatus
from app.outbox.messages import Destination, enqueue
from app.services.jobs.confirmation import job_message
from app.services.jobs.transitions import lock_job, transition_job


async def cancel_job(
    session: AsyncSession, settings: Settings, account_id: uuid.UUID, job_id: uuid.UUID
) -> Job:
    """Canceled jobs stay canceled; a running container learns it on its next callback (409)."""
    job = await lock_job(session, job_id, account_id=account_id)
    await transition_job(
        session,
        settings,
        job,
        JobStatus.CANCELED,
        actor=Actor.CUSTOMER,
        reason="canceled by the customer",
    )
    await session.commit()
    return job


async def requeue_job(
    session: AsyncSession, settings: Settings, job_id: uuid.UUID, *, reason: str
) -> Job:
    """Sends a confirmed, unfinished job to the dispatcher again (its Batch job was lost, or
    its message went to the dead-letter queue). The old container's token stops working."""
    job = await lock_job(session, job_id)
    if JobStatus(job.status) not in ACTIVE_STATES:
        raise InvalidTransition(
            f"Only queued, submitted or running jobs can be requeued; this one is {job.status}.",
            job_status=job.status,
        )
    await transition_job(
        session, settings, job, JobStatus.QUEUED, actor=Actor.OPERATOR, reason=reason
    )
    job.batch_job_id = None
    job.callback_token_hash = None
    job.stage = None
    job.percent = None
    job.requeue_count += 1
    # A fresh round of dispatch attempts, also for a job that was queued already.
    job.dispatch_enqueued_at = utcnow()
    job.dispatch_attempts = 0
    enqueue(
        session,
        Destination.JOBS,
        job_message(job),
        group_id=str(job.account_id),
        # Not the job id: FIFO would drop a second message with it for five minutes.
        dedup_id=f"{job.id}:requeue:{job.requeue_count}",
    )
    await session.commit()
    return job
