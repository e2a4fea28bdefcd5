"""The sweeper expires uploads never confirmed, and only those."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import update

from app.config import Settings
from app.db.models import Job
from app.domain.clock import utcnow
from app.main import create_app
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory


async def test_stale_uploads_expire_and_can_no_longer_be_confirmed(
    app: FastAPI, settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    stale = await jobs.create(user)
    await jobs.upload(stale)
    queued = await jobs.queued(user)
    sweeper = app.state.job_sweeper

    within_grace = utcnow() + timedelta(seconds=settings.upload_url_ttl_seconds + 60)
    assert (await sweeper.sweep_once(now=within_grace)).expired_jobs == 0
    past = within_grace + timedelta(seconds=settings.upload_confirm_grace_seconds)
    assert (await sweeper.sweep_once(now=past)).expired_jobs == 1
    assert (await sweeper.sweep_once(now=past)).expired_jobs == 0

    job_id = stale["job"]["id"]
    assert (await jobs.get(user, job_id))["status"] == "expired"
    refused = await jobs.confirm(user, job_id)
    assert refused.status_code == 409
    assert refused.json()["job_status"] == "expired"
    assert (await jobs.get(user, queued))["status"] == "queued"
    events = (await jobs.client.get(f"/api/jobs/{job_id}/events", headers=user.headers)).json()
    assert events[-1]["actor"] == "sweeper"


async def test_the_lifespan_runs_the_sweeper_in_the_background(
    settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job_id = (await jobs.create(user))["job"]["id"]
    async with jobs.app.state.sessionmaker() as session:  # its upload window closed long ago
        await session.execute(update(Job).values(upload_expires_at=utcnow() - timedelta(days=1)))
        await session.commit()
    background = create_app(
        settings.model_copy(
            update={"job_sweeper_enabled": True, "job_sweep_interval_seconds": 0.05}
        )
    )
    async with background.router.lifespan_context(background), asyncio.timeout(20):
        while (await jobs.get(user, job_id))["status"] != "expired":
            await asyncio.sleep(0.05)


async def test_a_confirm_after_the_deadline_expires_the_job_even_before_the_sweeper(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    created = await jobs.create(user)
    await jobs.upload(created)
    async with jobs.app.state.sessionmaker() as session:
        await session.execute(update(Job).values(upload_expires_at=utcnow() - timedelta(days=1)))
        await session.commit()
    late = await jobs.confirm(user, created["job"]["id"])
    assert late.status_code == 409
    assert late.json()["job_status"] == "expired"
    assert (await jobs.get(user, created["job"]["id"]))["status"] == "expired"
    assert await jobs.relay() == 0
