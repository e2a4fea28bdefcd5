"""The Stripe inbox forgets an event id after the retention, never while Stripe may retry it."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from app.config import Settings
from app.domain.clock import utcnow
from devstack.stripe_standin import StripeStandIn
from tests.support.billing import inbox_size
from tests.support.stripe_webhooks import WebhookSender


async def test_a_processed_event_id_is_deleted_after_the_retention(
    app: FastAPI, settings: Settings, webhooks: WebhookSender, stripe_standin: StripeStandIn
) -> None:
    event = stripe_standin.event("customer.created", {"id": "cus_x", "object": "customer"})
    assert (await webhooks.send(event)).json()["outcome"] == "ignored"
    sweeper = app.state.job_sweeper
    retention = timedelta(days=settings.stripe_event_retention_days)

    within = await sweeper.sweep_once(now=utcnow() + retention - timedelta(hours=1))
    assert within.deleted_stripe_events == 0
    assert (await webhooks.send(event)).json()["outcome"] == "duplicate"

    past = await sweeper.sweep_once(now=utcnow() + retention + timedelta(hours=1))
    assert past.deleted_stripe_events == 1
    assert await inbox_size(app) == 0
