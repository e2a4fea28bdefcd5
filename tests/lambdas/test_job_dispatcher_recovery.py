"""The dispatcher and the sweeper's recovery of queued jobs: a message the sweeper enqueued
again, arriving after the job's first message already took it to Batch, makes no second
Batch job."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi import FastAPI

from app.config import Settings
from app.domain.clock import utcnow
from devstack.batch_runner import LocalBatch
from devstack.provision import LocalAws
from tests.lambdas.test_job_dispatcher import (
    batch_job_id_of,
    invoke,
    receive_event,
    submitted_jobs,
)
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory

pytestmark = pytest.mark.usefixtures("dispatcher_env")


async def test_a_late_recovery_message_for_a_job_past_queued_is_acknowledged_without_work(
    jobs: JobDriver,
    users: UserFactory,
    app: FastAPI,
    aws: LocalAws,
    settings: Settings,
    local_batch: LocalBatch,
) -> None:
    user = await users.create()
    job_id = await jobs.queued(user)
    assert await jobs.relay() == 1
    # The first message is slow to be taken; the sweeper sends the job again meanwhile.
    later = utcnow() + timedelta(seconds=settings.job_queued_timeout_seconds + 1)
    assert (await app.state.job_sweeper.sweep_once(now=later)).redispatched_jobs == 1
    assert await jobs.relay() == 1

    event = await receive_event(app, aws, 2)
    assert [json.loads(r["body"])["job_id"] for r in event["Records"]] == [job_id, job_id]
    assert await invoke(event) == []  # both done with: the second had nothing to do

    [batch_job] = submitted_jobs(local_batch)[job_id]
    assert await batch_job_id_of(app, job_id) == batch_job.job_id
    assert (await jobs.get(user, job_id))["status"] in {"submitted", "running", "failed"}
    # And once more, as SQS may deliver it again.
    assert await invoke({"Records": event["Records"][1:]}) == []
    assert len(local_batch.submissions()) == 1
