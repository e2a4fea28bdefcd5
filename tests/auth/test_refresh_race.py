"""A refresh racing a password reset: the rotation must not mint a live token from a refresh
token the reset revoked while the refresh was between its read and its conditional update."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from tests.support.users import UserFactory

WAIT_FOR_LOCK_SECONDS = 10.0


async def _wait_until_a_query_waits_on_a_lock(settings: Settings) -> None:
    # Autocommit: pg_stat_activity holds still within a transaction, so each poll is its own;
    # in one long transaction a first poll before the refresh's update would be seen forever.
    engine = create_async_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            deadline = asyncio.get_running_loop().time() + WAIT_FOR_LOCK_SECONDS
            while asyncio.get_running_loop().time() < deadline:
                waiting = await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database() AND query ILIKE 'UPDATE refresh_tokens%'"
                    )
                )
                if waiting:
                    return
                await asyncio.sleep(0.02)
    finally:
        await engine.dispose()
    raise AssertionError("the refresh never reached its conditional update")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_refresh_racing_a_reset_mints_nothing(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI, settings: Settings
) -> None:
    user = await users.create()
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as reset:
            # The reset's transaction: it holds the token's row (as its UPDATE would) ...
            await reset.execute(
                text("SELECT id FROM refresh_tokens WHERE account_id = :id FOR UPDATE"),
                {"id": user.id},
            )
            # ... while the refresh reads the token (still valid) and blocks on its update.
            refreshing = asyncio.create_task(
                client.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
            )
            await _wait_until_a_query_waits_on_a_lock(settings)
            await reset.execute(
                text("UPDATE refresh_tokens SET revoked_at = now() WHERE account_id = :id"),
                {"id": user.id},
            )
            await reset.commit()
        refreshed = await refreshing
    finally:
        await engine.dispose()
    assert refreshed.status_code == 401, refreshed.text
    assert refreshed.json()["code"] == "invalid_token"
