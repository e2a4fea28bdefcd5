"""Starting a subscription (Stripe Checkout), managing it (the customer portal), reading it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.stripe_gateway import StripeGateway
from app.config import Settings
from app.db.models import Account
from app.domain.billing import plan_granted
from app.domain.errors import NextStep, NoBillingAccount, SubscriptionExists
from app.domain.plans import PlanName
from app.services.billing.customers import ensure_customer, find_for_account, stored_snapshot
from app.services.billing.prices import plans_by_price, price_of


@dataclass(frozen=True)
class SubscriptionView:
    plan: str
    subscribed_plan: str | None
    status: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool


def with_query(url: str, **params: str) -> str:
    """Adds query parameters to a URL, after any it has already."""
    parts = urlsplit(url)
    if parts.fragment.startswith("/"):
        # A hash route ("#/billing") reads its query string from the fragment.
        separator = "&" if "?" in parts.fragment else "?"
        return urlunsplit(parts._replace(fragment=parts.fragment + separator + urlencode(params)))
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    return urlunsplit(parts._replace(query=query))


async def start_checkout(
    session: AsyncSession,
    settings: Settings,
    gateway: StripeGateway,
    account: Account,
    plan: PlanName,
    request_key: str | None,
) -> str:
    """A Stripe Checkout URL for `plan`; the plan changes when Stripe confirms the payment."""
    account_id, email = account.id, account.email
    customer = await find_for_account(session, account_id)
    current = stored_snapshot(customer) if customer is not None else None
    if current is not None and current.entitled:
        raise SubscriptionExists(
            "The account already pays for a subscription.",
            next_step=NextStep.BILLING_PORTAL,
            subscription_status=current.status,
        )
    customer = await ensure_customer(session, gateway, account_id, email)
    stripe_customer_id = customer.stripe_customer_id
    await session.commit()  # hold no connection while Stripe answers
    # The caller's Idempotency-Key makes a retried request return the same session;
    # without one, every request is a new checkout (the library's retries reuse the key).
    idempotency_key = f"checkout-{account_id}-{plan.value}-{request_key or uuid.uuid4().hex}"
    return await gateway.create_checkout_session(
        customer_id=stripe_customer_id,
        price_id=price_of(settings, plan),
        account_id=str(account_id),
        success_url=with_query(settings.upgrade_url, checkout="success"),
        cancel_url=with_query(settings.upgrade_url, checkout="canceled"),
        idempotency_key=idempotency_key,
    )


async def open_portal(
    session: AsyncSession, settings: Settings, gateway: StripeGateway, account: Account
) -> str:
    """A Stripe customer-portal URL, where the customer changes plan, card, or cancels."""
    account_id = account.id
    customer = await find_for_account(session, account_id)
    if customer is None:
        raise NoBillingAccount(
            "There is no subscription to manage yet.", next_step=NextStep.BILLING_CHECKOUT
        )
    stripe_customer_id = customer.stripe_customer_id
    await session.commit()  # hold no connection while Stripe answers
    return await gateway.create_portal_session(
        customer_id=stripe_customer_id,
        return_url=settings.upgrade_url,
        idempotency_key=f"portal-{account_id}-{uuid.uuid4().hex}",
    )


async def get_subscription(
    session: AsyncSession, settings: Settings, account: Account
) -> SubscriptionView:
    """What the account pays for, as the last accepted Stripe event described it."""
    customer = await find_for_account(session, account.id)
    snapshot = stored_snapshot(customer) if customer is not None else None
    if snapshot is None:
        return SubscriptionView(
            plan=account.plan,
            subscribed_plan=None,
            status=None,
            current_period_end=None,
            cancel_at_period_end=False,
        )
    granted = plan_granted(snapshot, plans_by_price(settings))
    return SubscriptionView(
        plan=account.plan,
        subscribed_plan=granted.value if snapshot.entitled else None,
        status=snapshot.status,
        current_period_end=snapshot.current_period_end,
        cancel_at_period_end=snapshot.cancel_at_period_end,
    )
