"""The plan's longest source travels in the dispatch spec, and a source measured longer than
the plan takes never succeeds: the container's `source_too_long` refusal and a `complete`
whose measured duration is over the limit both fail the job in the tier_limit shape, and
neither is charged."""

from __future__ import annotations

import httpx
import pytest

from app.config import Settings
from app.domain.plans import PLANS, PlanName
from tests.support.jobs import Dispatched, JobDriver
from tests.support.users import TestUser, UserFactory

FOUR_HOURS = 4 * 3600


async def _usage(client: httpx.AsyncClient, user: TestUser) -> tuple[int, float]:
    usage = (await client.get("/api/usage", headers=user.headers)).json()
    return usage["jobs"], usage["source_minutes"]


async def _running(jobs: JobDriver, user: TestUser, **overrides: object) -> Dispatched:
    dispatched = await jobs.dispatched(user, **overrides)
    started = await jobs.callback(dispatched, "start", {"batch_job_id": "batch-1"})
    assert started.status_code == 200, started.text
    return dispatched


@pytest.mark.parametrize("plan", list(PlanName))
async def test_the_dispatch_spec_carries_the_plans_longest_source(
    users: UserFactory, jobs: JobDriver, plan: PlanName
) -> None:
    user = await users.create(plan=plan)

    dispatched = await jobs.dispatched(user)

    assert dispatched.spec["max_source_seconds"] == PLANS[plan].max_source_seconds


@pytest.mark.parametrize(
    ("measured", "required_plan"), [(150, "pro"), (FOUR_HOURS, None)], ids=["150 s", "4 hours"]
)
async def test_a_complete_measuring_a_source_over_the_plans_limit_fails_and_is_not_charged(
    client: httpx.AsyncClient,
    users: UserFactory,
    jobs: JobDriver,
    settings: Settings,
    measured: int,
    required_plan: str | None,
) -> None:
    user = await users.create()  # free: sources up to 120 s
    job = await _running(jobs, user)  # no duration hint at creation
    assert await _usage(client, user) == (1, 0)

    answer = await jobs.callback(
        job,
        "complete",
        {"outputs": jobs.outputs_of(job), "metrics": {"duration_seconds": measured}},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "failed"
    shown = await jobs.get(user, job.job_id)
    assert shown["status"] == "failed"
    assert shown["error"]["code"] == "source_too_long"
    assert shown["error"]["feature"] == "source_duration"
    assert shown["error"]["required_plan"] == required_plan
    assert shown["error"]["upgrade_url"] == settings.upgrade_url
    assert shown["error"]["retryable"] is False
    assert (
        await client.get(f"/api/jobs/{job.job_id}/outputs", headers=user.headers)
    ).status_code == 409
    assert await _usage(client, user) == (0, 0)
    # The container repeating its complete changes nothing, nor charges anything.
    again = await jobs.callback(
        job,
        "complete",
        {"outputs": jobs.outputs_of(job), "metrics": {"duration_seconds": measured}},
    )
    assert again.json()["status"] == "failed"
    assert await _usage(client, user) == (0, 0)


async def test_the_containers_source_too_long_refusal_names_the_plan_and_refunds_the_hint(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver, settings: Settings
) -> None:
    user = await users.create()
    job = await _running(jobs, user, duration_seconds=90)  # the customer's hint, within 120 s
    assert await _usage(client, user) == (1, 1.5)

    refused = await jobs.callback(
        job,
        "fail",
        {
            "code": "source_too_long",
            "message": "the source is 150.0 seconds long; "
            "this plan takes sources up to 120 seconds",
            "duration_seconds": 150.0,
        },
    )

    assert refused.status_code == 200, refused.text
    assert refused.json()["status"] == "failed"
    error = (await jobs.get(user, job.job_id))["error"]
    assert error["code"] == "source_too_long"
    assert "120 seconds" in error["message"]
    assert (error["feature"], error["required_plan"], error["upgrade_url"]) == (
        "source_duration",
        "pro",
        settings.upgrade_url,
    )
    assert await _usage(client, user) == (0, 0)


@pytest.mark.parametrize("measured", [None, 100.0], ids=["unmeasured", "within the limit"])
async def test_a_source_too_long_refusal_without_a_measurement_over_the_limit_is_charged(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver, measured: float | None
) -> None:
    user = await users.create()
    job = await _running(jobs, user, duration_seconds=90)
    body: dict[str, object] = {"code": "source_too_long", "message": "too long"}
    if measured is not None:
        body["duration_seconds"] = measured

    refused = await jobs.callback(job, "fail", body)

    assert refused.json()["status"] == "failed"
    error = (await jobs.get(user, job.job_id))["error"]
    assert error["code"] == "pipeline_error"
    assert "120 seconds" in error["message"]
    assert error["required_plan"] is None
    assert await _usage(client, user) == (1, 1.5)


async def test_a_source_within_the_plans_limit_still_succeeds_and_is_charged(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await _running(jobs, user)
    await jobs.write_outputs(job)

    done = await jobs.callback(
        job, "complete", {"outputs": jobs.outputs_of(job), "metrics": {"duration_seconds": 120}}
    )

    assert done.json()["status"] == "succeeded"
    assert await _usage(client, user) == (1, 2)
