"""API keys carry scopes (like Stripe's restricted keys); keys, billing and the account itself
take a user's session; the owner hears of every new key; an account holds a few at most."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.api.deps import get_caller
from app.api.routes import ROUTERS
from app.config import Settings
from app.domain.plans import PlanName
from devstack.smtp_sink import SmtpSink, plain_text
from tests.support.mailbox import Mailbox
from tests.support.users import TestUser, UserFactory

KEY_CAP = 3
DECLARATIONS = {"require_scope", "require_resource_scope", "require_session", "allow_any_api_key"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_keys_max_per_account": KEY_CAP})


@pytest.fixture
def mailbox(app: FastAPI, smtp_sink: SmtpSink) -> Mailbox:
    return Mailbox(app, smtp_sink)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def new_key(
    client: httpx.AsyncClient, user: TestUser, scopes: list[str] | None = None
) -> dict[str, object]:
    body: dict[str, object] = {"name": "ci"}
    if scopes is not None:
        body["scopes"] = scopes
    response = await client.post("/api/api-keys", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def test_a_default_key_runs_jobs_and_reads_usage_and_nothing_else(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    created = await new_key(client, user)
    assert created["scopes"] == ["jobs:read", "jobs:write", "usage:read"]
    key = bearer(str(created["key"]))

    assert (await client.get("/api/jobs", headers=key)).status_code == 200
    assert (await client.get("/api/usage", headers=key)).status_code == 200
    assert (await client.get("/api/me", headers=key)).status_code == 200

    for method, path in [
        ("GET", "/api/webhooks/endpoints"),
        ("POST", "/api/webhooks/endpoints"),
    ]:
        refused = await client.request(method, path, headers=key, json={})
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["code"] == "insufficient_scope"
        assert refused.json()["required_scope"].startswith("webhooks:")

    # What only the account's user may do: a leaked key cannot outlive its revocation by
    # minting another, nor reach billing, the password or the account's settings.
    for method, path, body in [
        ("POST", "/api/api-keys", {"name": "second"}),
        ("GET", "/api/api-keys", None),
        ("DELETE", f"/api/api-keys/{created['id']}", None),
        ("POST", "/api/billing/portal", None),
        ("POST", "/api/billing/checkout", {"plan": "business"}),
        ("GET", "/api/billing/subscription", None),
        ("POST", "/api/me/password", {"current_password": user.password, "new_password": "x" * 12}),
        ("PATCH", "/api/me", {"notify_on_job_done": False}),
        ("POST", "/api/auth/resend-verification", None),
    ]:
        refused = await client.request(method, path, headers=key, json=body)
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["code"] == "session_required", (method, path)

    # Nothing was minted or revoked; the key still works.
    listed = (await client.get("/api/api-keys", headers=user.headers)).json()
    assert [k["id"] for k in listed] == [created["id"]]
    assert (await client.get("/api/jobs", headers=key)).status_code == 200


async def test_webhooks_write_is_granted_only_when_chosen_and_includes_reading(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    created = await new_key(client, user, ["webhooks:write"])
    assert created["scopes"] == ["webhooks:write"]
    key = bearer(str(created["key"]))
    made = await client.post(
        "/api/webhooks/endpoints",
        json={"url": "https://hooks.example.com/reframer", "events": ["job.succeeded"]},
        headers=key,
    )
    assert made.status_code == 201, made.text
    assert (await client.get("/api/webhooks/endpoints", headers=key)).status_code == 200
    # Only webhooks: jobs are out of this key's reach.
    refused = await client.get("/api/jobs", headers=key)
    assert refused.status_code == 403
    assert refused.json()["required_scope"] == "jobs:read"

    reader = bearer(str((await new_key(client, user, ["webhooks:read"]))["key"]))
    assert (await client.get("/api/webhooks/endpoints", headers=reader)).status_code == 200
    deleted = await client.delete(f"/api/webhooks/endpoints/{made.json()['id']}", headers=reader)
    assert deleted.status_code == 403
    assert deleted.json()["required_scope"] == "webhooks:write"


async def test_an_unknown_or_empty_scope_list_is_a_422(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    for scopes in (["api_keys:write"], [], ["billing"]):
        response = await client.post(
            "/api/api-keys", json={"name": "ci", "scopes": scopes}, headers=user.headers
        )
        assert response.status_code == 422, (scopes, response.text)
    assert (await client.get("/api/api-keys", headers=user.headers)).json() == []


async def test_the_key_list_shows_scopes_and_last_use(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    used = await new_key(client, user, ["jobs:read"])
    unused = await new_key(client, user, ["usage:read", "jobs:write"])
    assert (await client.get("/api/jobs", headers=bearer(str(used["key"])))).status_code == 200

    listed = {k["id"]: k for k in (await client.get("/api/api-keys", headers=user.headers)).json()}
    assert listed[used["id"]]["scopes"] == ["jobs:read"]
    assert listed[used["id"]]["last_used_at"] is not None
    # Stored in one order whatever order they were asked in.
    assert listed[unused["id"]]["scopes"] == ["jobs:write", "usage:read"]
    assert listed[unused["id"]]["last_used_at"] is None


async def test_creating_a_key_emails_the_owner(
    client: httpx.AsyncClient, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create(plan=PlanName.PRO)
    await mailbox.deliver()  # the registration's verification email
    created = await new_key(client, user, ["jobs:read", "webhooks:write"])
    email = await mailbox.deliver_one("api_key_created")
    assert email["To"] == user.email
    text = plain_text(email)
    assert str(created["prefix"]) in text
    assert "jobs:read, webhooks:write" in text
    assert str(created["key"]) not in text  # the secret itself never travels by email


async def test_an_account_holds_a_capped_number_of_active_keys(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    keys = [await new_key(client, user) for _ in range(KEY_CAP)]
    refused = await client.post("/api/api-keys", json={"name": "one more"}, headers=user.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "api_key_limit"
    assert refused.json()["limit"] == KEY_CAP
    # Revoking one makes room again.
    revoked = await client.delete(f"/api/api-keys/{keys[0]['id']}", headers=user.headers)
    assert revoked.status_code == 204
    assert (await new_key(client, user))["scopes"]


async def test_a_burst_of_key_requests_cannot_pass_the_cap_together(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    # Counted at the same moment, every request of a burst would see room for one more.
    user = await users.create(plan=PlanName.PRO)

    answers = await asyncio.gather(
        *(
            client.post("/api/api-keys", json={"name": f"k{i}"}, headers=user.headers)
            for i in range(3 * KEY_CAP)
        )
    )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * KEY_CAP + [409] * (2 * KEY_CAP), [a.text for a in answers]
    listed = await client.get("/api/api-keys", headers=user.headers)
    assert len(listed.json()) == KEY_CAP


def _dependency_names(dependant: Dependant) -> set[str]:
    names = set()
    for sub in dependant.dependencies:
        if sub.call is not None:
            names.add(getattr(sub.call, "__qualname__", "").split(".")[0])
        names |= _dependency_names(sub)
    return names


def _calls(dependant: Dependant) -> set[object]:
    found: set[object] = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= _calls(sub)
    return found


def test_every_authenticated_route_says_what_an_api_key_needs() -> None:
    """A new route that forgot to declare a scope would let every key in."""
    authenticated = [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and get_caller in _calls(route.dependant)
    ]
    assert len(authenticated) > 20  # the walk does find them
    undeclared = [
        f"{sorted(route.methods)} {route.path}"
        for route in authenticated
        if not DECLARATIONS & _dependency_names(route.dependant)
    ]
    assert undeclared == []
