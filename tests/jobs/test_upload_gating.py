"""Upload URLs: none before the address is verified, a few waiting per plan, and short-lived."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from app.domain.clock import utcnow
from app.domain.plans import PLANS, PlanName
from tests.support.jobs import JobDriver, job_body
from tests.support.users import UserFactory

UPLOAD_URL_SECONDS = 15 * 60


async def test_an_unverified_address_gets_no_upload_url(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(verified=False)
    refused = await client.post("/api/jobs", json=job_body(), headers=user.headers)
    assert refused.status_code == 403, refused.text
    problem = refused.json()
    assert problem["code"] == "email_unverified"
    assert problem["resend_verification"] == "/api/auth/resend-verification"
    assert user.email in problem["detail"]
    assert "url" not in refused.text
    listed = await client.get("/api/jobs", headers=user.headers)
    assert listed.json()["data"] == []  # nothing was created

    await users.verify_email(user.email)
    assert (
        await client.post("/api/jobs", json=job_body(), headers=user.headers)
    ).status_code == 201


async def test_jobs_waiting_for_an_upload_are_capped_per_plan(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()  # free
    cap = PLANS[PlanName.FREE].pending_uploads
    waiting = [await jobs.create(user) for _ in range(cap)]
    refused = await client.post("/api/jobs", json=job_body(), headers=user.headers)
    assert refused.status_code == 403, refused.text
    problem = refused.json()
    assert problem["code"] == "quota_exceeded"
    assert problem["quota"] == "pending_uploads"
    assert problem["limit"] == cap
    assert problem["usage"] == cap
    assert problem["upgrade_url"]

    # Canceling a waiting job frees its place.
    job_id = waiting[0]["job"]["id"]
    canceled = await client.post(f"/api/jobs/{job_id}/cancel", headers=user.headers)
    assert canceled.status_code == 200
    assert (
        await client.post("/api/jobs", json=job_body(), headers=user.headers)
    ).status_code == 201

    # A larger plan holds more.
    await users.set_plan(user.email, PlanName.PRO)
    assert (
        await client.post("/api/jobs", json=job_body(), headers=user.headers)
    ).status_code == 201


async def test_upload_urls_live_fifteen_minutes_by_default(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    before = utcnow()
    created = await jobs.create(user)
    upload = created["upload"]
    signed_for = int(parse_qs(urlsplit(upload["url"]).query)["X-Amz-Expires"][0])
    assert signed_for == UPLOAD_URL_SECONDS
    expires_at = datetime.fromisoformat(upload["expires_at"])
    assert timedelta(0) <= expires_at - before - timedelta(seconds=UPLOAD_URL_SECONDS)
    assert expires_at - before - timedelta(seconds=UPLOAD_URL_SECONDS) < timedelta(seconds=5)


async def test_a_burst_of_job_requests_cannot_pass_the_pending_uploads_cap_together(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    # Each request counts the jobs waiting, then adds its own: counted at the same moment,
    # a burst would all see room and all pass.
    user = await users.create()  # free
    cap = PLANS[PlanName.FREE].pending_uploads

    answers = await asyncio.gather(
        *(client.post("/api/jobs", json=job_body(), headers=user.headers) for _ in range(3 * cap))
    )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * cap + [403] * (2 * cap), [a.text for a in answers]
    listed = await client.get("/api/jobs", headers=user.headers)
    assert len(listed.json()["data"]) == cap
