"""Webhook endpoints over HTTP: the plan gate, validation, secrets shown once, tenancy."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from app.config import Settings
from app.db.models import WebhookEndpoint
from app.domain.plans import PlanName
from app.domain.webhook_endpoints import MAX_ENDPOINTS_PER_ACCOUNT
from app.main import create_app
from tests.support.users import UserFactory
from tests.webhooks.helpers import create_endpoint


async def test_a_free_account_is_refused_with_an_upgrade_hint(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    response = await client.post(
        "/api/webhooks/endpoints",
        json={"url": "https://hooks.example.com/x", "events": ["job.succeeded"]},
        headers=user.headers,
    )
    assert response.status_code == 403
    problem = response.json()
    assert problem["code"] == "tier_limit"
    assert problem["feature"] == "webhooks"
    assert problem["required_plan"] == "pro"
    assert problem["upgrade_url"]


async def test_creating_shows_the_secret_once_and_never_again(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI
) -> None:
    user = await users.create(plan=PlanName.PRO)
    created = await create_endpoint(
        client, user, events=["job.failed", "job.succeeded", "job.failed"], description=" ci "
    )
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["job.failed", "job.succeeded"]
    assert created["description"] == "ci"
    assert created["enabled"] is True
    one = await client.get(f"/api/webhooks/endpoints/{created['id']}", headers=user.headers)
    listed = await client.get("/api/webhooks/endpoints", headers=user.headers)
    assert one.status_code == listed.status_code == 200
    assert [e["id"] for e in listed.json()["data"]] == [created["id"]]
    for text in (one.text, listed.text):
        assert "secret" not in text.replace("secret_rotated_at", "").replace(
            "previous_secret_expires_at", ""
        )
        assert created["secret"] not in text
    # At rest the secret is sealed, not stored as given.
    async with app.state.sessionmaker() as session:
        row = await session.get(WebhookEndpoint, uuid.UUID(created["id"]))
        assert row is not None
        assert created["secret"] not in row.secret_sealed


MALFORMED_BODIES: list[tuple[dict[str, object], str]] = [
    ({"url": "https://h.example.com/x", "events": []}, "events"),
    ({"url": "https://h.example.com/x", "events": ["job.exploded"]}, "events.0"),
    ({"url": "https://h.example.com/x", "events": ["webhook.test"]}, "events.0"),
    ({"url": "https://h.example.com/x"}, "events"),
    ({"url": "", "events": ["job.failed"]}, "url"),
    ({"url": "https://h.example.com/" + "a" * 2048, "events": ["job.failed"]}, "url"),
    ({"url": "https://h.example.com/x", "events": ["job.failed"], "description": "d" * 501},
     "description"),
    ({"url": "https://h.example.com/x", "events": ["job.failed"], "description": "a\u0000b"},
     "description"),
]  # fmt: skip

REFUSED_URLS = [
    ("ftp://hooks.example.com/x", "must use http or https"),
    ("https:///no-host", "no host"),
    ("https://user:pw@hooks.example.com/x", "credentials"),
    ("https://hooks.example.com/x#frag", "fragment"),
    ("https://hooks.example.com:99999/x", "malformed"),
    ("https://hooks.example.com/a\u0000b", "control characters"),
    ("https://hooks.example.com/a b", "whitespace"),
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://127.1/hook", "loopback"),
    ("http://2130706433/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://[::ffff:10.0.0.1]/hook", "private"),
    ("http://10.0.0.1/hook", "private"),
    ("http://192.168.1.20/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://localhost:8000/hook", "loopback name"),
    ("http://api.localhost/hook", "loopback name"),
]


async def test_malformed_bodies_are_422_naming_the_field(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    for body, field in MALFORMED_BODIES:
        response = await client.post("/api/webhooks/endpoints", json=body, headers=user.headers)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json()["errors"]], body


async def test_urls_that_cannot_be_targets_are_refused_up_front(settings: Settings) -> None:
    guarded = settings.model_copy(update={"webhook_allow_private_targets": False})
    application = create_app(guarded)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            user = await UserFactory(client, application).create(plan=PlanName.PRO)
            for url, reason in REFUSED_URLS:
                response = await client.post(
                    "/api/webhooks/endpoints",
                    json={"url": url, "events": ["job.succeeded"]},
                    headers=user.headers,
                )
                assert response.status_code == 422, (url, response.text)
                problem = response.json()
                assert problem["code"] == "invalid_webhook_url", url
                assert problem["errors"][0]["field"] == "url"
                assert reason in problem["detail"], (url, problem["detail"])
            listed = await client.get("/api/webhooks/endpoints", headers=user.headers)
            assert listed.json()["data"] == []


async def test_production_accepts_only_https(settings: Settings) -> None:
    production = settings.model_copy(
        update={"environment": "production", "webhook_allow_private_targets": False}
    )
    application = create_app(production)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            user = await UserFactory(client, application).create(plan=PlanName.PRO)
            plain = await client.post(
                "/api/webhooks/endpoints",
                json={"url": "http://hooks.example.com/x", "events": ["job.failed"]},
                headers=user.headers,
            )
            secure = await client.post(
                "/api/webhooks/endpoints",
                json={"url": "https://hooks.example.com/x", "events": ["job.failed"]},
                headers=user.headers,
            )
    assert plain.status_code == 422
    assert "https" in plain.json()["detail"]
    assert secure.status_code == 201


async def test_patch_changes_only_what_is_sent_and_refuses_the_url(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user, events=["job.failed"], description="first")
    path = f"/api/webhooks/endpoints/{endpoint['id']}"
    events = await client.patch(path, json={"events": ["job.queued"]}, headers=user.headers)
    assert events.status_code == 200
    assert events.json()["events"] == ["job.queued"]
    assert events.json()["description"] == "first"
    off = await client.patch(path, json={"enabled": False}, headers=user.headers)
    assert off.json()["enabled"] is False
    assert off.json()["disabled_reason"] == "manual"
    assert off.json()["disabled_at"] is not None
    on = await client.patch(path, json={"enabled": True}, headers=user.headers)
    assert on.json()["enabled"] is True
    assert on.json()["disabled_reason"] is None
    moved = await client.patch(
        path, json={"url": "https://elsewhere.example.com/"}, headers=user.headers
    )
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["field"] == "url"


async def test_rotating_returns_a_new_secret_and_keeps_the_old_one_a_day(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    rotated = await client.post(
        f"/api/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers=user.headers
    )
    assert rotated.status_code == 200
    body = rotated.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != endpoint["secret"]
    shown = (
        await client.get(f"/api/webhooks/endpoints/{endpoint['id']}", headers=user.headers)
    ).json()
    assert shown["previous_secret_expires_at"] == body["previous_secret_expires_at"]
    assert shown["secret_rotated_at"] is not None


async def test_another_accounts_endpoint_is_a_404_everywhere(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    owner = await users.create(plan=PlanName.PRO)
    stranger = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, owner)
    path = f"/api/webhooks/endpoints/{endpoint['id']}"
    attempts = [
        await client.get(path, headers=stranger.headers),
        await client.patch(path, json={"enabled": False}, headers=stranger.headers),
        await client.delete(path, headers=stranger.headers),
        await client.post(f"{path}/rotate-secret", headers=stranger.headers),
        await client.post(f"{path}/test", headers=stranger.headers),
        await client.get(
            "/api/webhooks/deliveries",
            params={"endpoint_id": endpoint["id"]},
            headers=stranger.headers,
        ),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    listed = await client.get("/api/webhooks/endpoints", headers=stranger.headers)
    assert listed.json() == {"data": [], "has_more": False}
    assert (await client.get(path, headers=owner.headers)).status_code == 200


async def test_after_a_downgrade_reading_and_deleting_work_but_changing_does_not(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    endpoint = await create_endpoint(client, user)
    await users.set_plan(user.email, PlanName.FREE)
    path = f"/api/webhooks/endpoints/{endpoint['id']}"
    assert (await client.get("/api/webhooks/endpoints", headers=user.headers)).status_code == 200
    assert (await client.get("/api/webhooks/deliveries", headers=user.headers)).status_code == 200
    for refused in (
        await client.patch(path, json={"enabled": False}, headers=user.headers),
        await client.post(f"{path}/rotate-secret", headers=user.headers),
        await client.post(f"{path}/test", headers=user.headers),
    ):
        assert refused.status_code == 403
        assert refused.json()["code"] == "tier_limit"
    assert (await client.delete(path, headers=user.headers)).status_code == 204
    assert (await client.get(path, headers=user.headers)).status_code == 404


async def test_an_account_has_a_bounded_number_of_endpoints(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.BUSINESS)
    for n in range(MAX_ENDPOINTS_PER_ACCOUNT):
        await create_endpoint(client, user, url=f"https://hooks.example.com/{n}")
    over = await client.post(
        "/api/webhooks/endpoints",
        json={"url": "https://hooks.example.com/over", "events": ["job.failed"]},
        headers=user.headers,
    )
    assert over.status_code == 409
    assert over.json()["code"] == "webhook_endpoint_limit"
    assert over.json()["limit"] == MAX_ENDPOINTS_PER_ACCOUNT


async def test_unknown_ids_and_bad_filters_are_4xx(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    missing = "00000000-0000-7000-8000-000000000000"
    assert (
        await client.get(f"/api/webhooks/endpoints/{missing}", headers=user.headers)
    ).status_code == 404
    assert (
        await client.get("/api/webhooks/endpoints/not-a-uuid", headers=user.headers)
    ).status_code == 422
    for params in (
        {"status": "exploded"},
        {"limit": "0"},
        {"limit": "101"},
        {"starting_after": "x"},
    ):
        response = await client.get("/api/webhooks/deliveries", params=params, headers=user.headers)
        assert response.status_code == 422, params
    redeliver = await client.post(
        f"/api/webhooks/deliveries/{missing}/redeliver", headers=user.headers
    )
    assert redeliver.status_code == 404
