"""Changing or resetting the password and "log out everywhere" end every access token at
once, not when it expires: each token carries the account's session version."""

from __future__ import annotations

import httpx

from tests.support.mailbox import Mailbox, token_of
from tests.support.users import TestUser, UserFactory

NEW_PASSWORD = "a brand new passphrase"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _second_session(client: httpx.AsyncClient, user: TestUser, password: str) -> str:
    login = await client.post("/api/auth/login", json={"email": user.email, "password": password})
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])


async def _assert_ended(client: httpx.AsyncClient, *tokens: str) -> None:
    for token in tokens:
        for path in ("/api/jobs", "/api/me"):  # a route reading the account, and one that did not
            refused = await client.get(path, headers=bearer(token))
            assert refused.status_code == 401, (path, refused.text)
            assert refused.json()["code"] == "invalid_token"
            assert "session was ended" in refused.json()["detail"]


async def test_a_password_change_ends_every_access_token_at_once(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    other = await _second_session(client, user, user.password)
    # Both were used, so both sit in the verified-token cache.
    for token in (user.access_token, other):
        assert (await client.get("/api/jobs", headers=bearer(token))).status_code == 200

    changed = await client.post(
        "/api/me/password",
        json={"current_password": user.password, "new_password": NEW_PASSWORD},
        headers=user.headers,
    )
    assert changed.status_code == 204, changed.text
    await _assert_ended(client, user.access_token, other)

    fresh = await _second_session(client, user, NEW_PASSWORD)
    assert (await client.get("/api/jobs", headers=bearer(fresh))).status_code == 200


async def test_a_password_reset_ends_every_access_token_at_once(
    client: httpx.AsyncClient, users: UserFactory, mailbox: Mailbox
) -> None:
    user = await users.create()
    assert (await client.get("/api/jobs", headers=user.headers)).status_code == 200
    await mailbox.deliver()
    forgot = await client.post("/api/auth/forgot-password", json={"email": user.email})
    assert forgot.status_code == 202
    email = await mailbox.deliver_one("password_reset")
    reset = await client.post(
        "/api/auth/reset-password", json={"token": token_of(email), "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 204, reset.text
    await _assert_ended(client, user.access_token)


async def test_log_out_everywhere_ends_access_and_refresh_tokens(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    other = await _second_session(client, user, user.password)
    assert (await client.get("/api/jobs", headers=bearer(other))).status_code == 200

    ended = await client.post("/api/auth/logout-all", headers=bearer(other))
    assert ended.status_code == 204
    await _assert_ended(client, user.access_token, other)
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert refreshed.status_code == 401

    # Logging in again starts a session that works.
    fresh = await _second_session(client, user, user.password)
    assert (await client.get("/api/me", headers=bearer(fresh))).status_code == 200
