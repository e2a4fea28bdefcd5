from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, JSONType, TimestampMixin
from app.domain.clock import utcnow

STRIPE_ID_LENGTH = 255


class BillingCustomer(IdMixin, TimestampMixin, Base):
    """An account's Stripe customer and the last subscription state we accepted for it.

    The subscription columns are the newest snapshot by the subscription's own timestamps
    (`subscription_as_of` is when Stripe recorded it), not by the order events arrived in.
    """

    __tablename__ = "billing_customers"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    stripe_customer_id: Mapped[str] = mapped_column(String(STRIPE_ID_LENGTH), unique=True)
    subscription_id: Mapped[str | None] = mapped_column(String(STRIPE_ID_LENGTH))
    subscription_status: Mapped[str | None] = mapped_column(String(32))
    # The price of each of the subscription's items (one in practice).
    subscription_price_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    subscription_created_at: Mapped[datetime | None]
    current_period_start: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    subscription_as_of: Mapped[datetime | None]


class StripeEvent(IdMixin, Base):
    """The webhook inbox: one row per Stripe event id, written with the change it caused,
    so a redelivered event finds its row and changes nothing."""

    __tablename__ = "stripe_events"

    stripe_event_id: Mapped[str] = mapped_column(String(STRIPE_ID_LENGTH), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    stripe_created_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # retention
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    # applied | stale | ignored: what the event did, for support and audits.
    outcome: Mapped[str] = mapped_column(String(16))
