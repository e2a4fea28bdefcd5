from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, IdMixin, JSONType, TimestampMixin
from app.domain.clock import utcnow
from app.domain.webhook_deliveries import DeliveryStatus


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    """A customer's receiver URL and the event types it subscribes to.

    Signing secrets are sealed (`app.domain.secret_box`), never stored in the clear; after a
    rotation the previous one keeps signing until `previous_secret_expires_at`.
    """

    __tablename__ = "webhook_endpoints"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list[str]] = mapped_column(JSONType)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(32))
    disabled_at: Mapped[datetime | None]
    # Finished deliveries that failed since the last success (or re-enable).
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    secret_sealed: Mapped[str] = mapped_column(Text)
    previous_secret_sealed: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    secret_rotated_at: Mapped[datetime | None]


class WebhookEvent(IdMixin, Base):
    """One thing that happened, as sent: `payload` is the exact signed text of the envelope."""

    __tablename__ = "webhook_events"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    # Retention deletes by age (app.retention.rules).
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebhookDelivery(IdMixin, TimestampMixin, Base):
    """One event on its way to one endpoint; one SQS message carries it through its retries."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The sweeper's search for pending deliveries whose message is gone.
        Index(
            "ix_webhook_deliveries_pending_updated_at",
            "updated_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempt_count: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    event: Mapped[WebhookEvent] = relationship(lazy="raise")
    attempts: Mapped[list[WebhookAttempt]] = relationship(
        lazy="raise", order_by="WebhookAttempt.number", passive_deletes=True
    )

    @property
    def event_type(self) -> str:
        return self.event.type


class WebhookAttempt(IdMixin, Base):
    """One try at sending a delivery, as the customer's delivery log shows it."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    attempted_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None]
    latency_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
