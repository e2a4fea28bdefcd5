"""`emit_event`: the event row, its fan-out and the outbox messages, in the caller's transaction."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db.models import OutboxMessage, WebhookDelivery, WebhookEvent
from app.domain.plans import PlanName
from app.outbox.messages import Destination
from app.services.webhooks.events import emit_event
from devstack.provision import LocalAws
from tests.support.users import UserFactory
from tests.webhooks.helpers import create_endpoint


async def _count(app: FastAPI, model: type) -> int:
    """Rows of `model`; for the outbox, only the webhooks queue's (registering sends email)."""
    query = select(func.count()).select_from(model)
    if model is OutboxMessage:
        query = query.where(OutboxMessage.destination == Destination.WEBHOOKS.value)
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(query) or 0)


async def test_an_event_goes_to_each_enabled_subscribed_endpoint_of_its_account(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI, aws: LocalAws
) -> None:
    user = await users.create(plan=PlanName.PRO)
    other = await users.create(plan=PlanName.PRO)
    wanted = await create_endpoint(
        client, user, url="https://a.example.com/", events=["job.succeeded"]
    )
    await create_endpoint(client, user, url="https://b.example.com/", events=["job.failed"])
    off = await create_endpoint(
        client, user, url="https://c.example.com/", events=["job.succeeded"]
    )
    await client.patch(
        f"/api/webhooks/endpoints/{off['id']}", json={"enabled": False}, headers=user.headers
    )
    await create_endpoint(client, other, url="https://d.example.com/", events=["job.succeeded"])
    job_id = uuid.uuid4()

    async with app.state.sessionmaker() as session:
        await emit_event(
            session, user.id, "job.succeeded", {"job_id": job_id, "status": "succeeded"}
        )
        await session.commit()

    async with app.state.sessionmaker() as session:
        event = (await session.scalars(select(WebhookEvent))).one()
        deliveries = (await session.scalars(select(WebhookDelivery))).all()
        messages = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.destination == Destination.WEBHOOKS.value)
            )
        ).all()
    envelope = json.loads(event.payload)
    assert envelope["id"] == str(event.id)
    assert envelope["type"] == "job.succeeded"
    assert envelope["created_at"].endswith("Z")
    assert envelope["data"] == {"job_id": str(job_id), "status": "succeeded"}
    assert [str(d.endpoint_id) for d in deliveries] == [wanted["id"]]
    assert deliveries[0].status == "pending"
    assert [(m.destination, m.payload) for m in messages] == [
        (Destination.WEBHOOKS.value, {"delivery_id": str(deliveries[0].id)})
    ]

    # The relay carries it to the webhooks queue, where the delivery Lambda picks it up.
    # (The two registrations' verification emails go out in the same pass.)
    sent, failed = await app.state.outbox_relay.relay_once()
    assert (sent, failed) == (3, 0)
    received = await app.state.aws.sqs.receive_message(
        QueueUrl=aws.webhooks_queue_url, WaitTimeSeconds=1
    )
    bodies = [json.loads(m["Body"]) for m in received["Messages"]]
    assert bodies == [{"delivery_id": str(deliveries[0].id)}]


async def test_nothing_is_written_unless_the_caller_commits(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI
) -> None:
    user = await users.create(plan=PlanName.PRO)
    await create_endpoint(client, user, events=["job.failed"])
    async with app.state.sessionmaker() as session:
        await emit_event(session, user.id, "job.failed", {"job_id": "j"})
        await session.rollback()
    for model in (WebhookEvent, WebhookDelivery, OutboxMessage):
        assert await _count(app, model) == 0


async def test_no_subscriber_or_no_plan_means_no_event(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI
) -> None:
    user = await users.create(plan=PlanName.PRO)
    await create_endpoint(client, user, events=["job.failed"])
    async with app.state.sessionmaker() as session:
        await emit_event(session, user.id, "job.queued", {"job_id": "j"})
        await session.commit()
    await users.set_plan(user.email, PlanName.FREE)
    async with app.state.sessionmaker() as session:
        await emit_event(session, user.id, "job.failed", {"job_id": "j"})
        await session.commit()
    assert await _count(app, WebhookEvent) == 0
    assert await _count(app, OutboxMessage) == 0


async def test_an_unknown_event_type_is_a_programming_error(
    users: UserFactory, app: FastAPI
) -> None:
    user = await users.create(plan=PlanName.PRO)
    async with app.state.sessionmaker() as session:
        with pytest.raises(ValueError, match=r"job\.exploded"):
            await emit_event(session, user.id, "job.exploded", {})
