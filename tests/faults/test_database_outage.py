"""PostgreSQL stopped and started again while clients create, confirm and read jobs over real
HTTP: meanwhile the API answers 503 problem documents (never a 500), it recovers without a
restart, and every confirmed job reaches the jobs queue exactly once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from app.config import Settings
from app.db.models import Job, OutboxMessage
from app.domain.clock import utcnow
from app.domain.plans import PlanName
from app.main import create_app
from app.outbox.messages import Destination
from devstack.moto_server import MotoServer
from devstack.provision import LocalAws
from devstack.smtp_sink import SmtpSink
from tests.support import live_server
from tests.support.jobs import VIDEO_BYTES, JobDriver, job_body
from tests.support.postgres import PostgresCluster
from tests.support.users import TestUser, UserFactory

CLIENTS = 16
# Each client's BUSINESS plan runs 25 jobs at once; nothing dispatches these, so stay below.
JOBS_PER_CLIENT = 20
OUTAGE_SECONDS = 2.0
# A client that gets 503 tries again this soon (a real one would honour Retry-After).
RETRY_PAUSE_SECONDS = 0.1
# How long anything may take to come back after the database does.
RECOVERY_SECONDS = 30.0
EXPECTED = {"create": 201, "confirm": 202, "read": 200, "list": 200}


@dataclass
class Ledger:
    """Every answer the clients got, and the jobs whose confirm was accepted."""

    answers: list[tuple[str, httpx.Response]] = field(default_factory=list)
    created: set[str] = field(default_factory=set)
    confirmed: set[str] = field(default_factory=set)
    last_success: dict[int, float] = field(default_factory=dict)


class Client:
    """One customer: creates, uploads, confirms and reads jobs until told to stop, retrying
    what answered 503 (with an Idempotency-Key on create, as the API asks)."""

    def __init__(self, number: int, http: httpx.AsyncClient, user: TestUser, ledger: Ledger):
        self.number = number
        self.http = http
        self.user = user
        self.ledger = ledger
        self.jobs: list[str] = []

    async def _until_answered(
        self, what: str, method: str, url: str, **kwargs: Any
    ) -> httpx.Response:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECOVERY_SECONDS
        while True:
            response = await self.http.request(method, url, **kwargs)
            self.ledger.answers.append((what, response))
            if response.status_code != 503 or loop.time() > deadline:
                if response.status_code == EXPECTED[what]:
                    self.ledger.last_success[self.number] = loop.time()
                return response
            await asyncio.sleep(RETRY_PAUSE_SECONDS)

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient() as storage:
            while not stop.is_set():
                if len(self.jobs) < JOBS_PER_CLIENT:
                    await self._one_job(storage)
                if self.jobs:
                    await self._until_answered(
                        "read", "GET", f"/api/jobs/{self.jobs[-1]}", headers=self.user.headers
                    )
                await self._until_answered(
                    "list", "GET", "/api/jobs", params={"limit": 20}, headers=self.user.headers
                )

    async def _one_job(self, storage: httpx.AsyncClient) -> None:
        headers = {**self.user.headers, "Idempotency-Key": str(uuid.uuid4())}
        created = await self._until_answered(
            "create", "POST", "/api/jobs", json=job_body(), headers=headers
        )
        if created.status_code != 201:
            return
        job_id = created.json()["job"]["id"]
        self.ledger.created.add(job_id)
        self.jobs.append(job_id)
        upload = created.json()["upload"]
        put_headers = {k: v for k, v in upload["headers"].items() if k != "Content-Length"}
        stored = await storage.put(upload["url"], content=VIDEO_BYTES, headers=put_headers)
        assert stored.status_code == 200, stored.text
        confirmed = await self._until_answered(
            "confirm", "POST", f"/api/jobs/{job_id}/confirm", headers=self.user.headers
        )
        if confirmed.status_code == 202:
            self.ledger.confirmed.add(job_id)


@pytest.fixture
def outage_settings(
    outage_cluster: PostgresCluster, aws: LocalAws, moto_server: MotoServer, smtp_sink: SmtpSink
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=outage_cluster.url("reframer"),
        database_connect_timeout_seconds=2.0,
        database_pool_timeout_seconds=3.0,
        aws_endpoint_url=moto_server.endpoint_url,
        s3_bucket=aws.bucket,
        jobs_queue_url=aws.jobs_queue_url,
        webhooks_queue_url=aws.webhooks_queue_url,
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        bcrypt_rounds=4,
        log_json=False,
        # The background tasks run as in production, and must outlive the outage.
        outbox_relay_enabled=True,
        outbox_poll_interval_seconds=0.1,
        outbox_max_backoff_seconds=1.0,
        job_sweeper_enabled=True,
        job_sweep_interval_seconds=0.2,
        rate_limit_auth_per_minute=100_000,
        rate_limit_plan_scale=1_000.0,
    )


@pytest.fixture
async def outage_app(outage_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(outage_settings)
    async with application.router.lifespan_context(application):
        yield application


async def _wait_for(condition: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECOVERY_SECONDS
    while not await condition():
        assert loop.time() < deadline, f"still waiting: {what}"
        await asyncio.sleep(0.1)


async def test_postgresql_stopped_under_load_answers_503_recovers_and_loses_no_job(
    outage_app: FastAPI,
    outage_settings: Settings,
    outage_cluster: PostgresCluster,
    aws: LocalAws,
    smtp_sink: SmtpSink,
) -> None:
    app = outage_app
    async with (
        live_server.serve(app) as base_url,
        # Idle connections are dropped before uvicorn's own 5 s keep-alive ends: otherwise a
        # request may go out on a connection the server is closing at that very moment.
        httpx.AsyncClient(
            base_url=base_url, timeout=30.0, limits=httpx.Limits(keepalive_expiry=2.0)
        ) as http,
    ):
        users = UserFactory(http, app, mail_dir=smtp_sink.directory)
        customers = await asyncio.gather(
            *(users.create(plan=PlanName.BUSINESS) for _ in range(CLIENTS))
        )
        ledger = Ledger()
        stop = asyncio.Event()
        clients = [Client(n, http, user, ledger) for n, user in enumerate(customers)]
        load = [asyncio.create_task(client.run(stop)) for client in clients]
        loop = asyncio.get_running_loop()
        try:
            await _wait_for(lambda: _confirmed_at_least(ledger, CLIENTS), "load under way")

            await asyncio.to_thread(outage_cluster.stop, "fast")
            await asyncio.sleep(OUTAGE_SECONDS / 2)
            not_ready = await http.get("/health/ready")
            await asyncio.sleep(OUTAGE_SECONDS / 2)
            answered_during_outage = len(ledger.answers)
            await asyncio.to_thread(outage_cluster.restart_after_stop)
            restarted_at = loop.time()

            # Every client gets through again, on the same process: no restart.
            await _wait_for(
                lambda: _all_succeeded_since(ledger, restarted_at),
                "every client succeeds after the restart",
            )
            ready = await http.get("/health/ready")
        finally:
            stop.set()
            await asyncio.gather(*load)

        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["database"] == "unreachable"
        assert ready.status_code == 200

        statuses = Counter(response.status_code for _what, response in ledger.answers)
        assert statuses[503] > 0, f"the outage was never seen: {statuses}"
        assert answered_during_outage > 0
        for what, response in ledger.answers:
            if response.status_code == 503:
                assert response.headers["content-type"] == "application/problem+json"
                assert int(response.headers["Retry-After"]) > 0
                assert response.json()["code"] == "service_unavailable"
            else:
                assert response.status_code == EXPECTED[what], (what, response.text)

        # The relay, a background task that lived through the outage, sends everything.
        await _wait_for(lambda: _outbox_drained(app), "the outbox relay drains")
        await _the_sweeper_still_runs(app, http, customers[0])

        queued = await _consistent_jobs(app, ledger)
        assert ledger.confirmed <= queued
        driver = JobDriver(http, app, aws, outage_settings)
        messages = await driver.job_messages()
        per_job = Counter(json.loads(m["Body"])["job_id"] for m in messages)
        assert set(per_job) == queued
        assert all(count == 1 for count in per_job.values()), per_job.most_common(3)
        for message in messages:
            job_id = json.loads(message["Body"])["job_id"]
            assert message["Attributes"]["MessageDeduplicationId"] == job_id


async def _confirmed_at_least(ledger: Ledger, count: int) -> bool:
    return len(ledger.confirmed) >= count


async def _all_succeeded_since(ledger: Ledger, moment: float) -> bool:
    return len(ledger.last_success) == CLIENTS and all(
        at > moment for at in ledger.last_success.values()
    )


async def _outbox_drained(app: FastAPI) -> bool:
    async with app.state.sessionmaker() as session:
        pending = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None)).limit(1)
        )
    return pending is None


async def _the_sweeper_still_runs(app: FastAPI, http: httpx.AsyncClient, user: TestUser) -> None:
    """An upload window closed long ago: the background sweeper expires the job."""
    created = await http.post("/api/jobs", json=job_body(), headers=user.headers)
    assert created.status_code == 201, created.text
    job_id = created.json()["job"]["id"]
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(Job)
            .where(Job.id == uuid.UUID(job_id))
            .values(upload_expires_at=utcnow() - timedelta(days=1))
        )
        await session.commit()

    async def expired() -> bool:
        job = await http.get(f"/api/jobs/{job_id}", headers=user.headers)
        return bool(job.json()["status"] == "expired")

    await _wait_for(expired, "the sweeper expires a stale upload")


async def _consistent_jobs(app: FastAPI, ledger: Ledger) -> set[str]:
    """No job half-written: queued with its one queue message, or still awaiting its
    confirm with none. Returns the queued jobs."""
    async with app.state.sessionmaker() as session:
        jobs = (await session.execute(select(Job.id, Job.status, Job.queued_at))).all()
        messages = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.destination == Destination.JOBS.value)
            )
        ).all()
    per_job = Counter(m.payload["job_id"] for m in messages)
    queued: set[str] = set()
    assert ledger.created <= {str(job_id) for job_id, _status, _at in jobs}
    for job_id, status, queued_at in jobs:
        if status == "queued":
            assert queued_at is not None
            assert per_job[str(job_id)] == 1, (job_id, per_job[str(job_id)])
            queued.add(str(job_id))
        else:
            assert status in {"pending_upload", "expired"}, (job_id, status)
            assert per_job[str(job_id)] == 0
    assert set(per_job) == queued
    return queued
