"""Deliveries: the customer's delivery log and redelivery, and the delivery Lambda's side
(what to send, and what an attempt's result means for the delivery and its endpoint)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.config import Settings
from app.db.models import Account, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.domain.clock import utcnow
from app.domain.errors import (
    NotFound,
    ServiceUnavailable,
    StaleWebhookAttempt,
    WebhookDeliveryInProgress,
    WebhookEndpointDisabled,
)
from app.domain.secret_box import SealedSecretUnreadable
from app.domain.webhook_deliveries import (
    DeliveryStatus,
    NextStep,
    classify_attempt,
    decide,
    max_attempts,
)
from app.domain.webhook_endpoints import DisabledReason, should_auto_disable
from app.metrics import WEBHOOK_ATTEMPTS
from app.services.webhooks.endpoints import (
    disable_endpoint_and_notify,
    get_endpoint,
    signing_secrets,
)
from app.services.webhooks.events import queue_delivery

logger = logging.getLogger("app.webhooks")


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[WebhookDelivery]
    has_more: bool


async def list_deliveries(
    session: AsyncSession,
    account: Account,
    *,
    endpoint_id: uuid.UUID | None,
    status: DeliveryStatus | None,
    limit: int,
    starting_after: uuid.UUID | None,
) -> DeliveryPage:
    """Newest first; `starting_after` is the last id of the previous page (ids sort by time)."""
    if endpoint_id is not None:
        await get_endpoint(session, account.id, endpoint_id)  # another account's id is a 404
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.account_id == account.id)
        .options(
            selectinload(WebhookDelivery.attempts),
            selectinload(WebhookDelivery.event).load_only(WebhookEvent.type),
        )
        .order_by(WebhookDelivery.id.desc())
        .limit(limit + 1)
    )
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status.value)
    if starting_after is not None:
        query = query.where(WebhookDelivery.id < starting_after)
    rows = list((await session.scalars(query)).all())
    return DeliveryPage(deliveries=rows[:limit], has_more=len(rows) > limit)


async def redeliver(
    session: AsyncSession, account: Account, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Sends a finished delivery's event again, as a new delivery with the same webhook-id
    (receivers that deduplicate on it see a repeat, not a new event)."""
    original = await session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.account_id == account.id)
        .options(selectinload(WebhookDelivery.event))
    )
    if original is None:
        raise NotFound("No such webhook delivery.")
    if original.status == DeliveryStatus.PENDING.value:
        raise WebhookDeliveryInProgress(
            "This delivery is still being attempted; redeliver it once it has finished."
        )
    endpoint = await get_endpoint(session, account.id, original.endpoint_id)
    if not endpoint.enabled:
        raise WebhookEndpointDisabled("Enable the endpoint before redelivering to it.")
    delivery = queue_delivery(session, original.event, endpoint)
    try:
        await session.commit()
    except IntegrityError as exc:
        # The retention sweep deleted the event (and this delivery) since it was read.
        await session.rollback()
        raise NotFound("No such webhook delivery (its event has passed retention).") from exc
    return delivery


@dataclass(frozen=True)
class DeliveryToSend:
    """What the delivery Lambda needs for one attempt."""

    delivery_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    url: str
    payload: str
    secrets: list[str]
    attempt_count: int
    max_attempts: int
    deliverable: bool
    # Why not, when not deliverable: the delivery's final status, or "endpoint_disabled".
    reason: str | None
    require_https: bool


async def delivery_with_event_and_endpoint(
    session: AsyncSession, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, WebhookEvent, WebhookEndpoint] | None:
    """The delivery with what it sends and where; None once its endpoint or event is gone."""
    row = (
        await session.execute(
            select(WebhookDelivery, WebhookEvent, WebhookEndpoint)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id == delivery_id)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


async def delivery_to_send(
    session: AsyncSession, settings: Settings, delivery_id: uuid.UUID
) -> DeliveryToSend:
    found = await delivery_with_event_and_endpoint(session, delivery_id)
    if found is None:
        raise NotFound("No such webhook delivery (its endpoint may have been deleted).")
    delivery, event, endpoint = found
    reason: str | None = None
    if delivery.status != DeliveryStatus.PENDING.value:
        reason = delivery.status
    elif not endpoint.enabled:
        reason = "endpoint_disabled"
    secrets: list[str] = []
    if reason is None:
        try:
            secrets = signing_secrets(settings, endpoint)
        except SealedSecretUnreadable as exc:
            logger.error("webhook secret unreadable", extra={"endpoint_id": str(endpoint.id)})
            raise ServiceUnavailable(
                "The endpoint's signing secret cannot be opened with the current secret key."
            ) from exc
    return DeliveryToSend(
        delivery_id=delivery.id,
        event_id=event.id,
        event_type=event.type,
        url=endpoint.url,
        payload=event.payload,
        secrets=secrets,
        attempt_count=delivery.attempt_count,
        max_attempts=max_attempts(settings.webhook_retry_schedule_seconds),
        deliverable=reason is None,
        reason=reason,
        require_https=settings.is_production,
    )


@dataclass(frozen=True)
class AttemptReport:
    attempt: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int | None
    error: str | None
    refused_reason: str | None


@dataclass(frozen=True)
class AttemptResult:
    next: NextStep
    delivery_status: DeliveryStatus
    retry_after_seconds: int | None
    # The schedule ran out: the Lambda moves the message to the dead-letter queue.
    dead_letter: bool
    endpoint_disabled: bool


async def record_attempt(
    session: AsyncSession, settings: Settings, delivery_id: uuid.UUID, report: AttemptReport
) -> AttemptResult:
    """Logs the attempt and moves the delivery on: delivered, retried later, or failed.

    Only the next attempt of a pending delivery counts: a duplicate SQS message or a report
    racing a disable gets `StaleWebhookAttempt`, and its sender drops the message.
    """
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("No such webhook delivery.")
    now = utcnow()
    claimed = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
            WebhookDelivery.attempt_count == report.attempt - 1,
        )
        .values(attempt_count=report.attempt, updated_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise StaleWebhookAttempt(
            f"Attempt {report.attempt} does not follow the delivery's recorded attempts, "
            "or the delivery has finished.",
        )
    outcome = classify_attempt(report.status_code, report.refused_reason)
    WEBHOOK_ATTEMPTS.labels(result=outcome.value).inc()
    session.add(
        WebhookAttempt(
            delivery_id=delivery_id,
            number=report.attempt,
            attempted_at=report.attempted_at,
            outcome=outcome.value,
            status_code=report.status_code,
            latency_ms=report.latency_ms,
            error=report.refused_reason or report.error,
        )
    )
    decision = decide(report.attempt, outcome, settings.webhook_retry_schedule_seconds)
    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None  # the foreign key cascades deletes
    endpoint_disabled = False
    if decision.next is NextStep.RETRY:
        assert decision.retry_after_seconds is not None
        delivery.next_attempt_at = now + timedelta(seconds=decision.retry_after_seconds)
    elif decision.next is NextStep.DELIVERED:
        _finish(delivery, DeliveryStatus.DELIVERED, now)
        endpoint.consecutive_failures = 0
    elif decision.next is NextStep.ENDPOINT_DISABLED:
        _finish(delivery, DeliveryStatus.FAILED, now)
        await disable_endpoint_and_notify(session, settings, endpoint, DisabledReason.GONE)
        endpoint_disabled = True
    else:
        _finish(delivery, DeliveryStatus.FAILED, now)
        endpoint_disabled = await _count_failure(session, settings, endpoint)
    await session.commit()
    return AttemptResult(
        next=decision.next,
        delivery_status=DeliveryStatus(delivery.status),
        retry_after_seconds=decision.retry_after_seconds,
        dead_letter=decision.retries_exhausted,
        endpoint_disabled=endpoint_disabled,
    )


def _finish(delivery: WebhookDelivery, status: DeliveryStatus, now: datetime) -> None:
    delivery.status = status.value
    delivery.finished_at = now
    delivery.next_attempt_at = None


async def _count_failure(
    session: AsyncSession, settings: Settings, endpoint: WebhookEndpoint
) -> bool:
    """Counts a failed delivery against the endpoint; returns whether that disabled it."""
    # One atomic increment: concurrent failures must not overwrite each other's count.
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id)
        .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(endpoint, ["consecutive_failures", "enabled"])
    threshold = settings.webhook_disable_after_consecutive_failures
    if endpoint.enabled and should_auto_disable(endpoint.consecutive_failures, threshold):
        await disable_endpoint_and_notify(
            session, settings, endpoint, DisabledReason.CONSECUTIVE_FAILURES
        )
        return True
    return False
