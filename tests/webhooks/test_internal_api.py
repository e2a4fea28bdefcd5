"""The delivery Lambda's routes, driven by hand: what to send, and what each result leads to."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from app.config import Settings
from app.domain.plans import PlanName
from contracts.webhook_signing import SECRET_PREFIX
from devstack.smtp_sink import SmtpSink, plain_text
from tests.support.mailbox import Mailbox
from tests.support.users import UserFactory
from tests.webhooks.conftest import TEST_DISABLE_AFTER, TEST_RETRY_SCHEDULE
from tests.webhooks.helpers import create_endpoint, deliveries, send_test_delivery


class Lambda:
    """Speaks to /internal/webhooks the way the delivery Lambda does."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {settings.webhook_service_token}"}

    async def fetch(self, delivery_id: str) -> httpx.Response:
        return await self.client.get(
            f"/internal/webhooks/deliveries/{delivery_id}", headers=self.headers
        )

    async def report(self, delivery_id: str, attempt: int, **result: Any) -> httpx.Response:
        body = {"attempt": attempt, "attempted_at": datetime.now(UTC).isoformat(), **result}
        return await self.client.post(
            f"/internal/webhooks/deliveries/{delivery_id}/attempts", json=body, headers=self.headers
        )


async def test_internal_routes_take_only_the_webhook_lambdas_token(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    delivery_id = await send_test_delivery(client, user, endpoint["id"])
    path = f"/internal/webhooks/deliveries/{delivery_id}"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=user.headers)).status_code == 403
    report = {"attempt": 1, "attempted_at": datetime.now(UTC).isoformat(), "status_code": 200}
    assert (
        await client.post(f"{path}/attempts", json=report, headers=user.headers)
    ).status_code == 403
    # The job dispatcher's token: the function that submits jobs reads no webhook secrets.
    dispatcher = {"Authorization": f"Bearer {settings.service_token}"}
    assert (await client.get(path, headers=dispatcher)).status_code == 403
    assert (
        await client.post(f"{path}/attempts", json=report, headers=dispatcher)
    ).status_code == 403


async def test_the_lambda_gets_the_exact_payload_and_the_signing_secret(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user, url="https://hooks.example.com/in")
    delivery_id = await send_test_delivery(client, user, endpoint["id"])
    sent = (await Lambda(client, settings).fetch(delivery_id)).json()
    envelope = json.loads(sent["payload"])
    assert envelope["id"] == sent["event_id"]
    assert envelope["type"] == sent["event_type"] == "webhook.test"
    assert envelope["data"]["endpoint_id"] == endpoint["id"]
    assert sent["url"] == "https://hooks.example.com/in"
    assert sent["secrets"] == [endpoint["secret"]]
    assert sent["attempt_count"] == 0
    assert sent["max_attempts"] == len(TEST_RETRY_SCHEDULE) + 1
    assert sent["deliverable"] is True
    assert sent["require_https"] is False

    rotated = await client.post(
        f"/api/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers=user.headers
    )
    after = (await Lambda(client, settings).fetch(delivery_id)).json()
    assert after["secrets"] == [rotated.json()["secret"], endpoint["secret"]]
    assert all(s.startswith(SECRET_PREFIX) for s in after["secrets"])


async def test_failures_retry_on_the_schedule_then_fail_into_the_dead_letter_queue(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    delivery_id = await send_test_delivery(client, user, endpoint["id"])
    lam = Lambda(client, settings)

    first = (await lam.report(delivery_id, 1, status_code=500, latency_ms=12)).json()
    assert first["next"] == "retry"
    assert first["retry_after_seconds"] == TEST_RETRY_SCHEDULE[0]
    assert first["dead_letter"] is False
    again = await lam.report(delivery_id, 1, status_code=500, latency_ms=12)
    assert again.status_code == 409
    assert again.json()["code"] == "stale_webhook_attempt"
    second = (await lam.report(delivery_id, 2, error="ConnectError: connection refused")).json()
    assert second["next"] == "retry"
    last = (await lam.report(delivery_id, 3, status_code=503, latency_ms=30)).json()
    assert last == {
        "next": "failed",
        "delivery_status": "failed",
        "retry_after_seconds": None,
        "dead_letter": True,
        "endpoint_disabled": False,
    }
    assert (await lam.report(delivery_id, 4, status_code=200)).status_code == 409
    assert (await lam.fetch(delivery_id)).json()["deliverable"] is False

    [logged] = await deliveries(client, user)
    assert logged["status"] == "failed"
    assert logged["finished_at"] is not None
    assert [(a["number"], a["outcome"], a["status_code"]) for a in logged["attempts"]] == [
        (1, "http_error", 500),
        (2, "network_error", None),
        (3, "http_error", 503),
    ]
    assert logged["attempts"][1]["error"] == "ConnectError: connection refused"
    assert logged["attempts"][0]["latency_ms"] == 12


async def test_a_410_disables_the_endpoint_and_cancels_what_it_had_pending(
    client: httpx.AsyncClient,
    users: UserFactory,
    settings: Settings,
    app: FastAPI,
    smtp_sink: SmtpSink,
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    gone_id = await send_test_delivery(client, user, endpoint["id"])
    waiting_id = await send_test_delivery(client, user, endpoint["id"])
    lam = Lambda(client, settings)

    result = (await lam.report(gone_id, 1, status_code=410, latency_ms=5)).json()
    assert result["next"] == "endpoint_disabled"
    assert result["endpoint_disabled"] is True
    shown = (
        await client.get(f"/api/webhooks/endpoints/{endpoint['id']}", headers=user.headers)
    ).json()
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == "gone"
    # The owner hears of it by email.
    notices = [m for m in await Mailbox(app, smtp_sink).deliver() if m["To"] == user.email]
    assert [m["X-Reframer-Kind"] for m in notices] == ["verify_email", "webhook_disabled"]
    assert endpoint["url"] in plain_text(notices[1])
    waiting = (await lam.fetch(waiting_id)).json()
    assert waiting["deliverable"] is False
    assert waiting["reason"] == "canceled"
    assert waiting["secrets"] == []
    statuses = {d["id"]: d["status"] for d in await deliveries(client, user)}
    assert statuses == {gone_id: "failed", waiting_id: "canceled"}

    # Redelivery waits for the endpoint to be switched back on, then reuses the event id.
    refused = await client.post(
        f"/api/webhooks/deliveries/{waiting_id}/redeliver", headers=user.headers
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "webhook_endpoint_disabled"
    await client.patch(
        f"/api/webhooks/endpoints/{endpoint['id']}", json={"enabled": True}, headers=user.headers
    )
    redelivered = await client.post(
        f"/api/webhooks/deliveries/{waiting_id}/redeliver", headers=user.headers
    )
    assert redelivered.status_code == 202
    again = redelivered.json()
    assert again["id"] != waiting_id
    assert again["status"] == "pending"
    assert again["event_id"] == next(
        d["event_id"] for d in await deliveries(client, user) if d["id"] == waiting_id
    )
    in_progress = await client.post(
        f"/api/webhooks/deliveries/{again['id']}/redeliver", headers=user.headers
    )
    assert in_progress.status_code == 409
    assert in_progress.json()["code"] == "webhook_delivery_in_progress"


async def test_consecutive_failed_deliveries_disable_the_endpoint_and_a_success_resets_them(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings, app: FastAPI, caplog: Any
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    lam = Lambda(client, settings)

    async def refused_delivery() -> dict[str, Any]:
        delivery_id = await send_test_delivery(client, user, endpoint["id"])
        response = await lam.report(delivery_id, 1, refused_reason="10.0.0.1 is a private address")
        result: dict[str, Any] = response.json()
        assert result["next"] == "failed"
        assert result["dead_letter"] is False  # nothing transient about a refused address
        return result

    for _ in range(TEST_DISABLE_AFTER - 1):
        await refused_delivery()
    ok_id = await send_test_delivery(client, user, endpoint["id"])
    assert (await lam.report(ok_id, 1, status_code=204, latency_ms=3)).json()["next"] == "delivered"
    for _ in range(TEST_DISABLE_AFTER - 1):
        assert (await refused_delivery())["endpoint_disabled"] is False
    with caplog.at_level("WARNING", logger="app.webhooks"):
        assert (await refused_delivery())["endpoint_disabled"] is True
    shown = (
        await client.get(f"/api/webhooks/endpoints/{endpoint['id']}", headers=user.headers)
    ).json()
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == "consecutive_failures"
    [record] = [r for r in caplog.records if r.getMessage() == "webhook endpoint disabled"]
    assert record.endpoint_id == endpoint["id"]
    assert record.account_id == str(user.id)
    assert record.reason == "consecutive_failures"
    refused_log = await deliveries(client, user, status="failed")
    assert refused_log[0]["attempts"][0]["outcome"] == "refused"
    assert refused_log[0]["attempts"][0]["error"] == "10.0.0.1 is a private address"


async def test_malformed_reports_are_422_and_unknown_deliveries_404(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    delivery_id = await send_test_delivery(client, user, endpoint["id"])
    lam = Lambda(client, settings)
    now = datetime.now(UTC).isoformat()
    path = f"/internal/webhooks/deliveries/{delivery_id}/attempts"
    for body in (
        {"attempt": 1, "attempted_at": now},
        {"attempt": 0, "attempted_at": now, "status_code": 200},
        {"attempt": 1, "attempted_at": now, "status_code": 99},
        {"attempt": 1, "attempted_at": "2026-01-01T00:00:00", "status_code": 200},
        {"attempt": 1, "attempted_at": now, "status_code": 200, "refused_reason": "x"},
        {"attempt": 1, "attempted_at": now, "error": "e" * 2001},
        {"attempt": 1, "attempted_at": now, "status_code": 200, "surprise": True},
    ):
        response = await client.post(path, json=body, headers=lam.headers)
        assert response.status_code == 422, body
    missing = "00000000-0000-7000-8000-000000000000"
    assert (await lam.fetch(missing)).status_code == 404
    assert (await lam.report(missing, 1, status_code=200)).status_code == 404
    # Deleting the endpoint takes its deliveries with it: a queued message finds nothing.
    await client.delete(f"/api/webhooks/endpoints/{endpoint['id']}", headers=user.headers)
    assert (await lam.fetch(delivery_id)).status_code == 404


async def test_reports_the_database_could_not_store_are_422_not_500(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """Attempt numbers and latencies past a 32-bit integer, and NUL in texts, are refused
    before they reach PostgreSQL; the delivery is still there for the real report."""
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    delivery_id = await send_test_delivery(client, user, endpoint["id"])
    lam = Lambda(client, settings)
    for result in (
        {"attempt": 2**31, "status_code": 500},
        {"attempt": 2**64 + 1, "status_code": 500},
        {"attempt": 1, "status_code": 500, "latency_ms": 2**31},
        {"attempt": 1, "error": "connection reset\x00"},
        {"attempt": 1, "refused_reason": "\x00"},
    ):
        attempt = result.pop("attempt")
        response = await lam.report(delivery_id, attempt, **result)
        assert response.status_code == 422, (result, response.text)
    # Tabs and line breaks in an error are fine: tracebacks have them.
    reported = await lam.report(delivery_id, 1, error="timed out:\n\tread timeout")
    assert reported.status_code == 200, reported.text
    assert reported.json()["next"] == "retry"
