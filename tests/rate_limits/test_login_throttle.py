"""Sign-in guesses: one account's failures slow it down from every address, with growing
waits and a short cap; `/login` and `/token` share an address's budget; and sign-in fails
closed while the limiter's storage is down."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.config import Settings
from tests.support.redis_server import RedisServer
from tests.support.replicas import replica
from tests.support.users import DEFAULT_PASSWORD, UserFactory

FREE_FAILURES = 3
WRONG = "guess-guess-guess"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Behind one trusted proxy (the load balancer), so each guess can come from elsewhere.
    return settings.model_copy(
        update={"trusted_proxy_hops": 1, "login_free_failures": FREE_FAILURES}
    )


def from_address(number: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{number}"}


async def _login(
    client: httpx.AsyncClient, email: str, password: str, address: int
) -> httpx.Response:
    return await client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        headers=from_address(address),
    )


async def test_guesses_from_many_addresses_slow_the_account_down(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    victim = await users.create()
    bystander = await users.create()
    for address in range(FREE_FAILURES):  # each guess from a new address
        assert (await _login(client, victim.email, WRONG, address)).status_code == 401

    # Now even the right password waits (else the wait would tell a right guess).
    waiting = await _login(client, victim.email, DEFAULT_PASSWORD, 50)
    assert waiting.status_code == 429, waiting.text
    assert waiting.json()["code"] == "rate_limited"
    assert waiting.headers["Retry-After"] == "1"
    token_form = await client.post(
        "/api/auth/token",
        data={"username": victim.email.upper(), "password": DEFAULT_PASSWORD},
        headers=from_address(51),
    )
    assert token_form.status_code == 429  # the same account through the OAuth2 form
    # Other accounts are untouched.
    assert (await _login(client, bystander.email, DEFAULT_PASSWORD, 50)).status_code == 200

    await asyncio.sleep(1.1)
    assert (await _login(client, victim.email, WRONG, 60)).status_code == 401
    longer = await _login(client, victim.email, DEFAULT_PASSWORD, 61)
    assert longer.status_code == 429
    assert longer.headers["Retry-After"] == "2"  # each failure doubles the wait

    await asyncio.sleep(2.1)
    # The owner gets in after a short wait, and the success forgets the failures.
    assert (await _login(client, victim.email, DEFAULT_PASSWORD, 70)).status_code == 200
    assert (await _login(client, victim.email, WRONG, 71)).status_code == 401
    assert (await _login(client, victim.email, DEFAULT_PASSWORD, 72)).status_code == 200


async def test_unknown_addresses_are_slowed_alike(client: httpx.AsyncClient) -> None:
    """The answer must not tell whether an account exists."""
    for address in range(FREE_FAILURES):
        assert (await _login(client, "nobody@example.com", WRONG, address)).status_code == 401
    assert (await _login(client, "nobody@example.com", WRONG, 9)).status_code == 429


async def test_login_and_token_share_one_budget_per_address(settings: Settings) -> None:
    budget = 4
    same_address = from_address(7)
    async with replica(settings.model_copy(update={"rate_limit_auth_per_minute": budget})) as http:
        # Different accounts each time keep the per-account count out of it.
        for n in range(budget // 2):
            login = await http.post(
                "/api/auth/login",
                json={"email": f"a{n}@example.com", "password": WRONG},
                headers=same_address,
            )
            assert login.status_code == 401
            token = await http.post(
                "/api/auth/token",
                data={"username": f"b{n}@example.com", "password": WRONG},
                headers=same_address,
            )
            assert token.status_code == 401
        refused = await http.post(
            "/api/auth/token",
            data={"username": "c@example.com", "password": WRONG},
            headers=same_address,
        )
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1


async def test_sign_in_fails_closed_while_the_limiter_storage_is_down(
    client: httpx.AsyncClient, users: UserFactory, redis_server: RedisServer
) -> None:
    user = await users.create()
    redis_server.stop()
    for path, kwargs in [
        ("/api/auth/login", {"json": {"email": user.email, "password": DEFAULT_PASSWORD}}),
        ("/api/auth/token", {"data": {"username": user.email, "password": DEFAULT_PASSWORD}}),
        ("/api/auth/refresh", {"json": {"refresh_token": user.refresh_token}}),
        ("/api/auth/register", {"json": {"email": "new@example.com", "password": "x" * 12}}),
    ]:
        response = await client.post(path, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 503, (path, response.text)
        assert response.json()["code"] == "rate_limiter_unavailable"
        assert "Retry-After" in response.headers
    # Authenticated calls still fail open: a session keeps working.
    assert (await client.get("/api/me", headers=user.headers)).status_code == 200
