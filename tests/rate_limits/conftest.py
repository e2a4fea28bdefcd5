"""Rate-limit tests spend from a real redis-server of their own, with small budgets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.config import Settings
from tests.support.redis_server import RedisServer

# Plan budgets scaled down to a few requests: free 3, pro 30, business 150 a minute.
PLAN_SCALE = 0.05


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def settings(settings: Settings, redis_server: RedisServer) -> Settings:
    return settings.model_copy(
        update={"rate_limit_storage_uri": redis_server.url, "rate_limit_plan_scale": PLAN_SCALE}
    )
