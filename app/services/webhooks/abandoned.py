"""Deliveries whose message is gone: failed, so the customer's log never shows them pending
forever.

A pending delivery's SQS message comes back by its next attempt's time. One that keeps
failing the delivery function (the API away, a crash) goes to the dead-letter queue by the
queue's redrive policy, with the delivery still pending. Past its due time by
ABANDONED_AFTER (far beyond the policy's receives at the queue's visibility timeout), no
message can still be carrying it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import WebhookDelivery
from app.domain.webhook_deliveries import DeliveryStatus

ABANDONED_AFTER = timedelta(hours=24)
BATCH = 500


async def fail_abandoned_deliveries(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> int:
    deadline = now - ABANDONED_AFTER
    failed = 0
    while True:
        async with sessionmaker() as session:
            ids = list(
                (
                    await session.scalars(
                        select(WebhookDelivery.id)
                        .where(
                            WebhookDelivery.status == DeliveryStatus.PENDING.value,
                            # updated_at <= next_attempt_at: the partial index narrows first.
                            WebhookDelivery.updated_at < deadline,
                            func.coalesce(
                                WebhookDelivery.next_attempt_at, WebhookDelivery.updated_at
                            )
                            < deadline,
                        )
                        .limit(BATCH)
                    )
                ).all()
            )
            if ids:
                # Judged again in the update: an attempt recorded meanwhile keeps it pending.
                result = await session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id.in_(ids),
                        WebhookDelivery.status == DeliveryStatus.PENDING.value,
                        WebhookDelivery.updated_at < deadline,
                    )
                    .values(
                        status=DeliveryStatus.FAILED.value, finished_at=now, next_attempt_at=None
                    )
                    .execution_options(synchronize_session=False)
                )
                await session.commit()
                failed += int(result.rowcount)  # type: ignore[attr-defined]
        if len(ids) < BATCH:
            return failed
