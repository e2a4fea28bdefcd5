"""Rotating `secret_key`: with the old key kept in `previous_secret_keys`, API keys, sessions
and webhook signing secrets keep working; API keys used and sessions refreshed during the
overlap, and secrets re-sealed by the CLI, then outlive the old key."""

from __future__ import annotations

import argparse
import io

import httpx

from app.cli import build_parser, run
from app.config import Settings
from app.domain.plans import PlanName
from tests.support.replicas import replica
from tests.support.users import UserFactory

NEW_SECRET_KEY = "rotated-secret-key-0123456789abcdef-0123456789"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _signing_secrets(http: httpx.AsyncClient, settings: Settings, delivery: str) -> object:
    response = await http.get(
        f"/internal/webhooks/deliveries/{delivery}", headers=bearer(settings.webhook_service_token)
    )
    assert response.status_code == 200, response.text
    return response.json()["secrets"]


async def _cli(settings: Settings, *argv: str) -> str:
    args: argparse.Namespace = build_parser().parse_args(argv)
    out = io.StringIO()
    assert await run(args, settings, out) == 0
    return out.getvalue()


async def test_the_secret_key_rotates_with_the_old_one_kept_for_reading(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    user = await users.create(plan=PlanName.PRO)
    used_key = (
        await client.post("/api/api-keys", json={"name": "used"}, headers=user.headers)
    ).json()["key"]
    idle_key = (
        await client.post("/api/api-keys", json={"name": "idle"}, headers=user.headers)
    ).json()["key"]
    endpoint = await client.post(
        "/api/webhooks/endpoints",
        json={"url": "https://hooks.example.com/r", "events": ["job.succeeded"]},
        headers=user.headers,
    )
    assert endpoint.status_code == 201, endpoint.text
    secret = endpoint.json()["secret"]
    test = await client.post(
        f"/api/webhooks/endpoints/{endpoint.json()['id']}/test", headers=user.headers
    )
    delivery = test.json()["id"]

    # Step 1: the new key in, the old one kept for reading.
    rotating = settings.model_copy(
        update={"secret_key": NEW_SECRET_KEY, "previous_secret_keys": [settings.secret_key]}
    )
    async with replica(rotating) as http:
        assert (await http.get("/api/jobs", headers=bearer(used_key))).status_code == 200
        refreshed = await http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
        assert refreshed.status_code == 200, refreshed.text
        assert await _signing_secrets(http, rotating, delivery) == [secret]
        # Step 2: re-seal what the old key sealed; running it again changes nothing.
        assert "of 1 webhook endpoint" in await _cli(rotating, "reseal-secrets")
        assert "of 0 webhook endpoint" in await _cli(rotating, "reseal-secrets")

    # Step 3: the old key out.
    rotated = settings.model_copy(update={"secret_key": NEW_SECRET_KEY})
    async with replica(rotated) as http:
        assert (await http.get("/api/jobs", headers=bearer(used_key))).status_code == 200
        again = await http.post(
            "/api/auth/refresh", json={"refresh_token": refreshed.json()["refresh_token"]}
        )
        assert again.status_code == 200, again.text
        assert await _signing_secrets(http, rotated, delivery) == [secret]
        # A key nobody used during the overlap was never stored under the new key.
        idle = await http.get("/api/jobs", headers=bearer(idle_key))
        assert idle.status_code == 401

    # And the old key alone no longer opens what was rotated.
    async with replica(settings) as http:
        assert (await http.get("/api/jobs", headers=bearer(used_key))).status_code == 401
