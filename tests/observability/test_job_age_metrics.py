"""`/metrics` reads, on each scrape, how long the oldest job has been in each state that is
not final; the sweeper logs the same figures each round for the CloudWatch alarm."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.config import Settings
from app.db.models import Job
from app.domain.clock import utcnow
from app.domain.plans import PlanName
from app.sweeper import JOB_AGES_MESSAGE
from devstack.provision import LocalAws
from tests.support.jobs import JobDriver
from tests.support.scrape import sample, scrape
from tests.support.users import UserFactory

AGE = "reframer_job_oldest_age_seconds"


@pytest.fixture
def jobs(client: httpx.AsyncClient, app: FastAPI, aws: LocalAws, settings: Settings) -> JobDriver:
    return JobDriver(client, app, aws, settings)


async def test_the_oldest_job_per_state_is_measured_at_each_scrape_and_logged_by_the_sweeper(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: UserFactory,
    jobs: JobDriver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = await scrape(client)
    assert sample(text, "reframer_job_ages_up") == 1
    for state in ("pending_upload", "queued", "submitted", "running"):
        assert sample(text, AGE, state=state) == 0
        assert sample(text, "reframer_jobs", state=state) == 0
    assert sample(text, AGE, state="succeeded") is None  # final states are not watched

    user = await users.create(plan=PlanName.PRO)
    stuck = await jobs.queued(user)
    await jobs.queued(user)
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(Job)
            .where(Job.id == uuid.UUID(stuck))
            .values(status_changed_at=utcnow() - timedelta(minutes=40))
        )
        await session.commit()

    text = await scrape(client)
    assert sample(text, "reframer_jobs", state="queued") == 2
    assert 2400 <= (sample(text, AGE, state="queued") or 0) < 2460
    assert sample(text, AGE, state="running") == 0

    with caplog.at_level(logging.INFO, logger="app.sweeper"):
        await app.state.job_sweeper.sweep_once()
    [logged] = [r for r in caplog.records if r.getMessage() == JOB_AGES_MESSAGE]
    assert 2400 <= logged.oldest_queued_age_seconds < 2460
    assert logged.oldest_running_age_seconds == 0
