"""What a job's change of status tells the world, in the transaction that makes the change:
the transition counter, the owner's job-finished email, and (from the webhooks feature) the
customer's webhook events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Account, Job
from app.domain.job_states import JobStatus
from app.metrics import JOB_TRANSITIONS
from app.services.email.notifications import enqueue_job_finished_email

EMAILED_STATES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})


async def announce_transition(
    session: AsyncSession, settings: Settings, job: Job, target: JobStatus, reason: str | None
) -> None:
    JOB_TRANSITIONS.labels(state=target.value).inc()
    if target in EMAILED_STATES:
        account = await session.get(Account, job.account_id)
        if account is not None:
            enqueue_job_finished_email(
                session, account, job.id, target, settings=settings, reason=reason
            )
