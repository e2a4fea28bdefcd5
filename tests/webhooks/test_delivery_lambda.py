"""The whole path: test event -> outbox -> SQS (moto) -> local poller -> webhook_delivery
Lambda -> a real receiver on loopback, with the API served over real HTTP for the Lambda."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.config import Settings
from app.db.models import WebhookEndpoint
from app.domain.plans import PlanName
from contracts.webhook_signing import new_webhook_secret
from devstack.moto_server import MotoServer
from devstack.provision import LocalAws
from devstack.sqs_poller import SqsPoller
from lambdas.webhook_delivery.handler import handler
from tests.support import live_server
from tests.support.users import TestUser, UserFactory
from tests.support.webhook_receiver import ReceivedRequest, WebhookReceiver, run_receiver
from tests.webhooks.conftest import TEST_RETRY_SCHEDULE
from tests.webhooks.helpers import create_endpoint, deliveries

WAIT_SECONDS = 20.0


@pytest.fixture
async def api_url(app: FastAPI) -> AsyncIterator[str]:
    async with live_server.serve(app) as url:
        yield url


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch,
    api_url: str,
    settings: Settings,
    aws: LocalAws,
    moto_server: MotoServer,
) -> Callable[[bool], None]:
    """The environment the Lambda would be given; the guard is on unless a test lowers it."""

    def configure(allow_private_targets: bool) -> None:
        monkeypatch.setenv("REFRAMER_API_URL", api_url)
        monkeypatch.setenv("REFRAMER_WEBHOOK_SERVICE_TOKEN", settings.webhook_service_token)
        monkeypatch.setenv("WEBHOOKS_QUEUE_URL", aws.webhooks_queue_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
        monkeypatch.setenv(
            "REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true" if allow_private_targets else "false"
        )

    configure(True)
    return configure


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with run_receiver() as running:
        yield running


@pytest.fixture
def poller(app: FastAPI, aws: LocalAws, settings: Settings) -> SqsPoller:
    return SqsPoller(
        app.state.aws.sqs,
        aws.webhooks_queue_url,
        handler,
        function_name="webhook_delivery",
        region=settings.aws_region,
        wait_time_seconds=1,
    )


async def run_until(app: FastAPI, poller: SqsPoller, done: Callable[[], bool], what: str) -> None:
    """Relays the outbox and polls the queue, as `make run` does, until `done()`."""
    await app.state.outbox_relay.relay_once()
    deadline = time.monotonic() + WAIT_SECONDS
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await poller.poll_once()


async def send_test_event(client: httpx.AsyncClient, user: TestUser, endpoint_id: str) -> str:
    response = await client.post(
        f"/api/webhooks/endpoints/{endpoint_id}/test", headers=user.headers
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def verify(secret: str, request: ReceivedRequest) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(request.body, request.headers)
    return payload


async def _queue_is_empty(app: FastAPI, url: str) -> bool:
    attributes = await app.state.aws.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    return all(v == "0" for v in attributes["Attributes"].values())


async def _delivery_statuses(client: httpx.AsyncClient, user: TestUser) -> list[str]:
    return [d["status"] for d in await deliveries(client, user)]


async def test_a_signed_delivery_verifies_with_the_standard_webhooks_library(
    client: httpx.AsyncClient,
    users: UserFactory,
    app: FastAPI,
    aws: LocalAws,
    poller: SqsPoller,
    receiver: WebhookReceiver,
    lambda_env: Callable[[bool], None],
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user, url=receiver.url())
    delivery_id = await send_test_event(client, user, endpoint["id"])
    await run_until(app, poller, lambda: len(receiver.requests) == 1, "the delivery")

    [request] = receiver.requests
    payload = verify(endpoint["secret"], request)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["endpoint_id"] == endpoint["id"]
    assert request.headers["webhook-id"] == payload["id"]
    assert request.headers["Host"] == f"127.0.0.1:{receiver.port}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.path == "/hooks"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(request.body, request.headers)

    [logged] = await deliveries(client, user)
    assert logged["id"] == delivery_id
    assert logged["status"] == "delivered"
    assert logged["event_id"] == payload["id"]
    [attempt] = logged["attempts"]
    assert attempt["outcome"] == "success"
    assert attempt["status_code"] == 200
    assert attempt["latency_ms"] >= 0
    assert await _queue_is_empty(app, aws.webhooks_queue_url)


async def test_a_500_is_retried_later_and_every_attempt_is_logged(
    client: httpx.AsyncClient,
    users: UserFactory,
    app: FastAPI,
    aws: LocalAws,
    poller: SqsPoller,
    receiver: WebhookReceiver,
    lambda_env: Callable[[bool], None],
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user, url=receiver.url())
    receiver.answer(500, 500)  # then the default 200
    await send_test_event(client, user, endpoint["id"])
    attempts = len(TEST_RETRY_SCHEDULE) + 1
    await run_until(app, poller, lambda: len(receiver.requests) == attempts, "three attempts")

    payloads = [verify(endpoint["secret"], r) for r in receiver.requests]
    assert len({p["id"] for p in payloads}) == 1  # webhook-id: the same on every retry
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    timestamps = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert timestamps == sorted(timestamps)
    arrivals = [r.received_at for r in receiver.requests]
    for previous, following, step in zip(arrivals, arrivals[1:], TEST_RETRY_SCHEDULE, strict=False):
        # The message was hidden for the step: the retry came later, not at once.
        assert following - previous >= step * 0.8

    [logged] = await deliveries(client, user)
    assert logged["status"] == "delivered"
    assert logged["attempt_count"] == attempts
    assert [(a["number"], a["status_code"], a["outcome"]) for a in logged["attempts"]] == [
        (1, 500, "http_error"),
        (2, 500, "http_error"),
        (3, 200, "success"),
    ]
    assert await _queue_is_empty(app, aws.webhooks_queue_url)


async def test_when_the_schedule_runs_out_the_delivery_fails_into_the_dlq(
    client: httpx.AsyncClient,
    users: UserFactory,
    app: FastAPI,
    aws: LocalAws,
    poller: SqsPoller,
    receiver: WebhookReceiver,
    lambda_env: Callable[[bool], None],
) -> None:
    user = await users.create(plan=PlanName.PRO)
    receiver.default_status = 503
    endpoint = await create_endpoint(client, user, url=receiver.url())
    delivery_id = await send_test_event(client, user, endpoint["id"])
    attempts = len(TEST_RETRY_SCHEDULE) + 1
    await run_until(app, poller, lambda: len(receiver.requests) == attempts, "every attempt")
    # One more poll after the last attempt lets the Lambda's dead-lettering settle.
    await poller.poll_once()

    [logged] = await deliveries(client, user)
    assert logged["status"] == "failed"
    assert [a["status_code"] for a in logged["attempts"]] == [503] * attempts
    assert await _queue_is_empty(app, aws.webhooks_queue_url)
    dead = await app.state.aws.sqs.receive_message(
        QueueUrl=aws.webhooks_dlq_url, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    [message] = dead["Messages"]
    assert json.loads(message["Body"]) == {"delivery_id": delivery_id}
    assert message["MessageAttributes"]["reframer_failure"]["StringValue"] == "retries_exhausted"


async def test_a_410_disables_the_endpoint(
    client: httpx.AsyncClient,
    users: UserFactory,
    app: FastAPI,
    aws: LocalAws,
    poller: SqsPoller,
    receiver: WebhookReceiver,
    lambda_env: Callable[[bool], None],
) -> None:
    user = await users.create(plan=PlanName.PRO)
    receiver.answer(410)
    endpoint = await create_endpoint(client, user, url=receiver.url())
    await send_test_event(client, user, endpoint["id"])
    await run_until(app, poller, lambda: len(receiver.requests) == 1, "the delivery")
    await run_until(
        app, poller, lambda: True, "nothing"
    )  # a last poll: the message must not come back

    shown = (
        await client.get(f"/api/webhooks/endpoints/{endpoint['id']}", headers=user.headers)
    ).json()
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == "gone"
    [logged] = await deliveries(client, user)
    assert logged["status"] == "failed"
    assert [a["outcome"] for a in logged["attempts"]] == ["gone"]
    assert len(receiver.requests) == 1
    assert await _queue_is_empty(app, aws.webhooks_queue_url)
    refused = await client.post(
        f"/api/webhooks/endpoints/{endpoint['id']}/test", headers=user.headers
    )
    assert refused.status_code == 409


async def test_the_ssrf_guard_refuses_private_targets_and_sends_nothing(
    client: httpx.AsyncClient,
    users: UserFactory,
    app: FastAPI,
    aws: LocalAws,
    poller: SqsPoller,
    receiver: WebhookReceiver,
    lambda_env: Callable[[bool], None],
) -> None:
    lambda_env(False)  # the guard on, as in production
    user = await users.create(plan=PlanName.PRO)
    targets = {
        receiver.url(host="127.0.0.1"): "127.0.0.1 is a loopback address",
        f"http://[::1]:{receiver.port}/hooks": "::1 is a loopback address",
        receiver.url(host="localhost"): "localhost resolves to 127.0.0.1, a loopback address",
        "http://10.0.0.1/hooks": "10.0.0.1 is a private address",
        "http://169.254.169.254/latest/meta-data/": "169.254.169.254 is a cloud metadata address",
    }
    # The API (development settings) takes all but the metadata URL; that one is planted as
    # an endpoint from before the guard, to show the send-time check holds on its own.
    planted = await create_endpoint(client, user, url="https://hooks.example.com/later")
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == uuid.UUID(planted["id"]))
            .values(url="http://169.254.169.254/latest/meta-data/")
        )
        await session.commit()
    for url in targets:
        if "169.254" not in url:
            await create_endpoint(client, user, url=url)
    listed = (await client.get("/api/webhooks/endpoints", headers=user.headers)).json()["data"]
    for endpoint in listed:
        await send_test_event(client, user, endpoint["id"])

    async def all_finished() -> bool:
        return set(await _delivery_statuses(client, user)) == {"failed"}

    await app.state.outbox_relay.relay_once()
    deadline = time.monotonic() + WAIT_SECONDS
    while not await all_finished():
        assert time.monotonic() < deadline, "timed out waiting for the refusals"
        await poller.poll_once()

    url_of = {e["id"]: e["url"] for e in listed}
    for logged in await deliveries(client, user):
        [attempt] = logged["attempts"]
        assert attempt["outcome"] == "refused"
        assert attempt["status_code"] is None
        assert attempt["error"] == targets[url_of[logged["endpoint_id"]]]
    assert receiver.requests == []
    assert await _queue_is_empty(app, aws.webhooks_queue_url)


async def test_during_a_rotation_both_secrets_sign(
    client: httpx.AsyncClient,
    users: UserFactory,
    app: FastAPI,
    poller: SqsPoller,
    receiver: WebhookReceiver,
    lambda_env: Callable[[bool], None],
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user, url=receiver.url())
    rotated = await client.post(
        f"/api/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers=user.headers
    )
    new_secret = rotated.json()["secret"]
    await send_test_event(client, user, endpoint["id"])
    await run_until(app, poller, lambda: len(receiver.requests) == 1, "the delivery")

    [request] = receiver.requests
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(s.startswith("v1,") for s in signatures)
    # A receiver still on the old secret and one already on the new both accept it.
    assert verify(endpoint["secret"], request) == verify(new_secret, request)


async def test_a_duplicate_sqs_message_sends_once(
    client: httpx.AsyncClient,
    users: UserFactory,
    app: FastAPI,
    aws: LocalAws,
    poller: SqsPoller,
    receiver: WebhookReceiver,
    lambda_env: Callable[[bool], None],
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user, url=receiver.url())
    delivery_id = await send_test_event(client, user, endpoint["id"])
    await app.state.outbox_relay.relay_once()
    copy = json.dumps({"delivery_id": delivery_id})

    async def drain() -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not await _queue_is_empty(app, aws.webhooks_queue_url):
            assert time.monotonic() < deadline, "timed out draining the queue"
            await poller.poll_once()

    # SQS delivers at least once: a copy in the same batch...
    await app.state.aws.sqs.send_message(QueueUrl=aws.webhooks_queue_url, MessageBody=copy)
    await drain()
    assert len(receiver.requests) == 1
    # ...and a copy that turns up after the delivery finished.
    await app.state.aws.sqs.send_message(QueueUrl=aws.webhooks_queue_url, MessageBody=copy)
    await drain()
    assert len(receiver.requests) == 1
    [logged] = await deliveries(client, user)
    assert logged["status"] == "delivered"
    assert len(logged["attempts"]) == 1


async def test_a_malformed_message_goes_straight_to_the_dlq(
    app: FastAPI, aws: LocalAws, poller: SqsPoller, lambda_env: Callable[[bool], None]
) -> None:
    await app.state.aws.sqs.send_message(QueueUrl=aws.webhooks_queue_url, MessageBody="{oops")
    result = await poller.poll_once()
    assert (result.received, result.deleted) == (1, 1)
    dead = await app.state.aws.sqs.receive_message(
        QueueUrl=aws.webhooks_dlq_url, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    [message] = dead["Messages"]
    assert message["Body"] == "{oops"
    assert message["MessageAttributes"]["reframer_failure"]["StringValue"] == "malformed_message"
