"""POST /api/jobs: what it accepts, what it refuses (always a 4xx problem), and the upload URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy import delete

from app.db.models import Account
from devstack.provision import LocalAws
from tests.support.jobs import JobDriver, job_body
from tests.support.users import UserFactory


async def test_the_upload_url_signs_type_and_length_under_an_unguessable_job_key(
    users: UserFactory, jobs: JobDriver, aws: LocalAws
) -> None:
    user = await users.create()
    first = await jobs.create(user)
    second = await jobs.create(user)
    upload = first["upload"]
    assert upload["headers"] == {
        "Content-Type": "video/mp4",
        "Content-Length": str(job_body()["size_bytes"]),
    }
    url = urlsplit(upload["url"])
    signed = parse_qs(url.query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-type", "content-length", "host"} <= set(signed)
    job_id = first["job"]["id"]
    prefix = f"/{aws.bucket}/uploads/{job_id}/"
    assert url.path.startswith(prefix)
    secret_part = url.path.removeprefix(prefix).split("/")[0]
    assert len(secret_part) >= 32
    other = urlsplit(second["upload"]["url"]).path
    assert secret_part not in other
    assert first["job"]["status"] == "pending_upload"
    assert first["job"]["upload_expires_at"] == upload["expires_at"]


async def test_a_new_job_is_readable_and_listed(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    created = await jobs.create(
        user, filename="Keynote 2026 (final).mov", content_type="video/quicktime"
    )
    job = await jobs.get(user, created["job"]["id"])
    assert job == created["job"]
    assert job["filename"] == "Keynote 2026 (final).mov"
    assert job["progress"] is None
    listed = (await client.get("/api/jobs", headers=user.headers)).json()
    assert [j["id"] for j in listed["data"]] == [job["id"]]


async def test_options_default_to_vertical_720p(users: UserFactory, jobs: JobDriver) -> None:
    user = await users.create()
    body = job_body()
    del body["options"]
    created = await jobs.client.post("/api/jobs", json=body, headers=user.headers)
    assert created.status_code == 201
    assert created.json()["job"]["options"] == {"aspect_ratio": "9:16", "resolution": "720p"}


BAD_REQUESTS: list[tuple[dict[str, object], str]] = [
    ({"content_type": "image/png"}, "content_type"),
    ({"content_type": "application/octet-stream"}, "content_type"),
    ({"content_type": "Video/MP4"}, "content_type"),
    ({"filename": "../etc/passwd"}, "filename"),
    ({"filename": "a\x00b.mp4"}, "filename"),
    ({"filename": "x" * 256}, "filename"),
    ({"filename": ""}, "filename"),
    ({"size_bytes": 0}, "size_bytes"),
    ({"size_bytes": "lots"}, "size_bytes"),
    ({"duration_seconds": -1}, "duration_seconds"),
    ({"options": {"aspect_ratio": "16:9", "resolution": "720p"}}, "options.aspect_ratio"),
    ({"options": {"aspect_ratio": "9:16", "resolution": "8k"}}, "options.resolution"),
    ({"priority": "high"}, "priority"),
]


async def test_bad_requests_are_422_naming_the_field_and_store_nothing(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    for overrides, field in BAD_REQUESTS:
        response = await client.post("/api/jobs", json=job_body(**overrides), headers=user.headers)
        assert response.status_code == 422, overrides
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field], overrides
    assert (await client.get("/api/jobs", headers=user.headers)).json()["data"] == []


async def test_jobs_need_a_login(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/jobs", json=job_body())
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


async def test_a_token_that_outlived_its_account_is_refused_not_a_server_error(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI
) -> None:
    """Creation reads the plan and the month's usage in one query of its own: an access token
    still unexpired after an operator deleted its account gets 401."""
    user = await users.create()
    async with app.state.sessionmaker() as session:
        await session.execute(delete(Account).where(Account.id == user.id))
        await session.commit()
    response = await client.post("/api/jobs", json=job_body(), headers=user.headers)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
