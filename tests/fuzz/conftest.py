"""The fuzz run's world: PostgreSQL only (the stricter database: NUL bytes, lengths,
integer ranges), moto and an SMTP sink from the harness, and the Stripe stand-in, so every
dependency a fuzzed request reaches really answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from app.config import Settings
from devstack.stripe_standin import StripeStandIn
from tests.support.billing import running_stripe_standin, with_stripe_standin
from tests.support.postgres import PostgresCluster


@pytest.fixture
async def database_url(postgres: PostgresCluster, pg_template: str) -> AsyncIterator[str]:
    """Overrides the harness's two-database parameter: one fresh PostgreSQL database."""
    async with postgres.copy_of(pg_template) as url:
        yield url


@pytest.fixture
def stripe_standin() -> Iterator[StripeStandIn]:
    with running_stripe_standin() as standin:
        yield standin


@pytest.fixture
def settings(settings: Settings, stripe_standin: StripeStandIn) -> Settings:
    return with_stripe_standin(settings, stripe_standin)
