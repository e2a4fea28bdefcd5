"""Liveness and readiness: no auth, and readiness tells the truth about the database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from devstack.moto_server import free_port


async def test_live_and_ready_answer_without_auth(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "queues": "ok"}


@pytest.fixture
async def client_without_database(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    unreachable = settings.model_copy(
        update={
            "database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none",
            "aws_endpoint_url": f"http://127.0.0.1:{free_port()}",
        }
    )
    app = create_app(unreachable)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_ready_is_503_when_the_database_is_unreachable(
    client_without_database: httpx.AsyncClient,
) -> None:
    ready = await client_without_database.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "unreachable", "queues": "unreachable"}
    assert (await client_without_database.get("/health/live")).status_code == 200
