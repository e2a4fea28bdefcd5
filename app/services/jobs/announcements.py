"""What a job's change of status tells the world, in the transaction that makes the change:
the transition counter, the customer's webhook event, and the owner's job-finished email."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Account, Job
from app.domain.job_states import JobStatus
from app.domain.webhook_events import WebhookEventType
from app.metrics import JOB_TRANSITIONS
from app.services.email.notifications import enqueue_job_finished_email
from app.services.webhooks.events import emit_event

EMAILED_STATES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})
WEBHOOK_EVENTS = {
    JobStatus.QUEUED: WebhookEventType.JOB_QUEUED,
    JobStatus.RUNNING: WebhookEventType.JOB_STARTED,
    JobStatus.SUCCEEDED: WebhookEventType.JOB_SUCCEEDED,
    JobStatus.FAILED: WebhookEventType.JOB_FAILED,
    JobStatus.CANCELED: WebhookEventType.JOB_CANCELED,
}


async def announce_transition(
    session: AsyncSession, settings: Settings, job: Job, target: JobStatus, reason: str | None
) -> None:
    JOB_TRANSITIONS.labels(state=target.value).inc()
    event_type = WEBHOOK_EVENTS.get(target)
    if event_type is not None:
        # A thin event: receivers GET the job for the rest (outputs, metrics, error).
        data = {"job_id": str(job.id), "status": target.value, "reason": reason}
        await emit_event(session, job.account_id, event_type.value, data)
    if target in EMAILED_STATES:
        account = await session.get(Account, job.account_id)
        if account is not None:
            enqueue_job_finished_email(
                session, account, job.id, target, settings=settings, reason=reason
            )
