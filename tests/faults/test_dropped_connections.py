"""Pooled connections the server dropped while they sat idle (a fail-over, an idle timeout,
a DBA's pg_terminate_backend) are pinged at checkout and replaced: the next requests succeed
instead of meeting a dead connection (app/db/session.py)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.db.session import PING_IF_IDLE_SECONDS
from tests.support.jobs import JobDriver
from tests.support.postgres import PostgresCluster
from tests.support.users import UserFactory


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_connections_dropped_while_idle_are_replaced_before_a_request_meets_them(
    client: httpx.AsyncClient,
    users: UserFactory,
    jobs: JobDriver,
    postgres: PostgresCluster,
) -> None:
    user = await users.create()
    assert (await client.get("/api/jobs", headers=user.headers)).status_code == 200

    # Every connection of this worker's cluster but the admin's own: only this test's app.
    postgres.execute_admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname <> 'postgres' AND pid <> pg_backend_pid()"
    )
    await asyncio.sleep(PING_IF_IDLE_SECONDS + 0.5)

    listed = await client.get("/api/jobs", headers=user.headers)
    assert listed.status_code == 200, listed.text
    created = await jobs.create(user)
    assert created["job"]["status"] == "pending_upload"
