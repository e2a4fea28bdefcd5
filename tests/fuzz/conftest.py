"""The fuzz run's world: PostgreSQL only (the stricter database: NUL bytes, lengths,
integer ranges), moto and an SMTP sink from the harness, and the Stripe stand-in, so every
dependency a fuzzed request reaches really answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from app.config import Settings
from tests.support.billing import (
    PRICE_BUSINESS,
    PRICE_PRO,
    STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET,
)
from tests.support.postgres import PostgresCluster
from tests.support.stripe_standin import StripeStandIn


@pytest.fixture
async def database_url(postgres: PostgresCluster, pg_template: str) -> AsyncIterator[str]:
    """Overrides the harness's two-database parameter: one fresh PostgreSQL database."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres.url(driver="postgresql"))
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
        yield postgres.url(name)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
def stripe_standin() -> Iterator[StripeStandIn]:
    standin = StripeStandIn(
        secret_key=STRIPE_SECRET_KEY, prices=frozenset({PRICE_PRO, PRICE_BUSINESS})
    )
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def settings(settings: Settings, stripe_standin: StripeStandIn) -> Settings:
    return settings.model_copy(
        update={
            "stripe_secret_key": STRIPE_SECRET_KEY,
            "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
            "stripe_price_pro": PRICE_PRO,
            "stripe_price_business": PRICE_BUSINESS,
            "stripe_api_base": stripe_standin.base_url,
            "stripe_max_network_retries": 0,
            "stripe_timeout_seconds": 5.0,
        }
    )
