"""Every retention rule: rows whose purpose is over are deleted, so no table grows without bound.

The sweeper (`app.sweeper`) runs `prune` each round; the outbox relay runs `prune_sent_outbox`
about hourly. What goes, and why it is no longer needed:

- an idempotency key once it expired (`idempotency_key_ttl_seconds`, at least 24 hours):
  a retry that late is a new request.
- a webhook event, with its deliveries and their attempts (ON DELETE CASCADE), once every
  delivery finished more than `webhook_event_retention_days` ago: the customer's delivery log
  keeps that long (Stripe and Svix keep about 30 days). An event with a delivery still
  pending or retrying stays, however old.
- an emailed link `email_token_retention_days` after it expired (used links expire too, within
  a day): by then it only ever answers "expired", and the resend throttle looks back one hour.
- a refresh token `refresh_token_retention_days` after it expired or was revoked: either way it
  opens nothing. A rotated token that has not expired stays: presenting it again is how a
  stolen token is detected (it revokes its whole family).
- a Stripe event id `stripe_event_retention_days` after it arrived. Stripe retries for up to
  3 days, and an older event that comes again changes nothing: subscriptions are ordered by
  Stripe's own timestamps, so it is recorded as stale.
- an outbox message `OUTBOX_SENT_RETENTION` after it was sent (by `ix_outbox_messages_pending`);
  unsent ones stay, however old.

Job events are kept: they are the job's history the customer reads, a handful of rows per job,
and they go with their job.

Each kind goes through `batched_delete`: small batches, each its own short
transaction, a bounded number per round, shared safely between replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, or_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.models import (
    EmailToken,
    IdempotencyKey,
    OutboxMessage,
    RefreshToken,
    StripeEvent,
    WebhookDelivery,
    WebhookEvent,
)
from app.domain.webhook_deliveries import DeliveryStatus
from app.retention.batched_delete import delete_in_batches

OUTBOX_SENT_RETENTION = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class PruneResult:
    idempotency_keys: int
    webhook_events: int
    email_tokens: int
    refresh_tokens: int
    stripe_events: int


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> PruneResult:
    """The sweeper's round: deletes what each kind's retention lets go of; counts the rows."""
    batch = settings.retention_batch_size
    return PruneResult(
        # Index-backed: `ix_idempotency_keys_expires_at`.
        idempotency_keys=await delete_in_batches(
            sessionmaker, IdempotencyKey, IdempotencyKey.expires_at <= now, batch
        ),
        webhook_events=await delete_in_batches(
            sessionmaker,
            WebhookEvent,
            _finished_webhook_events(now - timedelta(days=settings.webhook_event_retention_days)),
            batch,
        ),
        email_tokens=await delete_in_batches(
            sessionmaker,
            EmailToken,
            EmailToken.expires_at < now - timedelta(days=settings.email_token_retention_days),
            batch,
        ),
        refresh_tokens=await _delete_dead_refresh_tokens(
            sessionmaker, now - timedelta(days=settings.refresh_token_retention_days), batch
        ),
        stripe_events=await delete_in_batches(
            sessionmaker,
            StripeEvent,
            StripeEvent.received_at < now - timedelta(days=settings.stripe_event_retention_days),
            batch,
        ),
    )


def _finished_webhook_events(cutoff: datetime) -> ColumnElement[bool]:
    # A delivery of an old event may have finished only lately (retries run for days):
    # the event goes when its last delivery has been finished for the whole retention.
    still_needed = exists().where(
        WebhookDelivery.event_id == WebhookEvent.id,
        or_(
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
            WebhookDelivery.finished_at.is_(None),
            WebhookDelivery.finished_at >= cutoff,
        ),
    )
    return (WebhookEvent.created_at < cutoff) & ~still_needed


async def _delete_dead_refresh_tokens(
    sessionmaker: async_sessionmaker[AsyncSession], cutoff: datetime, batch: int
) -> int:
    # Two passes, each on its own index, rather than one OR a planner may scan the table for.
    expired = await delete_in_batches(
        sessionmaker, RefreshToken, RefreshToken.expires_at < cutoff, batch
    )
    revoked = await delete_in_batches(
        sessionmaker, RefreshToken, RefreshToken.revoked_at < cutoff, batch
    )
    return expired + revoked


async def prune_sent_outbox(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """The relay's round: outbox rows sent more than `OUTBOX_SENT_RETENTION` before `now`."""
    return await delete_in_batches(
        sessionmaker,
        OutboxMessage,
        OutboxMessage.sent_at < now - OUTBOX_SENT_RETENTION,
        settings.retention_batch_size,
    )
