"""`/metrics`: latency by route template, the outbox backlog and relay, and who may scrape."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.outbox.messages import Destination, enqueue
from devstack.moto_server import free_port
from devstack.provision import LocalAws
from tests.api.test_errors import assert_problem
from tests.support.apps import running_app
from tests.support.scrape import sample, samples, scrape
from tests.support.users import UserFactory

LATENCY_COUNT = "reframer_http_request_duration_seconds_count"
METRICS_TOKEN = "m" * 40


async def test_latency_is_labelled_by_route_template_never_by_raw_path(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    key_id = uuid.uuid4()
    labels = {"method": "DELETE", "route": "/api/api-keys/{key_id}", "status": "404"}
    before = sample(await scrape(client), LATENCY_COUNT, **labels) or 0.0

    assert (await client.delete(f"/api/api-keys/{key_id}", headers=user.headers)).status_code == 404
    assert (await client.get(f"/no/such/thing/{key_id}")).status_code == 404
    assert (await client.request("BREW", "/health/live")).status_code == 405
    assert (await client.get("/docs")).status_code == 200

    text = await scrape(client)
    assert sample(text, LATENCY_COUNT, **labels) == before + 1
    assert str(key_id) not in text
    assert "/no/such" not in text
    assert sample(text, LATENCY_COUNT, method="GET", route="<unmatched>", status="404")
    assert sample(text, LATENCY_COUNT, method="<other>", route="/health/live", status="405")
    assert sample(text, LATENCY_COUNT, method="GET", route="/docs", status="200")
    # Every observation lands in a bucket: the histogram is a real one, not a counter.
    assert sample(
        text, "reframer_http_request_duration_seconds_bucket", le="+Inf", **labels
    ) == sample(text, LATENCY_COUNT, **labels)


async def test_an_unhandled_error_is_measured_as_a_500_of_its_route(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory
) -> None:
    from app.api.deps import get_session

    user = await users.create()

    async def broken_session():  # type: ignore[no-untyped-def]
        raise RuntimeError("the database fell over")
        yield

    labels = {"method": "GET", "route": "/api/api-keys", "status": "500"}
    before = sample(await scrape(client), LATENCY_COUNT, **labels) or 0.0
    app.dependency_overrides[get_session] = broken_session
    try:
        assert (await client.get("/api/api-keys", headers=user.headers)).status_code == 500
    finally:
        app.dependency_overrides.clear()
    assert sample(await scrape(client), LATENCY_COUNT, **labels) == before + 1


async def test_the_outbox_backlog_and_the_relay_are_measured(
    app: FastAPI, client: httpx.AsyncClient, aws: LocalAws
) -> None:
    async with app.state.sessionmaker() as session:
        for n in range(3):
            job = {"job_id": f"job-{n}"}
            enqueue(session, Destination.JOBS, job, group_id="acct", dedup_id=job["job_id"])
        enqueue(session, Destination.WEBHOOKS, {"event": "job.succeeded"})
        await session.commit()

    text = await scrape(client)
    assert sample(text, "reframer_outbox_backlog_up") == 1
    assert sample(text, "reframer_outbox_pending_messages", destination="jobs") == 3
    assert sample(text, "reframer_outbox_pending_messages", destination="webhooks") == 1
    age = sample(text, "reframer_outbox_oldest_pending_age_seconds", destination="jobs")
    assert age is not None
    assert 0 <= age < 60
    jobs_queue = aws.jobs_queue_url.rsplit("/", 1)[-1]
    sent_before = sample(text, "reframer_sqs_messages_sent_total", queue=jobs_queue) or 0.0
    published = {"destination": "jobs", "result": "sent"}
    published_before = sample(text, "reframer_outbox_messages_published_total", **published)

    assert await app.state.outbox_relay.relay_once() == (4, 0)

    text = await scrape(client)
    assert sample(text, "reframer_outbox_pending_messages", destination="jobs") is None
    assert sample(text, "reframer_sqs_messages_sent_total", queue=jobs_queue) == sent_before + 3
    assert (
        sample(text, "reframer_outbox_messages_published_total", **published)
        == (published_before or 0.0) + 3
    )


async def test_sqs_refusals_are_counted_by_queue_and_reason(
    settings: Settings, aws: LocalAws
) -> None:
    missing = aws.jobs_queue_url.rsplit("/", 1)[0] + f"/gone-{uuid.uuid4().hex[:8]}.fifo"
    async with running_app(settings.model_copy(update={"jobs_queue_url": missing})) as (
        app,
        client,
    ):
        queue = missing.rsplit("/", 1)[-1]
        async with app.state.sessionmaker() as session:
            for n in range(2):
                enqueue(session, Destination.JOBS, {"n": n}, group_id="acct", dedup_id=f"d{n}")
            await session.commit()

        assert await app.state.outbox_relay.relay_once() == (0, 2)

        text = await scrape(client)
        errors = samples(text, "reframer_sqs_send_errors_total", queue=queue)
        assert len(errors) == 1
        assert errors[0].value == 2
        assert errors[0].labels["reason"] == "QueueDoesNotExist"
        failed = {"destination": "jobs", "result": "failed"}
        assert (sample(text, "reframer_outbox_messages_published_total", **failed) or 0) >= 2
        # Held, not lost: both rows still wait in the outbox.
        assert sample(text, "reframer_outbox_pending_messages", destination="jobs") == 2


async def test_the_page_still_serves_when_the_backlog_is_unreadable(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={"database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none"}
    )
    async with running_app(unreachable) as (_, client):
        text = await scrape(client)
    assert sample(text, "reframer_outbox_backlog_up") == 0
    assert sample(text, "reframer_outbox_pending_messages") is None
    assert "reframer_http_request_duration_seconds" in text


async def test_a_metrics_token_lets_the_scraper_in_and_nobody_else(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"metrics_token": METRICS_TOKEN})) as (
        app,
        client,
    ):
        user = await UserFactory(client, app).create()
        missing = await client.get("/metrics")
        assert_problem(missing, 401, "unauthenticated")
        assert_problem(await client.get("/metrics", headers=user.headers), 403, "forbidden")
        wrong = {"Authorization": f"Bearer {METRICS_TOKEN[:-1]}x"}
        assert_problem(await client.get("/metrics", headers=wrong), 403, "forbidden")
        text = await scrape(client, Authorization=f"Bearer {METRICS_TOKEN}")
        assert sample(text, "reframer_outbox_backlog_up") == 1


async def test_metrics_can_be_switched_off(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"metrics_enabled": False})) as (_, client):
        assert_problem(await client.get("/metrics"), 404, "not_found")


async def test_metrics_are_not_in_the_public_api_document(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/metrics" not in schema["paths"]


@pytest.mark.parametrize(
    ("overrides", "served"),
    [
        ({}, True),
        ({"metrics_token": METRICS_TOKEN}, True),
        ({"metrics_enabled": False}, False),
    ],
)
def test_development_serves_metrics_unless_switched_off(
    overrides: dict[str, object], served: bool
) -> None:
    assert Settings(_env_file=None, **overrides).metrics_served is served  # type: ignore[arg-type]
