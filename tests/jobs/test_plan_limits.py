"""Every tier and quota refusal is a 403 problem carrying its fields, and stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from app.config import Settings
from app.domain.periods import month_of
from app.domain.plans import GIB, MIB, PlanName
from app.services.usage import add_usage
from tests.support.jobs import JobDriver, job_body
from tests.support.users import TestUser, UserFactory


async def refused(client: httpx.AsyncClient, user: TestUser, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/jobs", json=job_body(**overrides), headers=user.headers)
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == response.status_code
    return problem


async def test_features_and_limits_the_plan_lacks_are_tier_limits_with_upgrade_hints(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    free = await users.create()
    pro = await users.create(plan=PlanName.PRO)
    cases = [
        (free, {"options": {"aspect_ratio": "1:1", "resolution": "720p"}}, "aspect_ratio", "pro"),
        (
            free,
            {"options": {"aspect_ratio": "9:16", "resolution": "1080p"}},
            "output_resolution",
            "pro",
        ),
        (pro, {"options": {"aspect_ratio": "4:5", "resolution": "2160p"}}, "4k_output", "business"),
        (free, {"size_bytes": 200 * MIB + 1}, "upload_size", "pro"),
        (pro, {"size_bytes": 2 * GIB + 1}, "upload_size", "business"),
        (free, {"size_bytes": 7 * GIB}, "upload_size", "business"),
        (free, {"duration_seconds": 121}, "source_duration", "pro"),
    ]
    for user, overrides, feature, required_plan in cases:
        problem = await refused(client, user, **overrides)
        assert problem["status"] == 403, overrides
        assert problem["code"] == "tier_limit"
        assert problem["feature"] == feature
        assert problem["required_plan"] == required_plan
        assert problem["upgrade_url"] == settings.upgrade_url
    size = await refused(client, free, size_bytes=200 * MIB + 1)
    assert (size["limit_bytes"], size["size_bytes"]) == (200 * MIB, 200 * MIB + 1)
    for user in (free, pro):
        assert (await client.get("/api/jobs", headers=user.headers)).json()["data"] == []


async def test_limits_no_plan_lifts_are_422_with_the_figures(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    business = await users.create(plan=PlanName.BUSINESS)
    # Above one S3 PUT's 5 GiB the source uploads in parts: only the plans' promises bound it.
    too_big = await refused(client, business, size_bytes=10 * GIB + 1)
    assert (too_big["status"], too_big["code"]) == (422, "upload_too_large")
    assert too_big["limit_bytes"] == 10 * GIB
    too_long = await refused(client, business, duration_seconds=3 * 3600 + 1)
    assert (too_long["status"], too_long["code"]) == (422, "source_too_long")
    assert too_long["limit_seconds"] == 3 * 3600


async def test_the_monthly_quota_counts_confirmed_jobs_and_refuses_with_its_figures(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver, app: Any
) -> None:
    user = await users.create()
    period = month_of(datetime.now(UTC))
    async with app.state.sessionmaker() as session:  # nine jobs of the free ten used already
        await add_usage(session, user.id, period.key, jobs=9)
        await session.commit()
    pending = await jobs.create(user)  # created before the last one: confirm checks again
    await jobs.queued(user)
    usage = (await client.get("/api/usage", headers=user.headers)).json()
    assert (usage["jobs"], usage["jobs_remaining"]) == (10, 0)

    problem = await refused(client, user)
    assert (problem["status"], problem["code"]) == (403, "quota_exceeded")
    assert problem["quota"] == "jobs_per_month"
    assert (problem["limit"], problem["usage"]) == (10, 10)
    assert problem["resets_at"] == period.resets_at.isoformat()
    await jobs.upload(pending)
    late = await jobs.confirm(user, pending["job"]["id"])
    assert late.status_code == 403
    assert late.json()["code"] == "quota_exceeded"
    assert (await jobs.get(user, pending["job"]["id"]))["status"] == "pending_upload"


async def test_concurrent_jobs_are_capped_until_one_finishes(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()  # free: one job at a time
    first = await jobs.queued(user)
    second = await jobs.create(user)
    await jobs.upload(second)
    refused_confirm = await jobs.confirm(user, second["job"]["id"])
    assert refused_confirm.status_code == 403
    problem = refused_confirm.json()
    assert problem["code"] == "quota_exceeded"
    assert problem["quota"] == "concurrent_jobs"
    assert (problem["limit"], problem["usage"], problem["resets_at"]) == (1, 1, None)
    assert await jobs.relay() == 1  # only the first job's message

    await client.post(f"/api/jobs/{first}/cancel", headers=user.headers)
    assert (await jobs.confirm(user, second["job"]["id"])).status_code == 202


async def test_a_downgrade_after_creating_is_enforced_at_confirm(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create(plan=PlanName.PRO)
    created = await jobs.create(user, options={"aspect_ratio": "1:1", "resolution": "1080p"})
    await jobs.upload(created)
    await users.set_plan(user.email, PlanName.FREE)
    response = await jobs.confirm(user, created["job"]["id"])
    assert response.status_code == 403
    assert response.json()["code"] == "tier_limit"
    assert response.json()["feature"] == "aspect_ratio"
