"""The relay sends several SQS batches at once; a FIFO message group still arrives in the
order it was enqueued, and never overtakes one of its messages that could not be sent, in
the same pass or in any later one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.config import Settings
from app.db.models import OutboxMessage
from app.outbox.messages import Destination, enqueue
from app.outbox.publishers.sqs import HELD_BEHIND_FAILURE, SqsPublisher
from app.outbox.relay import OutboxRelay, message_backoff
from devstack.moto_server import free_port
from tests.support.jobs import JobDriver
from tests.support.sqs import sqs_client_at

# Past SQS's batch size limit (1 MiB) on its own: SendMessageBatch refuses the whole call.
TOO_LARGE = "x" * (1100 * 1024)


async def enqueue_jobs(app: FastAPI, plan: list[tuple[str, str]]) -> list[str]:
    """Enqueues one JOBS message per (group, note), each in a transaction of its own as a
    request would; returns their job ids in order."""
    job_ids = []
    for sequence, (group, note) in enumerate(plan):
        job_id = str(uuid.uuid4())
        payload = {"job_id": job_id, "account_id": group, "sequence": sequence, "note": note}
        async with app.state.sessionmaker() as session:
            enqueue(session, Destination.JOBS, payload, group_id=group, dedup_id=job_id)
            await session.commit()
        job_ids.append(job_id)
    return job_ids


async def test_each_group_arrives_in_enqueue_order_across_concurrent_batches(
    app: FastAPI, jobs: JobDriver
) -> None:
    groups = [f"account-{n}" for n in range(3)]
    # 90 messages interleaved across three groups: nine batches of ten, sent in parallel lanes.
    await enqueue_jobs(app, [(groups[n % 3], "") for n in range(90)])

    sent, failed = await app.state.outbox_relay.relay_once()

    assert (sent, failed) == (90, 0)
    # A FIFO queue hands out each group's messages in the order they arrived.
    arrived: dict[str, list[int]] = defaultdict(list)
    for message in await jobs.job_messages():
        body = json.loads(message["Body"])
        arrived[message["Attributes"]["MessageGroupId"]].append(body["sequence"])
    assert arrived == {group: list(range(n, 90, 3)) for n, group in enumerate(groups)}


async def test_a_group_waits_behind_its_unsent_message_while_other_groups_go_on(
    app: FastAPI, jobs: JobDriver
) -> None:
    plan = [("account-a", "")] + [("account-a", TOO_LARGE)] + [("account-a", "")] * 14
    plan += [("account-b", "")] * 5
    await enqueue_jobs(app, plan)

    sent, failed = await app.state.outbox_relay.relay_once()

    assert (sent, failed) == (5, 16)
    delivered = [json.loads(m["Body"]) for m in await jobs.job_messages()]
    assert [body["account_id"] for body in delivered] == ["account-b"] * 5
    async with app.state.sessionmaker() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.group_id == "account-a")
            )
        ).all()
    assert all(row.sent_at is None and row.attempts == 1 for row in rows)
    # The first ten shared the refused call; the six after them were held back, not sent.
    assert sum(row.last_error == HELD_BEHIND_FAILURE for row in rows) == 6


async def time_passes(app: FastAPI, delay: timedelta) -> None:
    """What waiting `delay` does to the relay: every pending row becomes due that much sooner."""
    async with app.state.sessionmaker() as session:
        pending = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        )
        for row in pending:
            row.available_at -= delay
        await session.commit()


def arrival_order(messages: list[dict[str, object]]) -> dict[str, list[str]]:
    """Each group's notes in the order the FIFO queue hands them out."""
    arrived: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        body = json.loads(str(message["Body"]))
        arrived[body["account_id"]].append(body["note"])
    return dict(arrived)


async def test_a_group_message_that_failed_several_times_still_goes_out_before_later_ones(
    app: FastAPI, settings: Settings, jobs: JobDriver
) -> None:
    # While SQS is unreachable (nothing listens on the port), account-a's first message fails
    # three times and so waits out ever longer backoffs; the group's later messages, written
    # during the outage, are tried (one fails, the next is held) only once, so their own
    # backoff ends first. None of them may reach SQS before the first one.
    async with sqs_client_at(settings, free_port()) as unreachable_sqs:
        publishers = {Destination.JOBS: SqsPublisher(unreachable_sqs, jobs.aws.jobs_queue_url)}
        during_outage = OutboxRelay(app.state.sessionmaker, publishers, settings)

        await enqueue_jobs(app, [("account-a", "first")])
        for attempt in range(1, 4):
            assert await during_outage.relay_once() == (0, 1)
            if attempt < 3:
                await time_passes(app, message_backoff(attempt))
        await enqueue_jobs(app, [("account-a", "second"), ("account-a", "third")])
        await enqueue_jobs(app, [("account-b", "other group")])
        await during_outage.relay_once()

    # SQS is back. The later messages' backoff ends before the first message's does.
    await time_passes(app, message_backoff(1))
    await app.state.outbox_relay.relay_once()
    await time_passes(app, message_backoff(3))
    await app.state.outbox_relay.relay_once()

    arrived = arrival_order(await jobs.job_messages())
    assert arrived == {"account-a": ["first", "second", "third"], "account-b": ["other group"]}


@contextlib.asynccontextmanager
async def sqs_that_hangs() -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A loopback port that accepts a request and answers nothing until the test is done
    (SQS slow to answer); yields the port and an event set once a request arrived."""
    arrived, release = asyncio.Event(), asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        arrived.set()
        await release.wait()
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], arrived
    finally:
        release.set()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_relays_never_send_one_group_out_of_order(
    app: FastAPI, settings: Settings, jobs: JobDriver
) -> None:
    """Every API replica runs a relay. While one relay's send of a group's message hangs,
    another relay leaves that group's later messages alone (other groups go on), so the
    group still arrives in the order it was written."""
    await enqueue_jobs(app, [("account-a", "first")])
    async with sqs_that_hangs() as (port, arrived), sqs_client_at(settings, port) as slow_sqs:
        stalled = OutboxRelay(
            app.state.sessionmaker,
            {Destination.JOBS: SqsPublisher(slow_sqs, jobs.aws.jobs_queue_url)},
            settings,
        )
        stalled_pass = asyncio.create_task(stalled.relay_once())
        await asyncio.wait_for(arrived.wait(), timeout=10)
        await enqueue_jobs(app, [("account-a", "second"), ("account-b", "other")])

        assert await app.state.outbox_relay.relay_once() == (1, 0)  # account-b only
    assert await stalled_pass == (0, 1)  # the hanging send failed: "first" is retried

    for _ in range(5):
        await time_passes(app, timedelta(minutes=10))
        await app.state.outbox_relay.relay_once()
    assert arrival_order(await jobs.job_messages()) == {
        "account-a": ["first", "second"],
        "account-b": ["other"],
    }
