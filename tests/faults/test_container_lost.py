"""A Batch container killed with SIGKILL mid-run (no trap runs, nothing reports `fail`): the
sweeper notices the silence and fails the job as `container_lost`, retryable, announced like
any failure; it never overwrites a job that reached a final state first."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import Job, OutboxMessage, WebhookEvent
from app.domain.clock import utcnow
from app.domain.plans import PlanName
from app.outbox.messages import Destination
from devstack.batch_runner import LocalBatch
from devstack.moto_server import MotoServer
from tests.faults.conftest import HEARTBEAT_TIMEOUT_SECONDS
from tests.support.jobs import Dispatched, JobDriver
from tests.support.users import TestUser, UserFactory
from tests.webhooks.helpers import create_endpoint

WAIT_SECONDS = 60.0


def _past_the_timeout() -> Any:
    return utcnow() + timedelta(seconds=HEARTBEAT_TIMEOUT_SECONDS + 1)


async def _announcements(app: FastAPI) -> dict[str, int]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            select(OutboxMessage.destination, func.count()).group_by(OutboxMessage.destination)
        )
        return dict(rows.all())


async def _job_row(app: FastAPI, job_id: str) -> Job:
    async with app.state.sessionmaker() as session:
        job: Job | None = await session.get(Job, uuid.UUID(job_id))
        assert job is not None
        return job


def _start_container(
    dispatched: Dispatched, batch_job_id: str, moto_server: MotoServer, log: Path
) -> subprocess.Popen[bytes]:
    """docker-entrypoint.sh with the environment the dispatcher and Batch give it, in a
    process group of its own as in a container."""
    spec = dispatched.spec
    batch = LocalBatch(aws_endpoint_url=moto_server.endpoint_url)
    environment = batch.container_environment(
        batch_job_id,
        "standard",
        {
            "JOB_ID": dispatched.job_id,
            "INPUT_URI": spec["input_uri"],
            "OUTPUT_PREFIX": spec["output_prefix"],
            "OPTIONS": json.dumps(spec["options"]),
            "CALLBACK_URL": spec["callback_url"],
            "CALLBACK_TOKEN": spec["callback_token"],
            "HEARTBEAT_INTERVAL_SECONDS": "1",
        },
    )
    with log.open("wb") as output:
        return subprocess.Popen(
            ["/usr/bin/env", "bash", str(batch.entrypoint)],
            cwd=batch.entrypoint.parent,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _running_with_heartbeats(
    app: FastAPI, jobs: JobDriver, user: TestUser, job_id: str, log: Path
) -> None:
    """Until the job runs and a heartbeat has come after its start."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        job = await _job_row(app, job_id)
        if (
            job.status == "running"
            and job.started_at is not None
            and job.heartbeat_at is not None
            and job.heartbeat_at > job.started_at
        ):
            return
        assert time.monotonic() < deadline, f"no heartbeat: {job.status}\n{log.read_text()}"
        assert job.status in {"submitted", "running"}, log.read_text()
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_container_killed_mid_run_is_failed_by_the_sweeper_as_container_lost(
    app: FastAPI,
    settings: Settings,
    users: UserFactory,
    jobs: JobDriver,
    api_url: str,
    moto_server: MotoServer,
    long_clip: bytes,
    tmp_path: Path,
) -> None:
    user = await users.create(plan=PlanName.PRO)
    await create_endpoint(jobs.client, user)
    created = await jobs.create(user, size_bytes=len(long_clip))
    job_id = created["job"]["id"]
    await jobs.upload(created, long_clip)
    assert (await jobs.confirm(user, job_id)).status_code == 202
    dispatch = await jobs.dispatch(job_id)
    assert dispatch.status_code == 200, dispatch.text
    dispatched = Dispatched(job_id=job_id, spec=dispatch.json())
    assert (await jobs.submitted(job_id, "batch-killed")).status_code == 200

    log = tmp_path / "container.log"
    container = _start_container(dispatched, "batch-killed", moto_server, log)
    try:
        await _running_with_heartbeats(app, jobs, user, job_id, log)
        # Spot reclaimed, out of memory, host gone: the whole container dies at once.
        os.killpg(container.pid, signal.SIGKILL)
    finally:
        await asyncio.to_thread(container.wait)
    assert "complete" not in log.read_text()

    # Nothing else notices: within the timeout the job still looks alive.
    sweeper = app.state.job_sweeper
    assert (await sweeper.sweep_once()).lost_jobs == 0
    assert (await jobs.get(user, job_id))["status"] == "running"
    before = await _announcements(app)

    assert (await sweeper.sweep_once(now=_past_the_timeout())).lost_jobs == 1

    job = await jobs.get(user, job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "container_lost"
    assert job["error"]["retryable"] is True
    assert job["error"]["message"]
    assert job["finished_at"] is not None
    events = (await jobs.client.get(f"/api/jobs/{job_id}/events", headers=user.headers)).json()
    assert (events[-1]["from_status"], events[-1]["to_status"]) == ("running", "failed")
    assert events[-1]["actor"] == "sweeper"
    after = await _announcements(app)
    assert after.get(Destination.WEBHOOKS.value, 0) == before.get(Destination.WEBHOOKS.value, 0) + 1
    assert after.get(Destination.EMAIL.value, 0) == before.get(Destination.EMAIL.value, 0) + 1
    async with app.state.sessionmaker() as session:
        failed_events = (
            await session.scalars(select(WebhookEvent).where(WebhookEvent.type == "job.failed"))
        ).all()
    assert [json.loads(e.payload)["data"]["job_id"] for e in failed_events] == [job_id]

    # A second sweep finds nothing more to do.
    assert (await sweeper.sweep_once(now=_past_the_timeout())).lost_jobs == 0

    # Late callbacks of the dead container change nothing: progress and complete are refused,
    # a fail is a repeat of the state the job is already in.
    late_progress = await jobs.callback(dispatched, "progress", {"stage": "render", "percent": 90})
    assert late_progress.status_code == 409
    assert late_progress.json()["job_status"] == "failed"
    late_complete = await jobs.callback(
        dispatched,
        "complete",
        {"outputs": jobs.outputs_of(dispatched), "metrics": {"duration_seconds": 12.0}},
    )
    assert late_complete.status_code == 409
    late_fail = await jobs.callback(
        dispatched, "fail", {"code": "timeout", "message": "stopped by SIGTERM"}
    )
    assert late_fail.status_code == 200
    final = await jobs.get(user, job_id)
    assert (final["status"], final["error"]["code"]) == ("failed", "container_lost")
    assert final["finished_at"] == job["finished_at"]
    assert await _announcements(app) == after


async def test_jobs_that_ended_or_still_report_are_left_alone_by_the_sweeper(
    app: FastAPI, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create(plan=PlanName.PRO)
    succeeded = await jobs.running(user, "batch-done")
    await jobs.write_outputs(succeeded)
    completed = await jobs.callback(
        succeeded, "complete", {"outputs": jobs.outputs_of(succeeded), "metrics": {}}
    )
    assert completed.status_code == 200, completed.text
    canceled = await jobs.running(user, "batch-canceled")
    cancel = await jobs.client.post(f"/api/jobs/{canceled.job_id}/cancel", headers=user.headers)
    assert cancel.status_code in (200, 202), cancel.text
    failed = await jobs.running(user, "batch-failed")
    reported = await jobs.callback(failed, "fail", {"code": "invalid_media", "message": "no"})
    assert reported.status_code == 200
    before = await _announcements(app)

    result = await app.state.job_sweeper.sweep_once(now=_past_the_timeout())

    assert result.lost_jobs == 0
    assert (await jobs.get(user, succeeded.job_id))["status"] == "succeeded"
    assert (await jobs.get(user, canceled.job_id))["status"] == "canceled"
    failure = (await jobs.get(user, failed.job_id))["error"]
    assert (failure["code"], failure["retryable"]) == ("invalid_media", False)
    assert await _announcements(app) == before


async def test_a_repeated_progress_report_is_a_heartbeat(
    app: FastAPI, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    dispatched = await jobs.running(user)
    body = {"stage": "faces", "percent": 40}
    assert (await jobs.callback(dispatched, "progress", body)).status_code == 200
    first = (await _job_row(app, dispatched.job_id)).heartbeat_at

    repeated = await jobs.callback(dispatched, "progress", body)

    assert repeated.status_code == 200
    assert repeated.json()["status"] == "running"
    second = (await _job_row(app, dispatched.job_id)).heartbeat_at
    assert first is not None
    assert second is not None
    assert second > first
    assert (await jobs.get(user, dispatched.job_id))["progress"] == body


async def test_a_batch_job_that_never_starts_fails_after_the_longer_submitted_timeout(
    app: FastAPI, settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    dispatched = await jobs.dispatched(user)
    assert (await jobs.submitted(dispatched.job_id, "batch-never-ran")).status_code == 200
    sweeper = app.state.job_sweeper

    # Past the heartbeat timeout, a queued Batch job is still waiting, not lost.
    assert (await sweeper.sweep_once(now=_past_the_timeout())).lost_jobs == 0
    assert (await jobs.get(user, dispatched.job_id))["status"] == "submitted"
    later = utcnow() + timedelta(seconds=settings.job_submitted_timeout_seconds + 1)
    assert (await sweeper.sweep_once(now=later)).lost_jobs == 1

    job = await jobs.get(user, dispatched.job_id)
    assert (job["status"], job["error"]["code"], job["error"]["retryable"]) == (
        "failed",
        "container_lost",
        True,
    )
    # The container, should it start after all, is turned away.
    late_start = await jobs.callback(dispatched, "start", {"batch_job_id": "batch-never-ran"})
    assert late_start.status_code == 409
