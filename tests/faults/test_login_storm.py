"""bcrypt is slow on purpose, and a login waits for it (and for the hashing threads, in a
storm): while it does, it holds no database connection. Otherwise a login storm takes every
pooled connection, with a transaction open on each, and every other request that needs the
database waits for the pool until it gives up with a 503."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.config import Settings
from tests.support.apps import running_app
from tests.support.users import DEFAULT_PASSWORD, UserFactory

# One bcrypt verify at 12 rounds takes ~0.2-0.6 s, longer than the pool lets a request wait.
SLOW_HASHING_ROUNDS = 12
CONCURRENT_LOGINS = 4


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_logins_waiting_on_bcrypt_leave_the_database_pool_to_other_requests(
    settings: Settings,
) -> None:
    one_connection = settings.model_copy(
        update={
            "bcrypt_rounds": SLOW_HASHING_ROUNDS,
            "database_pool_size": 1,
            "database_max_overflow": 0,
            "database_pool_timeout_seconds": 0.5,
        }
    )
    async with running_app(one_connection) as (app, client):
        user = await UserFactory(client, app).create()

        async def login() -> httpx.Response:
            return await client.post(
                "/api/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
            )

        async def read_profile() -> httpx.Response:
            await asyncio.sleep(0.1)  # once the logins are hashing
            return await client.get("/api/me", headers=user.headers)

        responses = await asyncio.gather(
            *(login() for _ in range(CONCURRENT_LOGINS)), read_profile(), read_profile()
        )
    assert [r.status_code for r in responses] == [200] * (CONCURRENT_LOGINS + 2), [
        r.text for r in responses if r.status_code != 200
    ]
