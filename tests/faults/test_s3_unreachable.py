"""S3 unreachable at confirm: 503 with Retry-After and nothing changed; the same confirm,
retried once S3 answers, queues the job exactly once."""

from __future__ import annotations

import json

from fastapi import FastAPI
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import OutboxMessage
from app.outbox.messages import Destination
from devstack.moto_server import free_port
from tests.support.apps import running_app
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory


async def _job_outbox_rows(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.destination == Destination.JOBS.value)
        )
    return int(count or 0)


async def test_a_confirm_while_s3_is_unreachable_answers_503_and_a_retry_queues_the_job_once(
    app: FastAPI, settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    created = await jobs.create(user)
    job_id = created["job"]["id"]
    await jobs.upload(created)

    # Another replica on the same database whose S3 endpoint is a loopback port nobody
    # listens on: every connection is refused, as when S3 cannot be reached.
    cut_off = settings.model_copy(update={"aws_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    async with running_app(cut_off) as (_, replica):
        refused = await replica.post(f"/api/jobs/{job_id}/confirm", headers=user.headers)

    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    problem = refused.json()
    assert problem["code"] == "service_unavailable"
    assert problem["status"] == 503
    job = await jobs.get(user, job_id)
    assert (job["status"], job["queued_at"]) == ("pending_upload", None)
    assert await _job_outbox_rows(app) == 0

    retried = await jobs.confirm(user, job_id)
    assert retried.status_code == 202, retried.text
    assert (await jobs.confirm(user, job_id)).status_code == 202  # and again: no second queueing

    assert (await jobs.get(user, job_id))["status"] == "queued"
    assert await _job_outbox_rows(app) == 1
    assert await jobs.relay() == 1
    messages = await jobs.job_messages()
    assert [json.loads(m["Body"])["job_id"] for m in messages] == [job_id]
    events = (await jobs.client.get(f"/api/jobs/{job_id}/events", headers=user.headers)).json()
    assert [e["to_status"] for e in events].count("queued") == 1
