"""The Stripe webhook inbox: each verified event is recorded once, with the change it causes.

The inbox row (unique on Stripe's event id) and the plan change commit in one transaction,
so a redelivered event finds its row and does nothing, and a failure leaves no row behind
for Stripe's retry to trip over. Events that carry no subscription (checkout completions,
invoices) are resolved by fetching the subscription from Stripe before the transaction.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.stripe_gateway import StripeGateway, verify_webhook
from app.config import Settings
from app.db.models import Account, BillingCustomer, StripeEvent
from app.domain.billing import (
    MalformedStripeObject,
    StripeEventEnvelope,
    SubscriptionSnapshot,
    invoice_customer_id,
    invoice_subscription_id,
    parse_checkout_session,
    parse_event,
    parse_subscription,
    plan_granted,
    supersedes,
)
from app.domain.errors import InvalidWebhookPayload, ServiceUnavailable
from app.services.accounts import change_plan
from app.services.billing.customers import (
    find_by_stripe_id,
    find_for_account,
    store_snapshot,
    stored_snapshot,
)
from app.services.billing.prices import plans_by_price

logger = logging.getLogger("app.billing")

SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_failed"})
CHECKOUT_COMPLETED = "checkout.session.completed"
WRITE_ATTEMPTS = 2


class EventOutcome(StrEnum):
    APPLIED = "applied"  # the subscription state (and maybe the plan) moved
    STALE = "stale"  # older than what is stored: recorded, changed nothing
    IGNORED = "ignored"  # not about a subscription of ours
    DUPLICATE = "duplicate"  # seen before: nothing recorded, nothing changed


@dataclass(frozen=True)
class _Resolved:
    """What an event says, once any missing subscription has been fetched."""

    customer_id: str | None
    account_reference: str | None
    snapshot: SubscriptionSnapshot | None


def verify_event(settings: Settings, payload: bytes, signature: str | None) -> StripeEventEnvelope:
    """The event, if Stripe signed it recently with our endpoint's secret; otherwise a 400."""
    data = verify_webhook(
        payload,
        signature,
        settings.stripe_webhook_secret,
        settings.stripe_webhook_tolerance_seconds,
    )
    try:
        return parse_event(data)
    except MalformedStripeObject as exc:
        raise InvalidWebhookPayload(f"Not a Stripe event: {exc}.") from exc


async def _fetch(
    gateway: StripeGateway, subscription_id: str, event: StripeEventEnvelope
) -> SubscriptionSnapshot | None:
    found = await gateway.retrieve_subscription(subscription_id)
    # Stamped with the event's time, like every snapshot: all recency is on Stripe's clock.
    return parse_subscription(found, as_of=event.created_at) if found is not None else None


async def _resolve(gateway: StripeGateway, event: StripeEventEnvelope) -> _Resolved:
    if event.type in SUBSCRIPTION_EVENTS:
        carried = parse_subscription(event.object, as_of=event.created_at)
        return _Resolved(carried.customer_id, carried.account_reference, carried)
    if event.type == CHECKOUT_COMPLETED:
        completion = parse_checkout_session(event.object)
        if completion.mode != "subscription" or completion.subscription_id is None:
            return _Resolved(completion.customer_id, completion.account_reference, None)
        snapshot = await _fetch(gateway, completion.subscription_id, event)
        return _Resolved(
            completion.customer_id or (snapshot.customer_id if snapshot else None),
            completion.account_reference,
            snapshot,
        )
    if event.type in INVOICE_EVENTS:
        subscription_id = invoice_subscription_id(event.object)
        billed = await _fetch(gateway, subscription_id, event) if subscription_id else None
        return _Resolved(invoice_customer_id(event.object), None, billed)
    return _Resolved(None, None, None)


async def _already_recorded(session: AsyncSession, stripe_event_id: str) -> bool:
    found = await session.execute(
        select(StripeEvent.id).where(StripeEvent.stripe_event_id == stripe_event_id)
    )
    return found.first() is not None


async def _customer_for(
    session: AsyncSession, resolved: _Resolved
) -> tuple[BillingCustomer | None, Account | None]:
    """The billing row (locked) and account an event is about. A customer Stripe made on its
    own (a payment link, the dashboard) is linked when the event carries our account id."""
    if resolved.customer_id is None:
        return None, None
    customer = await find_by_stripe_id(session, resolved.customer_id, for_update=True)
    if customer is not None:
        return customer, await session.get(Account, customer.account_id)
    account_reference = resolved.account_reference or (
        resolved.snapshot.account_reference if resolved.snapshot else None
    )
    try:
        account_id = uuid.UUID(account_reference) if account_reference else None
    except ValueError:
        return None, None
    account = await session.get(Account, account_id) if account_id else None
    if account is None:
        return None, None
    customer = await find_for_account(session, account.id, for_update=True)
    if customer is None:
        customer = BillingCustomer(account_id=account.id, stripe_customer_id=resolved.customer_id)
        session.add(customer)
    elif customer.stripe_customer_id != resolved.customer_id:
        # The account already has another Stripe customer: not a subscription we sold.
        return None, None
    return customer, account


async def _record(
    session: AsyncSession, settings: Settings, event: StripeEventEnvelope, resolved: _Resolved
) -> EventOutcome:
    customer, account = await _customer_for(session, resolved)
    outcome = EventOutcome.IGNORED
    if customer is not None and account is not None and resolved.snapshot is not None:
        if supersedes(stored_snapshot(customer), resolved.snapshot):
            store_snapshot(customer, resolved.snapshot)
            previous = account.plan
            change_plan(account, plan_granted(resolved.snapshot, plans_by_price(settings)))
            outcome = EventOutcome.APPLIED
            logger.info(
                "subscription changed",
                extra={
                    "stripe_event": event.id,
                    "event_type": event.type,
                    "account_id": str(account.id),
                    "subscription_status": resolved.snapshot.status,
                    "plan_before": previous,
                    "plan_after": account.plan,
                },
            )
        else:
            outcome = EventOutcome.STALE
    session.add(
        StripeEvent(
            stripe_event_id=event.id,
            type=event.type,
            stripe_created_at=event.created_at,
            account_id=account.id if account is not None else None,
            outcome=outcome.value,
        )
    )
    await session.commit()
    return outcome


async def handle_event(
    session: AsyncSession, settings: Settings, gateway: StripeGateway, event: StripeEventEnvelope
) -> EventOutcome:
    """Records the event and applies it, once; commits."""
    if await _already_recorded(session, event.id):
        return EventOutcome.DUPLICATE
    await session.commit()  # hold no connection while Stripe answers
    try:
        resolved = await _resolve(gateway, event)
    except MalformedStripeObject as exc:
        raise InvalidWebhookPayload(f"The {event.type} event is not understood: {exc}.") from exc
    for _ in range(WRITE_ATTEMPTS):
        try:
            return await _record(session, settings, event, resolved)
        except IntegrityError:
            await session.rollback()
            if await _already_recorded(session, event.id):  # delivered twice at once
                return EventOutcome.DUPLICATE
            # Otherwise a concurrent request linked the same customer first: read it again.
    raise ServiceUnavailable("The event collided with concurrent changes; send it again.")
