"""GET /api/usage: the same counters the quotas read, with the plan's limits."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from app.api.openapi import operators_document
from app.domain.periods import month_of
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory


async def test_usage_counts_confirmed_jobs_and_measured_minutes(
    client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    empty = (await client.get("/api/usage", headers=user.headers)).json()
    period = month_of(datetime.now(UTC))
    assert (empty["jobs"], empty["source_minutes"], empty["active_jobs"]) == (0, 0, 0)
    assert empty["plan"] == "free"
    assert datetime.fromisoformat(empty["resets_at"]) == period.resets_at
    assert datetime.fromisoformat(empty["period_start"]) == period.start
    assert empty["limits"]["jobs_per_month"] == 10
    assert empty["limits"]["aspect_ratios"] == ["9:16"]

    await jobs.create(user)  # never confirmed: not counted
    job = await jobs.running(user)  # no duration hint: 0 minutes until measured
    running = (await client.get("/api/usage", headers=user.headers)).json()
    assert (running["jobs"], running["source_minutes"], running["active_jobs"]) == (1, 0, 1)
    await jobs.callback(
        job, "complete", {"outputs": jobs.outputs_of(job), "metrics": {"duration_seconds": 45}}
    )
    done = (await client.get("/api/usage", headers=user.headers)).json()
    assert (done["jobs"], done["source_minutes"], done["active_jobs"]) == (1, 0.75, 0)

    bad = await jobs.running(await users.create())
    refused = await jobs.callback(
        bad,
        "complete",
        {"outputs": jobs.outputs_of(bad), "metrics": {"duration_seconds": "long"}},
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "metrics.duration_seconds"


async def test_the_openapi_document_describes_the_job_routes(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/jobs",
        "/api/jobs/{job_id}/confirm",
        "/api/jobs/{job_id}/outputs",
        "/api/usage",
    ):
        assert path in paths
    # The internal ones are in the operators' document only.
    internal = operators_document(app)["paths"]
    for path in ("/internal/jobs/{job_id}/dispatch", "/internal/jobs/{job_id}/complete"):
        assert path in internal
        assert path not in paths
