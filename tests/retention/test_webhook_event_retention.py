"""The sweeper deletes webhook events, with their deliveries and attempts, once every delivery
has been finished for the retention; an event still being delivered stays, however old."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from app.config import Settings
from app.db.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from app.domain.clock import utcnow
from app.domain.plans import PlanName
from app.sweeper import JobSweeper
from tests.support.users import UserFactory
from tests.webhooks.helpers import create_endpoint, deliveries, send_test_delivery


async def _report(
    client: httpx.AsyncClient, settings: Settings, delivery_id: str, **result: Any
) -> None:
    """What the delivery Lambda posts after its first attempt."""
    response = await client.post(
        f"/internal/webhooks/deliveries/{delivery_id}/attempts",
        json={"attempt": 1, "attempted_at": datetime.now(UTC).isoformat(), **result},
        headers={"Authorization": f"Bearer {settings.webhook_service_token}"},
    )
    assert response.status_code == 200, response.text


async def _count(app: FastAPI, model: type) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_finished_delivery_goes_after_the_retention_and_one_still_retrying_stays(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    delivered = await send_test_delivery(client, user, endpoint["id"])
    retrying = await send_test_delivery(client, user, endpoint["id"])
    await _report(client, settings, delivered, status_code=200, latency_ms=5)
    await _report(client, settings, retrying, status_code=503, latency_ms=5)
    sweeper = app.state.job_sweeper
    retention = timedelta(days=settings.webhook_event_retention_days)

    later = utcnow() + retention + timedelta(hours=1)
    async with app.state.sessionmaker() as session:
        # Still retrying at the sweeps below: an attempt is recorded then, the next one due (a
        # delivery whose message stopped coming back for a day is failed by the sweeper).
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == "pending")
            .values(updated_at=later, next_attempt_at=later + timedelta(minutes=5))
        )
        await session.commit()
    within = await sweeper.sweep_once(now=utcnow() + retention - timedelta(hours=1))
    assert within.deleted_webhook_events == 0
    assert len(await deliveries(client, user)) == 2

    past = await sweeper.sweep_once(now=later)
    assert past.deleted_webhook_events == 1
    [kept] = await deliveries(client, user)
    assert (kept["id"], kept["status"]) == (retrying, "pending")
    assert [a["outcome"] for a in kept["attempts"]] == ["http_error"]
    # The delivered one's delivery and attempt went with its event.
    assert await _count(app, WebhookEvent) == 1
    assert await _count(app, WebhookDelivery) == 1
    assert await _count(app, WebhookAttempt) == 1


async def test_an_old_event_redelivered_lately_stays_until_its_redelivery_is_old_too(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    original = await send_test_delivery(client, user, endpoint["id"])
    await _report(client, settings, original, status_code=200, latency_ms=5)
    long_ago = utcnow() - timedelta(days=settings.webhook_event_retention_days + 10)
    async with app.state.sessionmaker() as session:  # the event and its delivery are old news
        await session.execute(update(WebhookEvent).values(created_at=long_ago))
        await session.execute(update(WebhookDelivery).values(finished_at=long_ago))
        await session.commit()
    redelivered = await client.post(
        f"/api/webhooks/deliveries/{original}/redeliver", headers=user.headers
    )
    assert redelivered.status_code == 202, redelivered.text
    sweeper = app.state.job_sweeper

    # Pending, then delivered just now: the customer's log still shows both.
    assert (await sweeper.sweep_once()).deleted_webhook_events == 0
    await _report(client, settings, redelivered.json()["id"], status_code=200, latency_ms=5)
    assert (await sweeper.sweep_once()).deleted_webhook_events == 0
    assert len(await deliveries(client, user)) == 2

    retention = timedelta(days=settings.webhook_event_retention_days)
    later = await sweeper.sweep_once(now=utcnow() + retention + timedelta(hours=1))
    assert later.deleted_webhook_events == 1
    assert await deliveries(client, user) == []


async def test_several_sweepers_share_a_backlog_a_batch_at_a_time(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    for _ in range(5):
        delivery_id = await send_test_delivery(client, user, endpoint["id"])
        await _report(client, settings, delivery_id, status_code=200)
    small_batches = settings.model_copy(update={"retention_batch_size": 2})
    replicas = [JobSweeper(app.state.sessionmaker, small_batches) for _ in range(2)]
    past = utcnow() + timedelta(days=settings.webhook_event_retention_days, hours=1)

    rounds = await asyncio.gather(*(replica.sweep_once(now=past) for replica in replicas))

    assert sum(r.deleted_webhook_events for r in rounds) == 5
    assert await deliveries(client, user) == []
    assert await _count(app, WebhookEvent) == 0


async def test_redelivering_an_event_the_sweep_deletes_meanwhile_answers_404(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, users: UserFactory
) -> None:
    """The sweep may delete an old event between a redelivery's read of it and its commit:
    the customer is told the delivery is gone (404), not handed a foreign-key 500."""
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    delivery_id = await send_test_delivery(client, user, endpoint["id"])
    await _report(client, settings, delivery_id, status_code=200, latency_ms=5)
    past_retention = utcnow() + timedelta(days=settings.webhook_event_retention_days, hours=1)
    swept: list[int] = []

    def sweep_just_before_the_redelivery_is_written(session: Session, *_: Any) -> None:
        if swept or not any(isinstance(row, WebhookDelivery) for row in session.new):
            return
        # Event hooks run inside SQLAlchemy's greenlet, where a coroutine can be awaited.
        result = await_only(app.state.job_sweeper.sweep_once(now=past_retention))
        swept.append(result.deleted_webhook_events)

    event.listen(Session, "before_flush", sweep_just_before_the_redelivery_is_written)
    try:
        redelivered = await client.post(
            f"/api/webhooks/deliveries/{delivery_id}/redeliver", headers=user.headers
        )
    finally:
        event.remove(Session, "before_flush", sweep_just_before_the_redelivery_is_written)

    assert swept == [1]
    assert redelivered.status_code == 404, redelivered.text
    assert redelivered.json()["code"] == "not_found"
    assert await deliveries(client, user) == []
