"""Notices to the account's address: finished jobs (switchable), changed passwords, new API
keys and disabled webhook endpoints (always). Each adds to the caller's transaction; it commits."""

from __future__ import annotations

import uuid
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Account, ApiKey, OutboxMessage
from app.domain.clock import utcnow
from app.services.email import links
from app.services.email.rendering import EmailKind, render
from app.services.email.sending import queue_email

_KIND_BY_JOB_STATUS = {"succeeded": EmailKind.JOB_SUCCEEDED, "failed": EmailKind.JOB_FAILED}
NO_REASON = "no reason was given."


def enqueue_job_finished_email(
    session: AsyncSession,
    account: Account,
    job_id: uuid.UUID,
    status: str | Enum,
    *,
    settings: Settings,
    reason: str | None = None,
) -> OutboxMessage | None:
    """For a job that reached `succeeded` or `failed`; None when the owner switched these off."""
    status_value = str(status.value if isinstance(status, Enum) else status)
    kind = _KIND_BY_JOB_STATUS.get(status_value)
    if kind is None:
        raise ValueError(f"no job-finished email for status {status_value!r}")
    if not account.notify_on_job_done:
        return None
    return queue_email(
        session,
        account.email,
        render(
            kind,
            email=account.email,
            job_id=str(job_id),
            # UUIDv7 begins with the time: the random tail tells jobs apart in a subject line.
            short_job_id=job_id.hex[-8:],
            reason=reason or NO_REASON,
            job_link=links.job_link(settings, job_id),
            settings_link=links.settings_link(settings),
        ),
    )


def enqueue_webhook_disabled_email(
    session: AsyncSession, account: Account, endpoint_url: str, reason: str, *, settings: Settings
) -> OutboxMessage:
    return queue_email(
        session,
        account.email,
        render(
            EmailKind.WEBHOOK_DISABLED,
            email=account.email,
            endpoint_url=endpoint_url,
            reason=reason,
            webhooks_link=links.webhooks_link(settings),
        ),
    )


def enqueue_password_changed_email(
    session: AsyncSession, settings: Settings, account: Account
) -> OutboxMessage:
    return queue_email(
        session,
        account.email,
        render(
            EmailKind.PASSWORD_CHANGED,
            email=account.email,
            changed_at=utcnow().strftime("%Y-%m-%d %H:%M UTC"),
            reset_link=links.reset_password_link(settings),
        ),
    )


def enqueue_api_key_created_email(
    session: AsyncSession, settings: Settings, account: Account, key: ApiKey
) -> OutboxMessage:
    return queue_email(
        session,
        account.email,
        render(
            EmailKind.API_KEY_CREATED,
            email=account.email,
            key_name=key.name,
            key_prefix=key.prefix,
            scopes=", ".join(key.scopes),
            created_at=utcnow().strftime("%Y-%m-%d %H:%M UTC"),
            api_keys_link=links.api_keys_link(settings),
        ),
    )


async def set_job_notifications(session: AsyncSession, account: Account, enabled: bool) -> Account:
    account.notify_on_job_done = enabled
    await session.commit()
    return account
