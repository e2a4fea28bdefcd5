"""API keys: shown once, authenticate like a JWT, revocable, scoped to their account and plan."""

from __future__ import annotations

import httpx

from app.domain.plans import PlanName
from tests.support.users import TestUser, UserFactory


async def create_key(client: httpx.AsyncClient, user: TestUser, name: str = "ci") -> httpx.Response:
    return await client.post("/api/api-keys", json={"name": name}, headers=user.headers)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_new_key_is_shown_once_and_opens_the_api(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    created = await create_key(client, user, "production server")
    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert key.startswith("rk_live_")
    assert body["prefix"] == key[:12]
    me = await client.get("/api/me", headers=bearer(key))
    assert me.status_code == 200
    assert me.json()["email"] == user.email

    listed = (await client.get("/api/api-keys", headers=user.headers)).json()
    assert [k["name"] for k in listed] == ["production server"]
    # The GET above stamped the key; a GET's session runs without a transaction block
    # (app/db/session.py), and the stamp is still there for the next request.
    assert listed[0]["last_used_at"] is not None
    assert "key" not in listed[0]
    assert key not in (await client.get("/api/api-keys", headers=user.headers)).text
    # The key itself never lists keys: that takes the user's session.
    refused = await client.get("/api/api-keys", headers=bearer(key))
    assert refused.status_code == 403
    assert refused.json()["code"] == "session_required"


async def test_a_revoked_key_stops_working(client: httpx.AsyncClient, users: UserFactory) -> None:
    user = await users.create(plan=PlanName.PRO)
    body = (await create_key(client, user)).json()
    revoked = await client.delete(f"/api/api-keys/{body['id']}", headers=user.headers)
    assert revoked.status_code == 204
    refused = await client.get("/api/me", headers=bearer(body["key"]))
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    again = await client.delete(f"/api/api-keys/{body['id']}", headers=user.headers)
    assert again.status_code == 404


async def test_a_key_with_a_wrong_checksum_is_refused(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    key = (await create_key(client, user)).json()["key"]
    flipped = key[:-1] + ("A" if key[-1] != "A" else "B")
    response = await client.get("/api/me", headers=bearer(flipped))
    assert response.status_code == 401


async def test_another_accounts_key_is_not_found(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    owner = await users.create(plan=PlanName.PRO)
    stranger = await users.create(plan=PlanName.PRO)
    key_id = (await create_key(client, owner)).json()["id"]
    response = await client.delete(f"/api/api-keys/{key_id}", headers=stranger.headers)
    assert response.status_code == 404
    assert (await client.get("/api/api-keys", headers=stranger.headers)).json() == []
    assert len((await client.get("/api/api-keys", headers=owner.headers)).json()) == 1


async def test_the_free_plan_gets_a_tier_limit_with_upgrade_hints(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    response = await create_key(client, user)
    assert response.status_code == 403
    problem = response.json()
    assert problem["code"] == "tier_limit"
    assert problem["feature"] == "api_keys"
    assert problem["required_plan"] == "pro"
    assert problem["upgrade_url"]


async def test_keys_stop_working_after_a_downgrade(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create(plan=PlanName.PRO)
    key = (await create_key(client, user)).json()["key"]
    await users.set_plan(user.email, PlanName.FREE)
    response = await client.get("/api/me", headers=bearer(key))
    assert response.status_code == 403
    assert response.json()["code"] == "tier_limit"
    # Still listable (and revocable) with a login, so the customer can clean up.
    assert (await client.get("/api/api-keys", headers=user.headers)).status_code == 200


async def test_a_key_name_with_nul_or_control_characters_is_a_422_not_a_500(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """PostgreSQL refuses NUL in text: the schema refuses it first, with the field named."""
    user = await users.create(plan=PlanName.PRO)
    for name in ("nul\x00inside", "line\nbreak", "bell\x07", "del\x7f"):
        response = await create_key(client, user, name)
        assert response.status_code == 422, (name, response.text)
        assert response.json()["errors"][0]["field"] == "name"
    assert (await client.get("/api/api-keys", headers=user.headers)).json() == []
