"""Registration, login, token refresh and rotation, logout and password change, over HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.support.users import DEFAULT_PASSWORD, UserFactory


async def register(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/register", json={"email": email, "password": password})


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def test_register_normalises_the_email_and_hides_the_hash(client: httpx.AsyncClient) -> None:
    response = await register(client, "  Ada.Lovelace@Example.COM ", DEFAULT_PASSWORD)
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ada.lovelace@example.com"
    assert body["plan"] == "free"
    assert "password" not in response.text
    assert "hash" not in response.text


async def test_a_taken_email_is_a_409_whatever_its_case(client: httpx.AsyncClient) -> None:
    assert (await register(client, "grace@example.com", DEFAULT_PASSWORD)).status_code == 201
    again = await register(client, "GRACE@example.com", DEFAULT_PASSWORD)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "email_taken"


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", DEFAULT_PASSWORD, "email"),
        ("a@example.com", "short", "password"),
        ("a@example.com", "x" * 1025, "password"),
    ],
)
async def test_bad_registrations_list_the_offending_field(
    client: httpx.AsyncClient, email: str, password: str, field: str
) -> None:
    response = await register(client, email, password)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_login_returns_a_token_pair_that_opens_me(client: httpx.AsyncClient) -> None:
    await register(client, "lin@example.com", DEFAULT_PASSWORD)
    tokens = (await login(client, "LIN@example.com", DEFAULT_PASSWORD)).json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] > 0
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "lin@example.com"


async def test_wrong_password_and_unknown_email_answer_alike(client: httpx.AsyncClient) -> None:
    await register(client, "kim@example.com", DEFAULT_PASSWORD)
    wrong = await login(client, "kim@example.com", "not the password")
    unknown = await login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_passwords_differing_after_72_bytes_are_different_passwords(
    client: httpx.AsyncClient,
) -> None:
    shared = "é" * 40  # 80 bytes of UTF-8: past bcrypt's 72-byte horizon
    await register(client, "long@example.com", shared + "-first")
    assert (await login(client, "long@example.com", shared + "-first")).status_code == 200
    assert (await login(client, "long@example.com", shared + "-second")).status_code == 401


async def test_oauth2_form_login_works_for_the_docs_authorize_button(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "form@example.com", DEFAULT_PASSWORD)
    response = await client.post(
        "/api/auth/token", data={"username": "form@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["access_token"]


async def test_the_oauth2_form_refuses_a_username_with_nul_with_a_422(
    client: httpx.AsyncClient,
) -> None:
    """The form's username reaches the email lookup: NUL would make PostgreSQL fail."""
    response = await client.post(
        "/api/auth/token", data={"username": "a\x00b@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "username"


async def test_refresh_rotates_the_token(client: httpx.AsyncClient, users: UserFactory) -> None:
    user = await users.create()
    first = await client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != user.refresh_token
    second = await client.post(
        "/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert second.status_code == 200


async def test_reusing_a_rotated_refresh_token_ends_the_whole_family(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    rotated = (
        await client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    ).json()
    replay = await client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_token"
    # The thief's replay also kills the legitimate successor.
    successor = await client.post(
        "/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert successor.status_code == 401


async def test_logout_ends_the_session(client: httpx.AsyncClient, users: UserFactory) -> None:
    user = await users.create()
    out = await client.post("/api/auth/logout", json={"refresh_token": user.refresh_token})
    assert out.status_code == 204
    after = await client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert after.status_code == 401
    unknown = await client.post("/api/auth/logout", json={"refresh_token": "never-issued"})
    assert unknown.status_code == 204


async def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    refused = await client.post(
        "/api/me/password",
        json={"current_password": "wrong password", "new_password": "a new password!"},
        headers=user.headers,
    )
    assert refused.status_code == 401
    changed = await client.post(
        "/api/me/password",
        json={"current_password": user.password, "new_password": "a new password!"},
        headers=user.headers,
    )
    assert changed.status_code == 204
    assert (await login(client, user.email, user.password)).status_code == 401
    assert (await login(client, user.email, "a new password!")).status_code == 200
    stale = await client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert stale.status_code == 401
