"""A job whose dispatcher message never got it to Batch (the message went to the DLQ, or the
queue lost it) is enqueued again by the sweeper, a few times, then failed as
`dispatch_failed`, retryable, announced like any failure; a job that moved on is left alone."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI

from app.config import Settings
from app.domain.clock import utcnow
from app.domain.plans import PlanName
from app.sweeper import SweepResult
from devstack.smtp_sink import plain_text
from tests.support.jobs import JobDriver
from tests.support.mailbox import Mailbox
from tests.support.users import UserFactory
from tests.webhooks.helpers import create_endpoint


async def sweep(app: FastAPI, now: datetime) -> SweepResult:
    result: SweepResult = await app.state.job_sweeper.sweep_once(now=now)
    return result


async def test_a_stuck_queued_job_is_sent_again_each_timeout_then_fails_as_dispatch_failed(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    users: UserFactory,
    jobs: JobDriver,
    mailbox: Mailbox,
) -> None:
    user = await users.create(plan=PlanName.PRO)
    await create_endpoint(client, user, events=["job.failed"])
    await mailbox.deliver()  # the registration's email
    job_id = await jobs.queued(user)
    assert await jobs.relay() == 1
    [first] = await jobs.job_messages()  # consumed, never dispatched: as good as lost
    timeout = timedelta(seconds=settings.job_queued_timeout_seconds)
    assert settings.job_dispatch_attempts == 3

    now = utcnow()
    assert (await sweep(app, now + timeout - timedelta(seconds=5))).redispatched_jobs == 0
    dedup_ids = [first["Attributes"]["MessageDeduplicationId"]]
    for attempt in range(1, 4):
        now += timeout + timedelta(seconds=1)
        swept = await sweep(app, now)
        assert (swept.redispatched_jobs, swept.dispatch_failed_jobs) == (1, 0), attempt
        # The timer starts again with each message: the same sweep twice sends one.
        assert (await sweep(app, now)).redispatched_jobs == 0
        assert await jobs.relay() == 1
        [message] = await jobs.job_messages()
        assert json.loads(message["Body"])["job_id"] == job_id
        assert message["Attributes"]["MessageGroupId"] == str(user.id)
        dedup_ids.append(message["Attributes"]["MessageDeduplicationId"])
        assert (await jobs.get(user, job_id))["status"] == "queued"
    assert len(set(dedup_ids)) == 4, dedup_ids

    now += timeout + timedelta(seconds=1)
    swept = await sweep(app, now)
    assert (swept.redispatched_jobs, swept.dispatch_failed_jobs) == (0, 1)
    email = await mailbox.deliver_one("job_failed")  # the relay's pass sends no job message
    assert "dispatch_failed" in plain_text(email)
    assert await jobs.job_messages() == []
    job = await jobs.get(user, job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "dispatch_failed"
    assert job["error"]["retryable"] is True
    assert "4 dispatch attempts" in job["error"]["message"]
    events = (await client.get(f"/api/jobs/{job_id}/events", headers=user.headers)).json()
    assert [(e["to_status"], e["actor"]) for e in events] == [
        ("pending_upload", "customer"),
        ("queued", "customer"),
        ("failed", "sweeper"),
    ]
    deliveries = (await client.get("/api/webhooks/deliveries", headers=user.headers)).json()
    assert [d["event_type"] for d in deliveries["data"]] == ["job.failed"]

    later = await sweep(app, now + 10 * timeout)
    assert (later.redispatched_jobs, later.dispatch_failed_jobs) == (0, 0)
    # The dispatcher that receives a copy now has nothing to submit.
    assert (await jobs.dispatch(job_id)).status_code == 409


async def test_jobs_that_moved_on_or_were_just_requeued_are_left_alone(
    app: FastAPI, settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create(plan=PlanName.BUSINESS)
    submitted = await jobs.dispatched(user)
    assert (await jobs.submitted(submitted.job_id, "batch-1")).status_code == 200
    canceled = await jobs.queued(user)
    await jobs.client.post(f"/api/jobs/{canceled}/cancel", headers=user.headers)
    stuck = await jobs.queued(user)
    assert await jobs.relay() == 3
    await jobs.job_messages()
    timeout = timedelta(seconds=settings.job_queued_timeout_seconds)

    first = utcnow() + timeout + timedelta(seconds=1)
    swept = await sweep(app, first)
    assert (swept.redispatched_jobs, swept.dispatch_failed_jobs) == (1, 0)
    assert (await jobs.get(user, submitted.job_id))["status"] == "submitted"
    assert (await jobs.get(user, canceled))["status"] == "canceled"

    # The redispatched message arrives: the job moves on before the next timeout.
    assert (await jobs.dispatch(stuck)).status_code == 200
    assert (await jobs.submitted(stuck, "batch-2")).status_code == 200
    swept = await sweep(app, first + 10 * timeout)
    assert (swept.redispatched_jobs, swept.dispatch_failed_jobs) == (0, 0)
    assert (await jobs.get(user, stuck))["status"] == "submitted"
    # A copy of an old message for a job past queued dispatches nothing.
    refused = await jobs.dispatch(stuck)
    assert refused.status_code == 409
    assert refused.json()["code"] == "already_dispatched"
