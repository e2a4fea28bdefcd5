"""Idempotency-Key on POST /api/jobs, with Stripe's semantics."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from app.db.models import IdempotencyKey
from app.domain.clock import utcnow
from app.domain.plans import PlanName
from app.services.idempotency import fingerprint
from tests.support.jobs import job_body
from tests.support.users import TestUser, UserFactory


async def post(
    client: httpx.AsyncClient, user: TestUser, key: str, **overrides: object
) -> httpx.Response:
    return await client.post(
        "/api/jobs", json=job_body(**overrides), headers={**user.headers, "Idempotency-Key": key}
    )


async def job_ids(client: httpx.AsyncClient, user: TestUser) -> list[str]:
    return [j["id"] for j in (await client.get("/api/jobs", headers=user.headers)).json()["data"]]


async def test_a_retry_gets_the_first_response_and_a_different_body_is_409(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    first = await post(client, user, "order-1")
    retry = await post(client, user, "order-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await job_ids(client, user) == [first.json()["job"]["id"]]

    reused = await post(client, user, "order-1", filename="another.mp4")
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"
    # The same key on another account is another key.
    other = await users.create()
    assert (await post(client, other, "order-1")).json()["job"]["id"] != first.json()["job"]["id"]


async def test_concurrent_requests_with_one_key_make_one_job(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    responses = await asyncio.gather(*(post(client, user, "burst") for _ in range(4)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["job"]["id"] for r in responses}) == 1
    assert len(await job_ids(client, user)) == 1


async def test_a_refusal_is_not_saved_so_the_key_works_after_the_upgrade(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    square = {"options": {"aspect_ratio": "1:1", "resolution": "720p"}}
    assert (await post(client, user, "square", **square)).status_code == 403
    await users.set_plan(user.email, PlanName.PRO)
    assert (await post(client, user, "square", **square)).status_code == 201


async def test_keys_expire_after_their_time_and_are_swept(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI
) -> None:
    user = await users.create()
    first = await post(client, user, "daily-upload")
    sweeper = app.state.job_sweeper
    assert (await sweeper.sweep_once()).deleted_idempotency_keys == 0
    # A day and a bit later the key is gone and means a new request.
    later = utcnow() + timedelta(hours=24, minutes=1)
    assert (await sweeper.sweep_once(now=later)).deleted_idempotency_keys == 1
    again = await post(client, user, "daily-upload")
    assert again.status_code == 201
    assert again.json()["job"]["id"] != first.json()["job"]["id"]
    # An expired key that the sweeper has not reached yet is replaced, not replayed.
    async with app.state.sessionmaker() as session:
        await session.execute(update(IdempotencyKey).values(expires_at=utcnow()))
        await session.commit()
    third = await post(client, user, "daily-upload")
    assert third.status_code == 201
    assert third.json()["job"]["id"] != again.json()["job"]["id"]


async def test_malformed_keys_are_422(client: httpx.AsyncClient, users: UserFactory) -> None:
    user = await users.create()
    for key in ("x" * 256, "two words"):
        response = await post(client, user, key)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"


async def test_saved_keys_keep_their_fingerprint_so_a_retry_across_a_deploy_replays(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI
) -> None:
    """Keys live a day: one saved by an earlier release must still match its retry, so the
    fingerprint stays the operation and the request's fields as they were hashed first."""
    user = await users.create()
    assert (await post(client, user, "kept", duration_seconds=12.5)).status_code == 201
    async with app.state.sessionmaker() as session:
        saved = (await session.scalars(select(IdempotencyKey))).one()
    assert saved.request_hash == fingerprint(
        "POST /api/jobs",
        {
            "filename": "talk.mp4",
            "content_type": "video/mp4",
            "size_bytes": job_body()["size_bytes"],
            "duration_seconds": 12.5,
            "aspect_ratio": "9:16",
            "resolution": "720p",
        },
    )
