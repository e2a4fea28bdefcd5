"""Rate limits: one budget across replicas, plan-sized, by API key, account or client IP;
429 problem documents with retry headers; health and internal routes free; Redis down is
not the API down."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest
from fastapi import APIRouter, Depends
from prometheus_client import REGISTRY

from app.api.deps import require_dispatcher_token
from app.api.rate_limits import STORAGE_RETRY_SECONDS
from app.config import Settings
from app.domain.plans import PlanName
from tests.support.redis_server import RedisServer
from tests.support.replicas import client_of, replica, running_app
from tests.support.users import DEFAULT_PASSWORD, UserFactory

PROBLEM = "application/problem+json"
LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def remaining(response: httpx.Response) -> int:
    return int(response.headers["X-RateLimit-Remaining"])


def fail_open_count() -> float:
    return REGISTRY.get_sample_value("reframer_rate_limit_fail_open_total") or 0.0


async def test_two_replicas_spend_from_one_budget_in_redis(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    user = await users.create()  # free: 3 requests a minute here
    async with replica(settings) as other:
        first = await client.get("/api/me", headers=user.headers)
        second = await other.get("/api/me", headers=user.headers)
        third = await client.get("/api/me", headers=user.headers)
        assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
        assert [remaining(r) for r in (first, second, third)] == [2, 1, 0]
        assert (await other.get("/api/me", headers=user.headers)).status_code == 429
        assert (await client.get("/api/me", headers=user.headers)).status_code == 429


async def test_a_spent_budget_is_a_429_problem_with_retry_headers(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    for _ in range(3):
        assert (await client.get("/api/me", headers=user.headers)).status_code == 200
    refused = await client.get("/api/me", headers=user.headers)

    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["type"].endswith("/rate_limited")
    assert problem["code"] == "rate_limited"
    assert problem["status"] == 429
    assert problem["limit"] == 3
    assert 1 <= problem["retry_after"] <= 60
    assert refused.headers["Retry-After"] == str(problem["retry_after"])
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert time.time() <= int(refused.headers["X-RateLimit-Reset"]) <= time.time() + 61
    assert refused.headers["X-Request-ID"]


async def test_budgets_follow_the_plan_and_an_accounts_keys_and_sessions_share_one(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    sizes = {}
    for plan in PlanName:
        user = await users.create(plan=plan)
        response = await client.get("/api/me", headers=user.headers)
        sizes[plan] = int(response.headers["X-RateLimit-Limit"])
    assert sizes == {PlanName.FREE: 3, PlanName.PRO: 30, PlanName.BUSINESS: 150}

    pro = await users.create(plan=PlanName.PRO)
    keys = []
    for name in ("a", "b"):
        created = await client.post("/api/api-keys", json={"name": name}, headers=pro.headers)
        keys.append({"Authorization": f"Bearer {created.json()['key']}"})
    assert remaining(await client.get("/api/me", headers=pro.headers)) == 27  # 2 keys, 1 look
    # Several keys buy no more requests: one budget per account.
    assert remaining(await client.get("/api/me", headers=keys[0])) == 26
    assert remaining(await client.get("/api/me", headers=keys[0])) == 25
    assert remaining(await client.get("/api/me", headers=keys[1])) == 24
    assert remaining(await client.get("/api/me", headers=pro.headers)) == 23


async def test_a_login_brute_force_is_cut_off_by_client_ip_behind_the_proxy(
    settings: Settings, users: UserFactory
) -> None:
    victim = await users.create()
    bystander = await users.create()
    # One trusted hop (the load balancer), which appends the address it saw.
    guarded = settings.model_copy(update={"rate_limit_auth_per_minute": 5, "trusted_proxy_hops": 1})
    wrong = {"email": victim.email, "password": "guess-guess-guess"}
    right = {"email": victim.email, "password": DEFAULT_PASSWORD}
    async with replica(guarded) as http:
        for guess in range(5):
            # Whatever the attacker writes into the header, the proxy's entry comes last.
            spoofed = {"X-Forwarded-For": f"10.9.8.{guess}, 203.0.113.9"}
            response = await http.post("/api/auth/login", json=wrong, headers=spoofed)
            assert response.status_code == 401
        cut_off = await http.post(
            "/api/auth/login", json=right, headers={"X-Forwarded-For": "203.0.113.9"}
        )
        assert cut_off.status_code == 429
        assert cut_off.json()["code"] == "rate_limited"
        assert int(cut_off.headers["Retry-After"]) >= 1

        # Another address still has its budget. (The victim's own account now waits out its
        # failed guesses from any address: tests/rate_limits/test_login_throttle.py.)
        elsewhere = await http.post(
            "/api/auth/login",
            json={"email": bystander.email, "password": DEFAULT_PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.20"},
        )
        assert elsewhere.status_code == 200

        # Refresh and register are guarded the same way, each with its own budget.
        for _ in range(5):
            guessed = await http.post(
                "/api/auth/refresh",
                json={"refresh_token": "guessed"},
                headers={"X-Forwarded-For": "203.0.113.9"},
            )
            assert guessed.status_code == 401
        refused = await http.post(
            "/api/auth/refresh",
            json={"refresh_token": "guessed"},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert refused.status_code == 429


async def test_the_api_keeps_answering_while_redis_is_down(
    client: httpx.AsyncClient,
    users: UserFactory,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = await users.create(plan=PlanName.PRO)
    assert "X-RateLimit-Limit" in (await client.get("/api/me", headers=user.headers)).headers

    redis_server.stop()
    before = fail_open_count()
    with caplog.at_level(logging.WARNING, logger="app.rate_limits"):
        for _ in range(3):
            response = await client.get("/api/me", headers=user.headers)
            assert response.status_code == 200
            assert not any(header in response.headers for header in LIMIT_HEADERS)
    assert fail_open_count() - before == 3
    outages = [r for r in caplog.records if "rate-limit storage failed" in r.getMessage()]
    assert len(outages) == 1  # logged once per outage, not once per request

    redis_server.start()  # same port
    await asyncio.sleep(STORAGE_RETRY_SECONDS + 0.1)
    back = await client.get("/api/me", headers=user.headers)
    assert back.status_code == 200
    assert remaining(back) == 29  # a fresh Redis: the budget starts over


async def test_health_and_internal_routes_are_never_limited(
    settings: Settings, users: UserFactory
) -> None:
    probe = APIRouter(prefix="/internal", dependencies=[Depends(require_dispatcher_token)])

    @probe.get("/probe")
    async def internal_probe() -> dict[str, str]:
        return {"status": "ok"}

    tight = settings.model_copy(
        update={"rate_limit_auth_per_minute": 1, "rate_limit_plan_scale": 0.001}
    )
    async with running_app(tight) as application:
        application.include_router(probe)
        async with client_of(application) as http:
            service = {"Authorization": f"Bearer {tight.service_token}"}
            for _ in range(5):
                for path, headers in [
                    ("/health/live", {}),
                    ("/health/ready", {}),
                    ("/internal/probe", service),
                ]:
                    response = await http.get(path, headers=headers)
                    assert response.status_code == 200, path
                    assert not any(h in response.headers for h in LIMIT_HEADERS), path
            # The same app does limit a customer: free is 1 request a minute here.
            user = await users.create()
            assert (await http.get("/api/me", headers=user.headers)).status_code == 200
            assert (await http.get("/api/me", headers=user.headers)).status_code == 429


async def test_a_plan_change_sizes_the_budget_at_the_next_refresh_and_gates_features_at_once(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """The access token carries the plan for the budget (sized anew at the next refresh);
    what the plan allows is read from the account on every request that depends on it."""
    user = await users.create()  # free: 3 requests a minute here, no API keys
    await users.set_plan(user.email, PlanName.PRO)

    listed = await client.get("/api/jobs", headers=user.headers)
    assert listed.status_code == 200
    assert listed.headers["X-RateLimit-Limit"] == "3"
    key = await client.post("/api/api-keys", json={"name": "ci"}, headers=user.headers)
    assert key.status_code == 201, key.text

    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert refreshed.status_code == 200
    headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert (await client.get("/api/jobs", headers=headers)).headers["X-RateLimit-Limit"] == "30"
