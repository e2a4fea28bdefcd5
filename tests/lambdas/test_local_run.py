"""`make run`'s wiring: a confirmed job goes outbox -> SQS FIFO -> dispatcher poller ->
local Batch runner -> `docker-entrypoint.sh`, whose callbacks reach the API, with no step
taken by hand."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.config import Settings
from app.domain.plans import PlanName
from devstack.lambda_runners import (
    job_dispatcher_environment,
    run_job_dispatcher,
    run_local_batch,
)
from tests.lambdas.conftest import TEST_STOP_GRACE_SECONDS
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory

WAIT_SECONDS = 45.0
FINAL = {"succeeded", "failed", "canceled", "expired"}


async def test_a_confirmed_job_reaches_the_running_container_with_no_manual_step(
    jobs: JobDriver,
    users: UserFactory,
    settings: Settings,
    api_url: str,
    tiny_clip: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The runner writes the function's environment into this process, as `make run` does;
    # registering the names first puts them back afterwards.
    for name, value in job_dispatcher_environment(settings, api_url, "unset").items():
        monkeypatch.setenv(name, value)
    user = await users.create(plan=PlanName.PRO)
    created = await jobs.create(user, size_bytes=len(tiny_clip))
    job_id = created["job"]["id"]
    await jobs.upload(created, tiny_clip)
    assert (await jobs.confirm(user, job_id)).status_code == 202

    async with (
        run_local_batch(settings, stop_grace_seconds=TEST_STOP_GRACE_SECONDS) as batch,
        run_job_dispatcher(settings, api_url, batch),
    ):
        assert await jobs.relay() == 1  # the API's relay task, once
        deadline = time.monotonic() + WAIT_SECONDS
        job = await jobs.get(user, job_id)
        while job["started_at"] is None:
            assert time.monotonic() < deadline, f"the container never started: {job}"
            await asyncio.sleep(0.2)
            job = await jobs.get(user, job_id)
        assert job["status"] in {"running", *FINAL} - {"canceled", "expired"}
        [submission] = batch.submissions()
        assert submission.environment["JOB_ID"] == job_id
        assert submission.environment["PYTHON"]  # the pipeline runs from this virtualenv

        # The real pipeline then runs on the tiny clip and reports its end.
        while job["status"] not in FINAL:
            assert time.monotonic() < deadline, f"the job never finished: {job}"
            await asyncio.sleep(0.5)
            job = await jobs.get(user, job_id)
        assert job["status"] == "succeeded", job
