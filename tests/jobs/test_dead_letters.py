"""`python -m app.cli dlq list|show|redrive|purge` on moto's queues: messages reach the
dead-letter queues by the queues' own redrive policies, as they would on AWS."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from app.config import Settings
from app.db.models import WebhookDelivery
from app.domain.clock import utcnow
from app.domain.plans import PlanName
from devstack.provision import LocalAws
from tests.jobs.test_cli import cli
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory
from tests.webhooks.helpers import create_endpoint


async def fail_into_the_dlq(app: FastAPI, queue_url: str) -> int:
    """Receives every message until the redrive policy moves it (what a consumer that keeps
    failing does); returns how many receives that took."""
    sqs = app.state.aws.sqs
    receives = 0
    while True:
        left = await sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        if left["Attributes"]["ApproximateNumberOfMessages"] == "0":
            return receives
        response = await sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0
        )
        for message in response.get("Messages", []):  # failed: handed back at once
            await sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        receives += 1
        await asyncio.sleep(0.01)  # moto's visibility has millisecond steps


def message_ids(listing: str) -> list[str]:
    return re.findall(r"^  (\S+)  age", listing, flags=re.MULTILINE)


async def test_job_messages_are_listed_shown_and_redriven_in_group_order_skipping_final_jobs(
    app: FastAPI, settings: Settings, users: UserFactory, jobs: JobDriver, aws: LocalAws
) -> None:
    first_customer = await users.create(plan=PlanName.PRO)
    second_customer = await users.create(plan=PlanName.PRO)
    first, canceled, third = [await jobs.queued(first_customer) for _ in range(3)]
    other = await jobs.queued(second_customer)
    assert await jobs.relay() == 4
    assert await fail_into_the_dlq(app, aws.jobs_queue_url) > 0
    await jobs.client.post(f"/api/jobs/{canceled}/cancel", headers=first_customer.headers)
    await app.state.aws.sqs.send_message(  # not a job message at all
        QueueUrl=aws.jobs_dlq_url,
        MessageBody="not json",
        MessageGroupId="stray",
        MessageDeduplicationId="stray-1",
    )

    code, listing, err = await cli(settings, "dlq", "list", "--queue", "jobs")
    assert code == 0, err
    assert "5 messages, 0 in flight, oldest " in listing
    ids = message_ids(listing)
    assert len(ids) == 5
    # Listing hides nothing for long: everything is there to list again.
    assert "5 messages, 0 in flight" in (await cli(settings, "dlq", "list", "--queue", "jobs"))[1]

    shown: list[dict[str, Any]] = [
        json.loads((await cli(settings, "dlq", "show", "--queue", "jobs", i))[1]) for i in ids
    ]
    job_letters = [s for s in shown if s["group_id"] != "stray"]
    assert sorted(s["body"]["job_id"] for s in job_letters) == sorted(
        [first, canceled, third, other]
    )
    # Received five times by the consumer (moto carries the count over) and once per read.
    assert all(s["receive_count"] >= 5 and s["age_seconds"] >= 0 for s in job_letters)
    assert {s["group_id"] for s in job_letters} == {str(first_customer.id), str(second_customer.id)}
    missing = await cli(settings, "dlq", "show", "--queue", "jobs", "no-such-message")
    assert missing[0] == 1
    assert "not_found" in missing[2]

    code, out, err = await cli(settings, "dlq", "redrive", "--queue", "jobs")
    assert code == 0, err
    assert "3 sent back, 0 redelivered as new deliveries, 1 skipped" in out
    assert "1 kept" in out
    back = await jobs.job_messages()
    by_group: dict[str, list[str]] = {}
    for message in back:
        body = json.loads(message["Body"])
        by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(body["job_id"])
        assert message["Attributes"]["MessageDeduplicationId"] != body["job_id"]
    assert by_group == {str(first_customer.id): [first, third], str(second_customer.id): [other]}
    left = (await cli(settings, "dlq", "list", "--queue", "jobs"))[1]
    assert "1 messages" in left
    assert "not json" in left
    # The redriven message is the dispatcher's again.
    assert (await jobs.dispatch(first)).status_code == 200


async def test_webhook_deliveries_in_the_dlq_end_failed_never_pending_and_redrive_resends(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    users: UserFactory,
    jobs: JobDriver,
    aws: LocalAws,
) -> None:
    user = await users.create(plan=PlanName.PRO)
    await create_endpoint(client, user, events=["job.queued"])
    await jobs.queued(user)
    await jobs.queued(user)
    await jobs.relay()
    # The delivery function crashed on every receive: the policy dead-letters the messages
    # with their deliveries still pending.
    assert await fail_into_the_dlq(app, aws.webhooks_queue_url) > 0

    async def statuses() -> list[str]:
        log = (await client.get("/api/webhooks/deliveries", headers=user.headers)).json()
        return sorted(d["status"] for d in log["data"])

    assert await statuses() == ["pending", "pending"]
    code, listing, _ = await cli(settings, "dlq", "list", "--queue", "webhooks")
    assert code == 0
    assert "2 messages" in listing

    # Redrive sends a pending delivery's message back for the delivery function.
    code, out, _ = await cli(settings, "dlq", "redrive", "--queue", "webhooks")
    assert "2 sent back" in out
    assert await fail_into_the_dlq(app, aws.webhooks_queue_url) > 0

    code, out, _ = await cli(settings, "dlq", "purge", "--queue", "webhooks")
    assert (code, out) == (0, "purged 2 messages from the webhooks dead-letter queue\n")
    assert await statuses() == ["failed", "failed"]
    assert "0 messages" in (await cli(settings, "dlq", "list", "--queue", "webhooks"))[1]

    # A delivery whose schedule ran out: the Lambda copied its message to the DLQ itself.
    log = (await client.get("/api/webhooks/deliveries", headers=user.headers)).json()["data"]
    failed = log[0]
    await app.state.aws.sqs.send_message(
        QueueUrl=aws.webhooks_dlq_url, MessageBody=json.dumps({"delivery_id": failed["id"]})
    )
    code, out, _ = await cli(settings, "dlq", "redrive", "--queue", "webhooks")
    assert "0 sent back, 1 redelivered as new deliveries, 0 skipped" in out
    log = (await client.get("/api/webhooks/deliveries", headers=user.headers)).json()["data"]
    [again] = [d for d in log if d["status"] == "pending"]
    assert again["event_id"] == failed["event_id"]  # the same webhook-id for the receiver
    assert again["id"] != failed["id"]


async def test_the_sweeper_fails_a_pending_delivery_whose_message_is_long_gone(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: UserFactory,
    jobs: JobDriver,
) -> None:
    user = await users.create(plan=PlanName.PRO)
    await create_endpoint(client, user, events=["job.queued"])
    await jobs.queued(user)
    await jobs.queued(user)
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == (await _delivery_ids(client, user))[0])
            .values(updated_at=utcnow() - timedelta(hours=25))
        )
        await session.commit()

    swept = await app.state.job_sweeper.sweep_once()
    assert swept.abandoned_webhook_deliveries == 1
    log = (await client.get("/api/webhooks/deliveries", headers=user.headers)).json()["data"]
    assert sorted(d["status"] for d in log) == ["failed", "pending"]
    assert (await app.state.job_sweeper.sweep_once()).abandoned_webhook_deliveries == 0


async def _delivery_ids(client: httpx.AsyncClient, user: Any) -> list[uuid.UUID]:
    log = (await client.get("/api/webhooks/deliveries", headers=user.headers)).json()
    return [uuid.UUID(d["id"]) for d in log["data"]]
