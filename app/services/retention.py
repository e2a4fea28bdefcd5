"""Retention: the sweeper deletes rows whose purpose is over, so no table grows without bound.

What goes, and why it is no longer needed:

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

Job events are kept: they are the job's history the customer reads, a handful of rows per job,
and they go with their job.

Each batch is its own short transaction (`DELETE ... WHERE id IN (SELECT id ... LIMIT n)`) and
a round takes at most `MAX_BATCHES_PER_ROUND` per kind, so a backlog (the first run on an old
database) is worked off over several rounds without long locks. On PostgreSQL the batch skips
rows another replica is deleting (`FOR UPDATE SKIP LOCKED`); deleting a row twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.models import EmailToken, RefreshToken, StripeEvent, WebhookDelivery, WebhookEvent
from app.domain.webhook_deliveries import DeliveryStatus

MAX_BATCHES_PER_ROUND = 20

_Prunable = type[WebhookEvent] | type[EmailToken] | type[RefreshToken] | type[StripeEvent]


@dataclass(frozen=True, slots=True)
class PruneResult:
    webhook_events: int
    email_tokens: int
    refresh_tokens: int
    stripe_events: int


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> PruneResult:
    """Deletes what each kind's retention lets go of; counts the rows deleted."""
    batch = settings.retention_batch_size
    return PruneResult(
        webhook_events=await _delete_in_batches(
            sessionmaker,
            WebhookEvent,
            _finished_webhook_events(now - timedelta(days=settings.webhook_event_retention_days)),
            batch,
        ),
        email_tokens=await _delete_in_batches(
            sessionmaker,
            EmailToken,
            EmailToken.expires_at < now - timedelta(days=settings.email_token_retention_days),
            batch,
        ),
        refresh_tokens=await _delete_dead_refresh_tokens(
            sessionmaker, now - timedelta(days=settings.refresh_token_retention_days), batch
        ),
        stripe_events=await _delete_in_batches(
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
    expired = await _delete_in_batches(
        sessionmaker, RefreshToken, RefreshToken.expires_at < cutoff, batch
    )
    revoked = await _delete_in_batches(
        sessionmaker, RefreshToken, RefreshToken.revoked_at < cutoff, batch
    )
    return expired + revoked


async def _delete_in_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    model: _Prunable,
    condition: ColumnElement[bool],
    batch: int,
) -> int:
    """Deletes the rows of `model` matching `condition`, `batch` rows a transaction, at most
    `MAX_BATCHES_PER_ROUND` batches; the rest waits for the next round."""
    deleted = 0
    for _ in range(MAX_BATCHES_PER_ROUND):
        doomed = (
            select(model.id)
            .where(condition)
            .limit(batch)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
            .correlate(None)  # the subquery reads the table itself, not the DELETE's row
        )
        async with sessionmaker() as session:
            result = await session.execute(
                delete(model)
                .where(model.id.in_(doomed))
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        count = int(result.rowcount)  # type: ignore[attr-defined]
        deleted += count
        if count < batch:
            break
    return deleted
