"""Billing tests run against a Stripe stand-in on loopback, with webhooks signed per Stripe."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from tests.support.billing import (
    PRICE_BUSINESS,
    PRICE_PRO,
    STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET,
)
from tests.support.stripe_standin import StripeStandIn
from tests.support.stripe_webhooks import WebhookSender


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
            "stripe_max_network_retries": 0,  # a failing stand-in answers at once
            "stripe_timeout_seconds": 5.0,
        }
    )


@pytest.fixture
def webhooks(client: httpx.AsyncClient) -> WebhookSender:
    return WebhookSender(client, STRIPE_WEBHOOK_SECRET)
