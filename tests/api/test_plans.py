"""The plan table, public, as the console's comparison reads it."""

from __future__ import annotations

import httpx

from app.domain.plans import GIB, MIB


async def test_every_plan_and_its_limits_cheapest_first_without_signing_in(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/plans")
    assert response.status_code == 200
    plans = {plan["name"]: plan for plan in response.json()["data"]}
    assert [plan["name"] for plan in response.json()["data"]] == ["free", "pro", "business"]
    assert plans["free"]["limits"] == {
        "max_upload_bytes": 200 * MIB,
        "max_source_seconds": 120,
        "jobs_per_month": 10,
        "concurrent_jobs": 1,
        "max_resolution": "720p",
        "aspect_ratios": ["9:16"],
        "features": [],
    }
    assert plans["pro"]["limits"]["max_upload_bytes"] == 2 * GIB
    assert plans["pro"]["limits"]["aspect_ratios"] == ["1:1", "4:5", "9:16"]
    assert plans["pro"]["limits"]["features"] == ["api_keys", "webhooks"]
    assert plans["business"]["limits"]["max_resolution"] == "2160p"
    assert "priority_queue" in plans["business"]["limits"]["features"]
    assert plans["business"]["requests_per_minute"] == 3000
