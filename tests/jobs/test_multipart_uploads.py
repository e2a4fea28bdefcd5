"""Sources above the multipart threshold upload in parts, straight to S3 (moto server):
resumable from the parts storage holds, completed with the parts' ETags, then confirmed as
a single PUT is; abort, cancel and expiry leave no multipart upload behind."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.config import Settings
from app.db.models import Job
from app.domain.clock import utcnow
from app.domain.plans import GIB, MIB, PlanName
from devstack.provision import LocalAws
from tests.support.jobs import JobDriver
from tests.support.multipart import (
    MULTIPART_THRESHOLD,
    SOURCE_SIZE,
    part_of,
    put_part,
    source_bytes,
)
from tests.support.users import TestUser, UserFactory


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"multipart_threshold_bytes": MULTIPART_THRESHOLD})


@pytest.fixture(scope="module")
def content() -> bytes:
    return source_bytes()


async def _open_uploads(app: FastAPI, aws: LocalAws) -> list[dict[str, Any]]:
    listed = await app.state.aws.s3.list_multipart_uploads(Bucket=aws.bucket)
    uploads: list[dict[str, Any]] = listed.get("Uploads", [])
    return uploads


async def _complete(
    client: httpx.AsyncClient, user: TestUser, job_id: str, etags: dict[int, str]
) -> httpx.Response:
    parts = [{"part_number": n, "etag": etag} for n, etag in sorted(etags.items())]
    return await client.post(
        f"/api/jobs/{job_id}/upload/complete", json={"parts": parts}, headers=user.headers
    )


async def test_a_large_source_uploads_in_parts_completes_and_confirms(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver, content: bytes
) -> None:
    user = await users.create()
    created = await jobs.create(user, size_bytes=SOURCE_SIZE)
    upload = created["upload"]
    assert upload["method"] == "multipart"
    assert (upload["part_size_bytes"], upload["part_count"]) == (8 * MIB, 3)
    assert [p["size_bytes"] for p in upload["parts"]] == [8 * MIB, 8 * MIB, MIB + 7]
    assert [p["headers"] for p in upload["parts"]][2] == {"Content-Length": str(MIB + 7)}
    job_id = created["job"]["id"]

    # Before it is assembled there is nothing to confirm.
    early = await jobs.confirm(user, job_id)
    assert (early.status_code, early.json()["code"]) == (409, "upload_missing")
    assert "complete the multipart upload" in early.json()["detail"]

    etags = {p["part_number"]: await put_part(p, part_of(content, upload, p["part_number"]))
             for p in upload["parts"]}  # fmt: skip
    completed = await _complete(client, user, job_id, etags)
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "pending_upload"
    again = await _complete(client, user, job_id, etags)  # a retried complete changes nothing
    assert again.status_code == 200, again.text
    state = (await client.get(f"/api/jobs/{job_id}/upload", headers=user.headers)).json()
    assert (state["state"], state["missing_parts"]) == ("completed", [])

    confirmed = await jobs.confirm(user, job_id)
    assert confirmed.status_code == 202, confirmed.text
    assert confirmed.json()["status"] == "queued"
    stored = await jobs.app.state.aws.s3.get_object(
        Bucket=jobs.aws.bucket, Key=_upload_key(jobs, upload)
    )
    assert await stored["Body"].read() == content
    assert stored["ContentType"] == "video/mp4"


def _upload_key(jobs: JobDriver, upload: dict[str, Any]) -> str:
    path = httpx.URL(upload["parts"][0]["url"]).path
    return path.removeprefix(f"/{jobs.aws.bucket}/")


async def test_an_interrupted_upload_resumes_from_the_parts_storage_holds(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver, content: bytes
) -> None:
    user = await users.create()
    created = await jobs.create(user, size_bytes=SOURCE_SIZE)
    upload = created["upload"]
    job_id = created["job"]["id"]
    first, _, third = upload["parts"]
    await put_part(first, part_of(content, upload, 1))
    await put_part(third, part_of(content, upload, 3))
    # The connection dropped during part 2, and the tab was closed: all the client has
    # left is the job id.

    state = (await client.get(f"/api/jobs/{job_id}/upload", headers=user.headers)).json()
    assert state["state"] == "open"
    assert [p["part_number"] for p in state["parts"]] == [1, 3]
    assert state["missing_parts"] == [2]
    incomplete = await _complete(
        client, user, job_id, {p["part_number"]: p["etag"] for p in state["parts"]}
    )
    assert (incomplete.status_code, incomplete.json()["code"]) == (422, "upload_parts_mismatch")
    assert incomplete.json()["missing_parts"] == [2]

    renewed = await client.post(
        f"/api/jobs/{job_id}/upload/part-urls",
        json={"part_numbers": state["missing_parts"]},
        headers=user.headers,
    )
    assert renewed.status_code == 200, renewed.text
    [second] = renewed.json()["parts"]
    assert (second["part_number"], second["size_bytes"]) == (2, 8 * MIB)
    etags = {p["part_number"]: p["etag"] for p in state["parts"]}
    etags[2] = await put_part(second, part_of(content, upload, 2))

    assert (await _complete(client, user, job_id, etags)).status_code == 200
    assert (await jobs.confirm(user, job_id)).status_code == 202


async def test_a_part_of_another_length_than_its_url_is_refused(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver, content: bytes
) -> None:
    """S3 refuses such a PUT by its signature; the emulation does not, so complete checks."""
    user = await users.create()
    created = await jobs.create(user, size_bytes=SOURCE_SIZE)
    upload = created["upload"]
    job_id = created["job"]["id"]
    etags = {p["part_number"]: await put_part(p, part_of(content, upload, p["part_number"]))
             for p in upload["parts"]}  # fmt: skip
    etags[2] = await put_part(upload["parts"][1], part_of(content, upload, 2)[: 6 * MIB])

    refused = await _complete(client, user, job_id, etags)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "upload_parts_mismatch"
    assert (problem["wrong_size_parts"], problem["missing_parts"]) == ([2], [])
    state = (await client.get(f"/api/jobs/{job_id}/upload", headers=user.headers)).json()
    assert state["missing_parts"] == [2]
    # ETags from another upload of a part do not complete it either.
    etags[2] = await put_part(upload["parts"][1], part_of(content, upload, 2))
    stale = await _complete(client, user, job_id, {**etags, 1: etags[3]})
    assert stale.json()["etag_mismatch_parts"] == [1]
    assert (await _complete(client, user, job_id, etags)).status_code == 200
    assert (await jobs.confirm(user, job_id)).status_code == 202


async def test_abort_discards_the_parts_and_cancels_the_job(
    app: FastAPI, aws: LocalAws, client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver,
    content: bytes,
) -> None:  # fmt: skip
    user = await users.create()
    created = await jobs.create(user, size_bytes=SOURCE_SIZE)
    job_id = created["job"]["id"]
    await put_part(created["upload"]["parts"][0], part_of(content, created["upload"], 1))
    assert len(await _open_uploads(app, aws)) == 1

    aborted = await client.post(f"/api/jobs/{job_id}/upload/abort", headers=user.headers)
    assert aborted.status_code == 200, aborted.text
    assert aborted.json()["status"] == "canceled"
    assert await _open_uploads(app, aws) == []
    state = (await client.get(f"/api/jobs/{job_id}/upload", headers=user.headers)).json()
    assert state["state"] == "aborted"
    late = await client.post(
        f"/api/jobs/{job_id}/upload/part-urls", json={"part_numbers": [2]}, headers=user.headers
    )
    assert (late.status_code, late.json()["code"]) == (409, "multipart_upload_closed")


async def test_cancel_and_expiry_leave_no_multipart_upload_behind(
    app: FastAPI, aws: LocalAws, client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver,
    settings: Settings,
) -> None:  # fmt: skip
    user = await users.create(plan=PlanName.PRO)
    canceled = await jobs.create(user, size_bytes=SOURCE_SIZE)
    stale = await jobs.create(user, size_bytes=SOURCE_SIZE)
    kept = await jobs.create(user, size_bytes=SOURCE_SIZE)
    assert len(await _open_uploads(app, aws)) == 3

    response = await client.post(f"/api/jobs/{canceled['job']['id']}/cancel", headers=user.headers)
    assert response.status_code == 200
    assert {u["UploadId"] for u in await _open_uploads(app, aws)} == {
        stale["upload"]["upload_id"],
        kept["upload"]["upload_id"],
    }

    # A multipart job's upload window is long; past it and the grace, the sweeper expires
    # the job and aborts its upload.
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(Job)
            .where(Job.id == uuid.UUID(stale["job"]["id"]))
            .values(upload_expires_at=utcnow() - timedelta(days=1))
        )
        await session.commit()
    sweep = await app.state.job_sweeper.sweep_once()
    assert (sweep.expired_jobs, sweep.aborted_uploads) == (1, 1)
    assert [u["UploadId"] for u in await _open_uploads(app, aws)] == [kept["upload"]["upload_id"]]
    assert (await app.state.job_sweeper.sweep_once()).aborted_uploads == 0
    assert (await jobs.get(user, stale["job"]["id"]))["status"] == "expired"


async def test_the_upload_window_of_a_multipart_job_is_the_longer_one(
    users: UserFactory, jobs: JobDriver, settings: Settings
) -> None:
    user = await users.create()
    created = await jobs.create(user, size_bytes=SOURCE_SIZE)
    single = await jobs.create(user)
    window = timedelta(seconds=settings.multipart_upload_window_seconds)
    multipart_deadline = created["job"]["upload_expires_at"]
    assert created["upload"]["expires_at"] == multipart_deadline
    assert single["upload"]["method"] == "PUT"
    lead = datetime.fromisoformat(multipart_deadline) - datetime.fromisoformat(
        created["job"]["created_at"]
    )
    assert abs(lead - window) < timedelta(seconds=5)


async def test_part_requests_outside_the_upload_are_refused(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    created = await jobs.create(user, size_bytes=SOURCE_SIZE)
    job_id = created["job"]["id"]
    outside = await client.post(
        f"/api/jobs/{job_id}/upload/part-urls", json={"part_numbers": [3, 4]}, headers=user.headers
    )
    assert (outside.status_code, outside.json()["code"]) == (422, "validation_error")
    single = await jobs.create(user)
    not_parts = await client.get(f"/api/jobs/{single['job']['id']}/upload", headers=user.headers)
    assert (not_parts.status_code, not_parts.json()["code"]) == (409, "not_multipart")
    other = await users.create()
    hidden = await client.get(f"/api/jobs/{job_id}/upload", headers=other.headers)
    assert hidden.status_code == 404


async def test_a_7_gib_business_job_gets_a_multipart_upload_and_smaller_plans_name_business(
    app: FastAPI, aws: LocalAws, client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver,
    settings: Settings,
) -> None:  # fmt: skip
    business = await users.create(plan=PlanName.BUSINESS)
    created = await jobs.create(business, size_bytes=7 * GIB)
    upload = created["upload"]
    assert upload["method"] == "multipart"
    assert (upload["part_size_bytes"], upload["part_count"]) == (8 * MIB, 896)
    assert len(upload["parts"]) == settings.multipart_urls_per_request
    assert [u["UploadId"] for u in await _open_uploads(app, aws)] == [upload["upload_id"]]
    job_id = created["job"]["id"]
    more = await client.post(
        f"/api/jobs/{job_id}/upload/part-urls",
        json={"part_numbers": [896, 101]},
        headers=business.headers,
    )
    assert [(p["part_number"], p["size_bytes"]) for p in more.json()["parts"]] == [
        (101, 8 * MIB),
        (896, 8 * MIB),
    ]

    for plan in (PlanName.FREE, PlanName.PRO):
        user = await users.create(plan=plan)
        response = await client.post(
            "/api/jobs",
            json={"filename": "long.mp4", "content_type": "video/mp4", "size_bytes": 7 * GIB},
            headers=user.headers,
        )
        problem = response.json()
        assert (response.status_code, problem["code"]) == (403, "tier_limit"), plan
        assert (problem["feature"], problem["required_plan"]) == ("upload_size", "business")


async def test_an_api_key_reads_an_upload_with_jobs_read_and_changes_it_with_jobs_write(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create(plan=PlanName.PRO)
    job_id = (await jobs.create(user, size_bytes=SOURCE_SIZE))["job"]["id"]
    made = await client.post(
        "/api/api-keys", json={"name": "reader", "scopes": ["jobs:read"]}, headers=user.headers
    )
    assert made.status_code == 201, made.text
    reader = {"Authorization": f"Bearer {made.json()['key']}"}
    assert (await client.get(f"/api/jobs/{job_id}/upload", headers=reader)).status_code == 200
    refused = await client.post(
        f"/api/jobs/{job_id}/upload/part-urls", json={"part_numbers": [1]}, headers=reader
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
