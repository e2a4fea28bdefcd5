"""A job's changes of status reach the customer: webhook events and the job-finished email,
written in the transaction that makes each change."""

from __future__ import annotations

import httpx

from app.config import Settings
from app.domain.plans import PlanName
from devstack.smtp_sink import plain_text
from tests.support.jobs import JobDriver
from tests.support.mailbox import Mailbox
from tests.support.users import UserFactory
from tests.webhooks.helpers import create_endpoint


async def event_types(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    deliveries = await client.get("/api/webhooks/deliveries", headers=headers)
    assert deliveries.status_code == 200, deliveries.text
    return sorted(d["event_type"] for d in deliveries.json()["data"])


async def test_a_succeeded_job_announces_each_step_and_emails_its_owner(
    client: httpx.AsyncClient,
    users: UserFactory,
    jobs: JobDriver,
    mailbox: Mailbox,
) -> None:
    user = await users.create(plan=PlanName.PRO)
    await create_endpoint(client, user)
    await mailbox.deliver()  # the registration's email

    dispatched = await jobs.running(user)
    await jobs.write_outputs(dispatched)
    completed = await jobs.callback(
        dispatched, "complete", {"outputs": jobs.outputs_of(dispatched), "metrics": {}}
    )
    assert completed.status_code == 200, completed.text

    assert await event_types(client, user.headers) == [
        "job.queued",
        "job.started",
        "job.succeeded",
    ]
    email = await mailbox.deliver_one("job_succeeded")
    assert email["To"] == user.email
    assert dispatched.job_id in plain_text(email)

    # A repeated callback changes nothing, so it announces nothing either.
    again = await jobs.callback(
        dispatched, "complete", {"outputs": jobs.outputs_of(dispatched), "metrics": {}}
    )
    assert again.status_code == 200
    assert len(await event_types(client, user.headers)) == 3


async def test_a_failed_job_tells_why_and_an_opted_out_owner_gets_no_email(
    client: httpx.AsyncClient,
    users: UserFactory,
    jobs: JobDriver,
    mailbox: Mailbox,
    settings: Settings,
) -> None:
    user = await users.create(plan=PlanName.PRO)
    await create_endpoint(client, user, events=["job.failed"])
    dispatched = await jobs.running(user)
    failed = await jobs.callback(
        dispatched, "fail", {"code": "invalid_media", "message": "no video stream"}
    )
    assert failed.status_code == 200, failed.text
    assert await event_types(client, user.headers) == ["job.failed"]
    email = await mailbox.deliver_one("job_failed")
    assert "invalid_media" in plain_text(email)

    opted_out = await client.patch(
        "/api/me", json={"notify_on_job_done": False}, headers=user.headers
    )
    assert opted_out.status_code == 200
    second = await jobs.running(user, batch_job_id="batch-2")
    await jobs.callback(second, "fail", {"code": "pipeline_error", "message": "boom"})
    assert [m["X-Reframer-Kind"] for m in await mailbox.deliver()] == []
