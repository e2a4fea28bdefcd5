"""POST /api/jobs/{id}/confirm: the upload checked in our code (moto does not enforce the
signature), one queued job, one message, however often it is called."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.jobs import VIDEO_BYTES, JobDriver
from tests.support.users import UserFactory


async def test_confirming_before_the_upload_is_409_upload_missing(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    created = await jobs.create(user)
    response = await jobs.confirm(user, created["job"]["id"])
    assert response.status_code == 409
    assert response.json()["code"] == "upload_missing"
    assert (await jobs.get(user, created["job"]["id"]))["status"] == "pending_upload"


async def test_an_upload_of_another_size_or_type_is_422_with_the_figures(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    short = await jobs.create(user)
    await jobs.upload(short, VIDEO_BYTES[:-10])
    size = await jobs.confirm(user, short["job"]["id"])
    assert size.status_code == 422
    assert size.json()["code"] == "upload_size_mismatch"
    assert size.json()["declared_bytes"] == len(VIDEO_BYTES)
    assert size.json()["actual_bytes"] == len(VIDEO_BYTES) - 10

    retyped = await jobs.create(user)
    await jobs.upload(retyped, **{"Content-Type": "application/x-msdownload"})
    content_type = await jobs.confirm(user, retyped["job"]["id"])
    assert content_type.status_code == 422
    assert content_type.json()["code"] == "upload_content_type_mismatch"
    assert content_type.json()["actual_content_type"] == "application/x-msdownload"
    assert await jobs.relay() == 0


async def test_confirming_twice_or_at_once_queues_one_job_and_sends_one_message(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    created = await jobs.create(user)
    job_id = created["job"]["id"]
    await jobs.upload(created)
    together = await asyncio.gather(*(jobs.confirm(user, job_id) for _ in range(3)))
    again = await jobs.confirm(user, job_id)
    for response in (*together, again):
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "queued"
    assert {r.json()["queued_at"] for r in (*together, again)} == {again.json()["queued_at"]}
    assert await jobs.relay() == 1
    assert await jobs.relay() == 0
    assert len(await jobs.job_messages()) == 1
    usage = (await jobs.client.get("/api/usage", headers=user.headers)).json()
    assert usage["jobs"] == 1


async def test_a_canceled_upload_cannot_be_confirmed(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    created = await jobs.create(user)
    job_id = created["job"]["id"]
    await jobs.upload(created)
    canceled = await client.post(f"/api/jobs/{job_id}/cancel", headers=user.headers)
    assert canceled.json()["status"] == "canceled"
    response = await jobs.confirm(user, job_id)
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["job_status"] == "canceled"
    assert await jobs.relay() == 0
