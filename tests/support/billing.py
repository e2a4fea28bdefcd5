"""Billing test helpers: the stand-in's credentials and prices, and a customer's steps."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import StripeEvent
from devstack.stripe_standin import StripeStandIn
from tests.support.stripe_webhooks import WebhookSender
from tests.support.users import TestUser

STRIPE_SECRET_KEY = "sk_test_reframer_standin_0123456789abcdef"
STRIPE_WEBHOOK_SECRET = "whsec_reframer_tests_0123456789abcdef"
PRICE_PRO = "price_test_pro"
PRICE_BUSINESS = "price_test_business"


@contextmanager
def running_stripe_standin() -> Iterator[StripeStandIn]:
    """The Stripe stand-in on loopback, knowing the test key and the two test prices."""
    standin = StripeStandIn(
        secret_key=STRIPE_SECRET_KEY, prices=frozenset({PRICE_PRO, PRICE_BUSINESS})
    )
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()


def with_stripe_standin(settings: Settings, standin: StripeStandIn) -> Settings:
    """`settings` with billing configured against the stand-in."""
    return settings.model_copy(
        update={
            "stripe_secret_key": STRIPE_SECRET_KEY,
            "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
            "stripe_price_pro": PRICE_PRO,
            "stripe_price_business": PRICE_BUSINESS,
            "stripe_api_base": standin.base_url,
            "stripe_max_network_retries": 0,  # a failing stand-in answers at once
            "stripe_timeout_seconds": 5.0,
        }
    )


async def plan_of(client: httpx.AsyncClient, user: TestUser) -> str:
    response = await client.get("/api/me", headers=user.headers)
    assert response.status_code == 200, response.text
    plan: str = response.json()["plan"]
    return plan


async def start_checkout(
    client: httpx.AsyncClient, user: TestUser, plan: str = "pro"
) -> dict[str, Any]:
    response = await client.post("/api/billing/checkout", json={"plan": plan}, headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def subscribe(
    client: httpx.AsyncClient,
    user: TestUser,
    stripe_standin: StripeStandIn,
    webhooks: WebhookSender,
    plan: str = "pro",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Checkout, payment on Stripe's page, the signed completion: (event, subscription)."""
    url = (await start_checkout(client, user, plan))["url"]
    session_id = url.rsplit("/", 1)[1]
    session, subscription = stripe_standin.complete_checkout(session_id)
    event = stripe_standin.event("checkout.session.completed", session)
    response = await webhooks.send(event)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "applied"
    return event, subscription


async def inbox_size(app: FastAPI, account_id: uuid.UUID | None = None) -> int:
    async with app.state.sessionmaker() as session:
        query = select(func.count()).select_from(StripeEvent)
        if account_id is not None:
            query = query.where(StripeEvent.account_id == account_id)
        return int((await session.execute(query)).scalar_one())
