"""An account's Stripe customer row, and the subscription snapshot stored on it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.stripe_gateway import StripeGateway
from app.db.models import BillingCustomer
from app.domain.billing import SubscriptionSnapshot


async def find_for_account(
    session: AsyncSession, account_id: uuid.UUID, *, for_update: bool = False
) -> BillingCustomer | None:
    query = select(BillingCustomer).where(BillingCustomer.account_id == account_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def find_by_stripe_id(
    session: AsyncSession, stripe_customer_id: str, *, for_update: bool = False
) -> BillingCustomer | None:
    query = select(BillingCustomer).where(BillingCustomer.stripe_customer_id == stripe_customer_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def ensure_customer(
    session: AsyncSession, gateway: StripeGateway, account_id: uuid.UUID, email: str
) -> BillingCustomer:
    """The account's Stripe customer, created on first need; commits."""
    existing = await find_for_account(session, account_id)
    if existing is not None:
        return existing
    await session.commit()  # hold no connection while Stripe answers
    # One key per account: concurrent first checkouts get the same Stripe customer.
    stripe_customer_id = await gateway.create_customer(
        account_id=str(account_id), email=email, idempotency_key=f"customer-{account_id}"
    )
    row = BillingCustomer(account_id=account_id, stripe_customer_id=stripe_customer_id)
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:  # a concurrent request stored it first
        await session.rollback()
        existing = await find_for_account(session, account_id)
        if existing is None:
            raise
        return existing
    return row


def stored_snapshot(row: BillingCustomer) -> SubscriptionSnapshot | None:
    if (
        row.subscription_id is None
        or row.subscription_status is None
        or row.subscription_created_at is None
        or row.subscription_as_of is None
    ):
        return None
    return SubscriptionSnapshot(
        id=row.subscription_id,
        customer_id=row.stripe_customer_id,
        status=row.subscription_status,
        price_ids=tuple(row.subscription_price_ids),
        created_at=row.subscription_created_at,
        current_period_start=row.current_period_start,
        current_period_end=row.current_period_end,
        cancel_at_period_end=row.cancel_at_period_end,
        as_of=row.subscription_as_of,
    )


def store_snapshot(row: BillingCustomer, snapshot: SubscriptionSnapshot) -> None:
    row.subscription_id = snapshot.id
    row.subscription_status = snapshot.status
    row.subscription_price_ids = list(snapshot.price_ids)
    row.subscription_created_at = snapshot.created_at
    row.current_period_start = snapshot.current_period_start
    row.current_period_end = snapshot.current_period_end
    row.cancel_at_period_end = snapshot.cancel_at_period_end
    row.subscription_as_of = snapshot.as_of
