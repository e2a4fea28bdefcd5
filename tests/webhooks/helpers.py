"""Small steps the webhook tests share: making endpoints and reading the delivery log."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.users import TestUser

ALL_JOB_EVENTS = ["job.queued", "job.started", "job.succeeded", "job.failed", "job.canceled"]


async def create_endpoint(
    client: httpx.AsyncClient,
    user: TestUser,
    url: str = "https://hooks.example.com/reframer",
    events: list[str] | None = None,
    description: str = "",
) -> dict[str, Any]:
    response = await client.post(
        "/api/webhooks/endpoints",
        json={"url": url, "events": events or ALL_JOB_EVENTS, "description": description},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliveries(
    client: httpx.AsyncClient, user: TestUser, **params: str
) -> list[dict[str, Any]]:
    response = await client.get("/api/webhooks/deliveries", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def send_test_delivery(client: httpx.AsyncClient, user: TestUser, endpoint_id: str) -> str:
    """Queues the endpoint's test event; returns its delivery's id."""
    response = await client.post(
        f"/api/webhooks/endpoints/{endpoint_id}/test", headers=user.headers
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])
