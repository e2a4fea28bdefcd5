"""The sweeper drops idempotency keys once they expire, in small batches: a key still within
its time stays, and sweepers on several replicas share the expired ones."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from app.config import Settings
from app.db.models import IdempotencyKey
from app.domain.clock import utcnow
from app.domain.plans import PlanName
from app.sweeper import JobSweeper
from tests.support.jobs import job_body
from tests.support.users import TestUser, UserFactory


async def _create_job(client: httpx.AsyncClient, user: TestUser, key: str) -> None:
    response = await client.post(
        "/api/jobs", json=job_body(), headers={**user.headers, "Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text


async def _create_jobs(client: httpx.AsyncClient, users: UserFactory, count: int) -> TestUser:
    """A user who created `count` jobs, each with a key of its own (on a plan whose cap on
    jobs waiting for an upload leaves room for them all)."""
    user = await users.create(plan=PlanName.PRO)
    for n in range(count):
        await _create_job(client, user, f"order-{n}")
    return user


async def _keys(app: FastAPI) -> list[str]:
    async with app.state.sessionmaker() as session:
        return sorted((await session.scalars(select(IdempotencyKey.key))).all())


def _sweeper(app: FastAPI, settings: Settings) -> JobSweeper:
    """A sweeper (one per replica) deleting two rows a batch."""
    small_batches = settings.model_copy(update={"retention_batch_size": 2})
    return JobSweeper(app.state.sessionmaker, small_batches)


async def test_expired_keys_go_a_batch_at_a_time_and_a_live_key_stays(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, users: UserFactory
) -> None:
    user = await _create_jobs(client, users, 5)
    async with app.state.sessionmaker() as session:  # their 24 hours ended a minute ago
        await session.execute(
            update(IdempotencyKey).values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await session.commit()
    await _create_job(client, user, "today")

    swept = await _sweeper(app, settings).sweep_once()

    assert swept.deleted_idempotency_keys == 5
    assert await _keys(app) == ["today"]


async def test_sweepers_on_several_replicas_share_the_expired_keys(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, users: UserFactory
) -> None:
    await _create_jobs(client, users, 5)
    replicas = [_sweeper(app, settings) for _ in range(2)]
    tomorrow = utcnow() + timedelta(hours=24, minutes=1)

    rounds = await asyncio.gather(*(replica.sweep_once(now=tomorrow) for replica in replicas))

    assert sum(r.deleted_idempotency_keys for r in rounds) == 5
    assert await _keys(app) == []
