"""Billing tests run against a Stripe stand-in on loopback, with webhooks signed per Stripe."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from devstack.stripe_standin import StripeStandIn
from tests.support.billing import (
    STRIPE_WEBHOOK_SECRET,
    running_stripe_standin,
    with_stripe_standin,
)
from tests.support.stripe_webhooks import WebhookSender


@pytest.fixture
def stripe_standin() -> Iterator[StripeStandIn]:
    with running_stripe_standin() as standin:
        yield standin


@pytest.fixture
def settings(settings: Settings, stripe_standin: StripeStandIn) -> Settings:
    return with_stripe_standin(settings, stripe_standin)


@pytest.fixture
def webhooks(client: httpx.AsyncClient) -> WebhookSender:
    return WebhookSender(client, STRIPE_WEBHOOK_SECRET)
