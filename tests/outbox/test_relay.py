"""The relay for job messages: nothing lost while SQS is away, nothing sent for a rollback."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.db.models import OutboxMessage
from app.outbox.messages import Destination
from app.outbox.publishers.sqs import SqsPublisher
from app.outbox.relay import OutboxRelay
from devstack.moto_server import MotoServer, free_port
from tests.support.jobs import JobDriver
from tests.support.sqs import sqs_client_at
from tests.support.users import UserFactory


async def outbox_rows(app: FastAPI) -> list[OutboxMessage]:
    """The jobs queue's rows (registering also queues a verification email)."""
    async with app.state.sessionmaker() as session:
        query = select(OutboxMessage).where(OutboxMessage.destination == Destination.JOBS.value)
        return list((await session.scalars(query)).all())


async def test_a_message_waits_out_an_sqs_outage_and_is_sent_once_after(
    app: FastAPI, settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job_id = await jobs.queued(user)
    # A second moto endpoint on its own port stands in for SQS: first nothing listens there,
    # then it comes up (moto keeps one in-process state, so the queue is the test's queue).
    port = free_port()
    outage_settings = settings.model_copy(
        update={"outbox_poll_interval_seconds": 0.05, "outbox_max_backoff_seconds": 0.2}
    )
    async with sqs_client_at(settings, port) as sqs:
        publishers = {Destination.JOBS: SqsPublisher(sqs, jobs.aws.jobs_queue_url)}
        relay = OutboxRelay(app.state.sessionmaker, publishers, outage_settings)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        sqs_back = MotoServer(port=port)
        try:
            async with asyncio.timeout(20):
                while not (rows := await outbox_rows(app))[0].attempts:
                    await asyncio.sleep(0.05)
            [row] = rows
            assert row.sent_at is None
            assert row.last_error
            assert await jobs.job_messages() == []

            sqs_back.start()
            async with asyncio.timeout(20):
                while (await outbox_rows(app))[0].sent_at is None:
                    await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            sqs_back.stop()
    messages = await jobs.job_messages()
    assert [json.loads(m["Body"])["job_id"] for m in messages] == [job_id]
    assert messages[0]["Attributes"]["MessageDeduplicationId"] == job_id


@pytest.fixture
async def failing_commit(database_url: str) -> None:
    """Makes every job message's insert fail at commit (a deferred trigger on PostgreSQL)."""
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(
                "CREATE FUNCTION refuse_outbox() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'commit refused by the test'; END $$ LANGUAGE plpgsql"
            ))  # fmt: skip
            await connection.execute(text(
                "CREATE CONSTRAINT TRIGGER refuse_outbox AFTER INSERT ON outbox_messages "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "WHEN (NEW.destination = 'jobs') EXECUTE FUNCTION refuse_outbox()"
            ))  # fmt: skip
        else:
            await connection.execute(text(
                "CREATE TRIGGER refuse_outbox AFTER INSERT ON outbox_messages "
                "WHEN NEW.destination = 'jobs' "
                "BEGIN SELECT RAISE(ABORT, 'commit refused by the test'); END"
            ))  # fmt: skip
    await engine.dispose()


async def test_a_confirm_whose_transaction_fails_sends_nothing_and_changes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    database_url: str,
    users: UserFactory,
    jobs: JobDriver,
    failing_commit: None,
) -> None:
    user = await users.create()
    created = await jobs.create(user)
    job_id = created["job"]["id"]
    await jobs.upload(created)
    failed = await jobs.confirm(user, job_id)
    assert failed.status_code == 500
    assert failed.json()["code"] == "internal_error"

    assert await outbox_rows(app) == []
    assert await jobs.relay() == 0
    assert await jobs.job_messages() == []
    job = await jobs.get(user, job_id)
    assert (job["status"], job["queued_at"]) == ("pending_upload", None)
    assert (await client.get("/api/usage", headers=user.headers)).json()["jobs"] == 0
    events = (await client.get(f"/api/jobs/{job_id}/events", headers=user.headers)).json()
    assert [e["to_status"] for e in events] == ["pending_upload"]

    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP TRIGGER refuse_outbox" + (
            " ON outbox_messages" if connection.dialect.name == "postgresql" else ""
        )))  # fmt: skip
    await engine.dispose()
    assert (await jobs.confirm(user, job_id)).status_code == 202
    assert await jobs.relay() == 1
    assert len(await jobs.job_messages()) == 1
