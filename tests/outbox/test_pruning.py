"""The relay prunes the messages it sent once OUTBOX_SENT_RETENTION has passed, in small batches:
unsent ones stay, replicas pruning at once share the rows, and a backlog larger than one round
is worked off pass after pass rather than an hour later."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import func, select, update

from app.config import Settings
from app.db.models import OutboxMessage
from app.domain.clock import utcnow
from app.domain.plans import PlanName
from app.outbox.messages import Destination, enqueue
from app.outbox.relay import OutboxRelay
from app.retention.rules import OUTBOX_SENT_RETENTION
from tests.support.jobs import JobDriver
from tests.support.users import TestUser, UserFactory


def _relay(app: FastAPI, settings: Settings, **overrides: object) -> OutboxRelay:
    """Another relay on the app's database and publishers (a replica), with its own settings."""
    relay: OutboxRelay = app.state.outbox_relay
    return OutboxRelay(
        app.state.sessionmaker, relay.publishers, settings.model_copy(update=overrides)
    )


async def _sent_count(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        query = select(func.count()).where(OutboxMessage.sent_at.is_not(None))
        return int(await session.scalar(query) or 0)


async def _unsent_dedup_ids(app: FastAPI) -> list[str | None]:
    async with app.state.sessionmaker() as session:
        query = select(OutboxMessage.dedup_id).where(OutboxMessage.sent_at.is_(None))
        return list((await session.scalars(query)).all())


async def _send_jobs(users: UserFactory, jobs: JobDriver, count: int) -> TestUser:
    """A user whose `count` queued jobs' messages the relay has sent."""
    user = await users.create(plan=PlanName.PRO)
    for _ in range(count):
        await jobs.queued(user)
    assert await jobs.relay() == count
    return user


async def test_sent_messages_go_after_the_retention_a_batch_at_a_time_and_unsent_ones_stay(
    app: FastAPI, settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    user = await _send_jobs(users, jobs, 3)
    waiting = await jobs.queued(user)  # committed, not sent yet
    sent = await _sent_count(app)  # the job messages and the verification email
    relay = _relay(app, settings, retention_batch_size=2)
    assert sent > 2  # more than one batch

    assert await relay.prune_sent(now=utcnow() + OUTBOX_SENT_RETENTION - timedelta(hours=1)) == 0
    assert await _sent_count(app) == sent

    assert await relay.prune_sent(now=utcnow() + OUTBOX_SENT_RETENTION + timedelta(hours=1)) == sent
    assert await _sent_count(app) == 0
    assert await _unsent_dedup_ids(app) == [waiting]
    assert await jobs.relay() == 1  # and it still goes out


async def test_relays_pruning_at_once_share_the_sent_rows(
    app: FastAPI, settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    await _send_jobs(users, jobs, 4)
    sent = await _sent_count(app)
    replicas = [_relay(app, settings, retention_batch_size=2) for _ in range(2)]
    past = utcnow() + OUTBOX_SENT_RETENTION + timedelta(hours=1)

    rounds = await asyncio.gather(*(replica.prune_sent(now=past) for replica in replicas))

    assert sum(rounds) == sent
    assert await _sent_count(app) == 0


async def test_a_running_relay_works_off_a_backlog_larger_than_one_round(
    app: FastAPI, settings: Settings
) -> None:
    async with app.state.sessionmaker() as session:
        for n in range(25):  # a round of 1-row batches takes 20
            enqueue(session, Destination.JOBS, {"n": n}, group_id="backlog", dedup_id=f"m{n}")
        await session.commit()
    assert await app.state.outbox_relay.relay_once() == (25, 0)
    async with app.state.sessionmaker() as session:  # they went out long ago
        long_ago = utcnow() - OUTBOX_SENT_RETENTION - timedelta(days=1)
        await session.execute(update(OutboxMessage).values(sent_at=long_ago))
        await session.commit()
    relay = _relay(app, settings, retention_batch_size=1, outbox_poll_interval_seconds=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(20):
            while await _sent_count(app):
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert await _unsent_dedup_ids(app) == []
