"""Webhook endpoints: a URL, the event types it wants, and its signing secrets."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Account, WebhookDelivery, WebhookEndpoint
from app.domain.clock import utcnow
from app.domain.errors import InvalidWebhookUrl, NotFound, WebhookEndpointLimit
from app.domain.ids import new_id
from app.domain.keyring import Purpose
from app.domain.secret_box import is_current, seal, unseal
from app.domain.webhook_deliveries import DeliveryStatus
from app.domain.webhook_endpoints import MAX_ENDPOINTS_PER_ACCOUNT, DisabledReason
from app.domain.webhook_events import WebhookEventType
from app.services.email.notifications import enqueue_webhook_disabled_email
from contracts.ssrf import endpoint_url_problem
from contracts.webhook_signing import ROTATION_OVERLAP, active_secrets, new_webhook_secret

logger = logging.getLogger("app.webhooks")

# The label of the sealing key before the keyring (secrets sealed `v1.` still open with it).
LEGACY_SEALING_LABEL = "webhook-signing-secret"


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint and its new signing secret, which is shown this once."""

    endpoint: WebhookEndpoint
    secret: str


def _seal_secret(settings: Settings, endpoint_id: uuid.UUID, secret: str) -> str:
    return seal(settings.keyring, Purpose.WEBHOOK_SECRET_SEAL, secret, endpoint_id.bytes)


def _unseal_secret(settings: Settings, endpoint_id: uuid.UUID, sealed: str) -> str:
    return unseal(
        settings.keyring,
        Purpose.WEBHOOK_SECRET_SEAL,
        sealed,
        endpoint_id.bytes,
        legacy_label=LEGACY_SEALING_LABEL,
    )


def signing_secrets(settings: Settings, endpoint: WebhookEndpoint) -> list[str]:
    """The secrets that sign this endpoint's deliveries now (two during a rotation)."""
    current = _unseal_secret(settings, endpoint.id, endpoint.secret_sealed)
    previous = (
        _unseal_secret(settings, endpoint.id, endpoint.previous_secret_sealed)
        if endpoint.previous_secret_sealed
        else None
    )
    return active_secrets(current, previous, endpoint.previous_secret_expires_at, utcnow())


async def reseal_secrets(session: AsyncSession, settings: Settings) -> int:
    """Re-seals every signing secret not sealed under the current secret key (a step of
    rotating `secret_key`: afterwards the old key is no longer needed to read them).
    Returns how many endpoints changed; running it again changes none."""
    changed = 0
    endpoints = await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    for endpoint in endpoints:
        stale = not is_current(settings.keyring, endpoint.secret_sealed) or (
            endpoint.previous_secret_sealed is not None
            and not is_current(settings.keyring, endpoint.previous_secret_sealed)
        )
        if not stale:
            continue
        endpoint.secret_sealed = _seal_secret(
            settings, endpoint.id, _unseal_secret(settings, endpoint.id, endpoint.secret_sealed)
        )
        if endpoint.previous_secret_sealed is not None:
            endpoint.previous_secret_sealed = _seal_secret(
                settings,
                endpoint.id,
                _unseal_secret(settings, endpoint.id, endpoint.previous_secret_sealed),
            )
        changed += 1
    await session.commit()
    return changed


def _check_url(settings: Settings, url: str) -> None:
    problem = endpoint_url_problem(
        url,
        allow_private_targets=settings.webhook_allow_private_targets,
        require_https=settings.is_production,
    )
    if problem is not None:
        raise InvalidWebhookUrl(
            f"The webhook URL was refused: {problem}.",
            errors=[{"field": "url", "message": problem, "type": "invalid_webhook_url"}],
        )


def _event_type_values(event_types: Iterable[WebhookEventType]) -> list[str]:
    return sorted({t.value for t in event_types})


async def create_endpoint(
    session: AsyncSession,
    settings: Settings,
    account: Account,
    *,
    url: str,
    event_types: Iterable[WebhookEventType],
    description: str,
) -> EndpointWithSecret:
    _check_url(settings, url)
    count = await session.scalar(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.account_id == account.id)
    )
    if (count or 0) >= MAX_ENDPOINTS_PER_ACCOUNT:
        raise WebhookEndpointLimit(
            f"An account may have at most {MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints; "
            "delete one first.",
            limit=MAX_ENDPOINTS_PER_ACCOUNT,
        )
    endpoint_id = new_id()
    secret = new_webhook_secret()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        account_id=account.id,
        url=url,
        description=description,
        event_types=_event_type_values(event_types),
        enabled=True,
        consecutive_failures=0,
        secret_sealed=_seal_secret(settings, endpoint_id, secret),
    )
    session.add(endpoint)
    await session.commit()
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


async def list_endpoints(session: AsyncSession, account: Account) -> list[WebhookEndpoint]:
    result = await session.execute(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.account_id == account.id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list(result.scalars())


async def get_endpoint(
    session: AsyncSession, account_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    endpoint = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.account_id == account_id
        )
    )
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


async def update_endpoint(
    session: AsyncSession,
    account: Account,
    endpoint_id: uuid.UUID,
    *,
    event_types: Iterable[WebhookEventType] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Changes only what is given; re-enabling starts the failure count afresh."""
    endpoint = await get_endpoint(session, account.id, endpoint_id)
    if event_types is not None:
        endpoint.event_types = _event_type_values(event_types)
    if description is not None:
        endpoint.description = description
    if enabled is True and not endpoint.enabled:
        endpoint.enabled = True
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
        endpoint.consecutive_failures = 0
    elif enabled is False and endpoint.enabled:
        await disable_endpoint(session, endpoint, DisabledReason.MANUAL)
    await session.commit()
    return endpoint


async def delete_endpoint(session: AsyncSession, account: Account, endpoint_id: uuid.UUID) -> None:
    """Deletes the endpoint and its delivery log; messages still queued find nothing to send."""
    endpoint = await get_endpoint(session, account.id, endpoint_id)
    await session.delete(endpoint)
    await session.commit()


async def rotate_secret(
    session: AsyncSession, settings: Settings, account: Account, endpoint_id: uuid.UUID
) -> EndpointWithSecret:
    """A new current secret; the one it replaces keeps signing for `ROTATION_OVERLAP`.

    A second rotation within the overlap retires the oldest secret at once: at most two
    secrets ever sign.
    """
    endpoint = await get_endpoint(session, account.id, endpoint_id)
    now = utcnow()
    secret = new_webhook_secret()
    endpoint.previous_secret_sealed = endpoint.secret_sealed
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret_sealed = _seal_secret(settings, endpoint.id, secret)
    endpoint.secret_rotated_at = now
    await session.commit()
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


async def disable_endpoint(
    session: AsyncSession, endpoint: WebhookEndpoint, reason: DisabledReason
) -> None:
    """Switches the endpoint off and cancels what it had pending; the caller commits."""
    now = utcnow()
    endpoint.enabled = False
    endpoint.disabled_reason = reason.value
    endpoint.disabled_at = now
    await session.flush()  # a delivery the caller just finished must not be canceled below
    canceled = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.CANCELED.value, finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if reason is not DisabledReason.MANUAL:
        logger.warning(
            "webhook endpoint disabled",
            extra={
                "event": "webhook_endpoint_disabled",
                "endpoint_id": str(endpoint.id),
                "account_id": str(endpoint.account_id),
                "url": endpoint.url,
                "reason": reason.value,
                "consecutive_failures": endpoint.consecutive_failures,
                "canceled_deliveries": canceled.rowcount,  # type: ignore[attr-defined]
            },
        )


DISABLED_REASON_TEXT = {
    DisabledReason.GONE: "it answered 410 Gone, which asks senders to stop",
    DisabledReason.CONSECUTIVE_FAILURES: "its most recent deliveries all failed",
}


async def disable_endpoint_and_notify(
    session: AsyncSession, settings: Settings, endpoint: WebhookEndpoint, reason: DisabledReason
) -> None:
    """An automatic disable: the owner is told by email, in the same transaction."""
    await disable_endpoint(session, endpoint, reason)
    account = await session.get(Account, endpoint.account_id)
    if account is not None:
        enqueue_webhook_disabled_email(
            session, account, endpoint.url, DISABLED_REASON_TEXT[reason], settings=settings
        )
