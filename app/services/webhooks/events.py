"""Events and their fan-out: one delivery, and one outbox message, per subscribed endpoint."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Account, WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.domain.clock import utcnow
from app.domain.errors import WebhookEndpointDisabled
from app.domain.ids import new_id
from app.domain.plans import Feature, get_plan
from app.domain.webhook_deliveries import DeliveryStatus
from app.domain.webhook_events import WebhookEventType, event_envelope, format_timestamp
from app.outbox.messages import Destination, enqueue
from app.services.webhooks.endpoints import get_endpoint
from contracts.webhooks import DeliveryMessage


def record_event(
    session: AsyncSession, account_id: uuid.UUID, event_type: WebhookEventType, data: dict[str, Any]
) -> WebhookEvent:
    event_id = new_id()
    created_at = utcnow()
    event = WebhookEvent(
        id=event_id,
        account_id=account_id,
        type=event_type.value,
        payload=event_envelope(event_id, event_type, created_at, data),
        created_at=created_at,
    )
    session.add(event)
    return event


def queue_delivery(
    session: AsyncSession, event: WebhookEvent, endpoint: WebhookEndpoint
) -> WebhookDelivery:
    """A pending delivery and the outbox message that will carry it to the webhooks queue."""
    delivery = WebhookDelivery(
        id=new_id(),
        account_id=endpoint.account_id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        status=DeliveryStatus.PENDING.value,
        attempt_count=0,
    )
    # Loaded relationships, so the new delivery can be shown without another query.
    delivery.event = event
    delivery.attempts = []
    session.add(delivery)
    enqueue(
        session,
        Destination.WEBHOOKS,
        DeliveryMessage(delivery_id=delivery.id).model_dump(mode="json"),
    )
    return delivery


async def emit_event(
    session: AsyncSession, account_id: uuid.UUID, event_type: str, data: dict[str, Any]
) -> None:
    """Records `event_type` for the account and queues it to each enabled endpoint subscribed
    to it, inside the caller's transaction: the caller commits (or rolls back) with its own
    state change. An account whose plan lacks webhooks, or with no subscriber, gets nothing.
    """
    kind = WebhookEventType(event_type)  # an unknown type is a programming error
    account = await session.get(Account, account_id)
    if account is None or not get_plan(account.plan).allows(Feature.WEBHOOKS):
        return
    endpoints = (
        await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.account_id == account_id, WebhookEndpoint.enabled.is_(True))
            .order_by(WebhookEndpoint.id)
        )
    ).all()
    subscribers = [e for e in endpoints if kind.value in e.event_types]
    if not subscribers:
        return
    event = record_event(session, account_id, kind, data)
    for endpoint in subscribers:
        queue_delivery(session, event, endpoint)


async def send_test_event(
    session: AsyncSession, account: Account, endpoint_id: uuid.UUID
) -> WebhookDelivery:
    """A `webhook.test` event to this one endpoint, through the same queue as real events."""
    endpoint = await get_endpoint(session, account.id, endpoint_id)
    if not endpoint.enabled:
        raise WebhookEndpointDisabled("Enable the endpoint before sending it a test event.")
    event = record_event(
        session,
        account.id,
        WebhookEventType.WEBHOOK_TEST,
        {"endpoint_id": endpoint.id, "sent_at": format_timestamp(utcnow())},
    )
    delivery = queue_delivery(session, event, endpoint)
    await session.commit()
    return delivery
