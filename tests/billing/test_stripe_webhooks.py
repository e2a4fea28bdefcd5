"""The Stripe webhook: signed events move the plan, once, in Stripe's order, never backwards."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from fastapi import FastAPI

from devstack.stripe_standin import StripeStandIn
from tests.support.billing import PRICE_BUSINESS, inbox_size, plan_of, subscribe
from tests.support.stripe_webhooks import WebhookSender, stripe_signature
from tests.support.users import UserFactory

PROBLEM = "application/problem+json"


async def test_checkout_upgrades_a_replay_changes_nothing_and_cancelling_falls_back_to_free(
    client: httpx.AsyncClient,
    app: FastAPI,
    users: UserFactory,
    stripe_standin: StripeStandIn,
    webhooks: WebhookSender,
) -> None:
    user = await users.create()
    assert await plan_of(client, user) == "free"

    completed, subscription = await subscribe(client, user, stripe_standin, webhooks, "pro")
    assert await plan_of(client, user) == "pro"
    # The checkout session carries only the subscription's id: the app fetched the rest.
    assert stripe_standin.calls(f"/v1/subscriptions/{subscription['id']}")

    replay = await webhooks.send(completed)
    assert replay.status_code == 200
    assert replay.json()["outcome"] == "duplicate"
    assert await inbox_size(app, user.id) == 1

    stripe_standin.advance(3600)
    ended = stripe_standin.cancel_subscription(subscription["id"])
    deleted = await webhooks.send(stripe_standin.event("customer.subscription.deleted", ended))
    assert deleted.json()["outcome"] == "applied"
    assert await plan_of(client, user) == "free"

    # Stripe redelivers the old completion (same event id): still free, nothing recorded.
    again = await webhooks.send(completed)
    assert again.json()["outcome"] == "duplicate"
    assert await plan_of(client, user) == "free"
    assert await inbox_size(app, user.id) == 2

    view = (await client.get("/api/billing/subscription", headers=user.headers)).json()
    assert view["plan"] == "free"
    assert view["status"] == "canceled"
    assert view["subscribed_plan"] is None


async def test_a_forged_or_stale_signature_is_400_and_changes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    users: UserFactory,
    stripe_standin: StripeStandIn,
    webhooks: WebhookSender,
) -> None:
    user = await users.create()
    url = (
        await client.post("/api/billing/checkout", json={"plan": "pro"}, headers=user.headers)
    ).json()["url"]
    session, _ = stripe_standin.complete_checkout(url.rsplit("/", 1)[1])
    payload = json.dumps(stripe_standin.event("checkout.session.completed", session)).encode()
    good = stripe_signature(payload, webhooks.secret)
    attempts = {
        "another secret": stripe_signature(payload, "whsec_someone_else_entirely_123456"),
        "a tampered body": good,  # signed over the original, sent with a different body
        "an old timestamp": stripe_signature(payload, webhooks.secret, int(time.time()) - 3600),
        "no v1 signature": f"t={int(time.time())},v0=abc",
        "garbage": "not a signature header",
        "no header": None,
    }
    for what, signature in attempts.items():
        body = payload.replace(b'"complete"', b'"open"') if what == "a tampered body" else payload
        response = await webhooks.post(body, signature)
        assert response.status_code == 400, what
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "invalid_signature", what
    assert await plan_of(client, user) == "free"
    assert await inbox_size(app) == 0

    accepted = await webhooks.post(payload, good)
    assert accepted.status_code == 200
    assert await plan_of(client, user) == "pro"


async def test_cancelling_at_period_end_keeps_the_plan_until_stripe_ends_the_subscription(
    client: httpx.AsyncClient,
    users: UserFactory,
    stripe_standin: StripeStandIn,
    webhooks: WebhookSender,
) -> None:
    user = await users.create()
    _, subscription = await subscribe(client, user, stripe_standin, webhooks, "business")
    assert await plan_of(client, user) == "business"

    stripe_standin.advance(60)
    scheduled = stripe_standin.cancel_subscription(subscription["id"], at_period_end=True)
    await webhooks.send(stripe_standin.event("customer.subscription.updated", scheduled))
    assert await plan_of(client, user) == "business"
    view = (await client.get("/api/billing/subscription", headers=user.headers)).json()
    assert view["cancel_at_period_end"] is True
    assert view["status"] == "active"
    period_end = subscription["items"]["data"][0]["current_period_end"]
    assert view["current_period_end"].startswith(
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(period_end))
    )

    stripe_standin.advance(30 * 24 * 3600)  # the period ends; Stripe deletes the subscription
    ended = stripe_standin.update_subscription(
        subscription["id"], status="canceled", ended_at=stripe_standin.now
    )
    await webhooks.send(stripe_standin.event("customer.subscription.deleted", ended))
    assert await plan_of(client, user) == "free"


async def test_events_arriving_out_of_order_never_move_the_account_backwards(
    client: httpx.AsyncClient,
    users: UserFactory,
    stripe_standin: StripeStandIn,
    webhooks: WebhookSender,
) -> None:
    user = await users.create()
    _, subscription = await subscribe(client, user, stripe_standin, webhooks, "pro")
    sub_id = subscription["id"]
    created = stripe_standin.event("customer.subscription.created", subscription)

    stripe_standin.advance(60)
    upgraded = stripe_standin.event(
        "customer.subscription.updated",
        stripe_standin.update_subscription(sub_id, price=PRICE_BUSINESS),
    )
    stripe_standin.advance(60)
    deleted = stripe_standin.event(
        "customer.subscription.deleted", stripe_standin.cancel_subscription(sub_id)
    )

    # Stripe delivers the upgrade, then the (older) creation: the upgrade stands.
    assert (await webhooks.send(upgraded)).json()["outcome"] == "applied"
    assert await plan_of(client, user) == "business"
    assert (await webhooks.send(created)).json()["outcome"] == "stale"
    assert await plan_of(client, user) == "business"

    # An ended subscription is final, whatever older news arrives after it.
    assert (await webhooks.send(deleted)).json()["outcome"] == "applied"
    late = stripe_standin.event("customer.subscription.updated", upgraded["data"]["object"])
    late["created"] = stripe_standin.now + 3600  # even one stamped later: it was not revived
    assert (await webhooks.send(late)).json()["outcome"] == "stale"
    assert await plan_of(client, user) == "free"


async def test_a_failed_payment_keeps_the_plan_while_stripe_retries_and_unpaid_falls_back(
    client: httpx.AsyncClient,
    users: UserFactory,
    stripe_standin: StripeStandIn,
    webhooks: WebhookSender,
) -> None:
    user = await users.create()
    _, subscription = await subscribe(client, user, stripe_standin, webhooks, "pro")
    sub_id = subscription["id"]

    stripe_standin.advance(30 * 24 * 3600)
    stripe_standin.renew_subscription(sub_id)
    stripe_standin.update_subscription(sub_id, status="past_due")
    failed = stripe_standin.event(
        "invoice.payment_failed", stripe_standin.invoice(sub_id, paid=False)
    )
    assert (await webhooks.send(failed)).json()["outcome"] == "applied"
    assert await plan_of(client, user) == "pro"  # the grace period of Stripe's retries

    stripe_standin.advance(7 * 24 * 3600)
    stripe_standin.update_subscription(sub_id, status="unpaid")
    final = stripe_standin.event(
        "invoice.payment_failed", stripe_standin.invoice(sub_id, paid=False)
    )
    await webhooks.send(final)
    assert await plan_of(client, user) == "free"

    stripe_standin.advance(3600)
    stripe_standin.update_subscription(sub_id, status="active")
    paid = stripe_standin.event("invoice.paid", stripe_standin.invoice(sub_id, paid=True))
    assert (await webhooks.send(paid)).json()["outcome"] == "applied"
    assert await plan_of(client, user) == "pro"


async def test_a_checkout_whose_customer_we_never_stored_is_linked_by_its_reference(
    client: httpx.AsyncClient,
    users: UserFactory,
    stripe_standin: StripeStandIn,
    webhooks: WebhookSender,
) -> None:
    """E.g. a Payment Link: Stripe made the customer, and carries our account id."""
    user = await users.create()
    session, subscription = stripe_standin.complete_checkout(
        (await client.post("/api/billing/checkout", json={"plan": "pro"}, headers=user.headers))
        .json()["url"]
        .rsplit("/", 1)[1]
    )
    # Another account's checkout completes on a customer we have no row for.
    other = await users.create()
    customer = stripe_standin.customers.pop(session["customer"])
    customer["id"] = "cus_created_by_stripe"
    stripe_standin.customers[customer["id"]] = customer
    stripe_standin.subscriptions[subscription["id"]]["customer"] = customer["id"]
    session = {**session, "customer": customer["id"], "client_reference_id": str(other.id)}
    response = await webhooks.send(stripe_standin.event("checkout.session.completed", session))
    assert response.json()["outcome"] == "applied"
    assert await plan_of(client, other) == "pro"
    assert await plan_of(client, user) == "free"


NOT_OURS: dict[str, dict[str, Any]] = {
    "customer.subscription.updated": {
        "id": "sub_not_ours",
        "object": "subscription",
        "customer": "cus_not_ours",
        "status": "active",
        "created": 1_700_000_000,
        "items": {"object": "list", "data": []},
    },
    "customer.created": {"id": "cus_x", "object": "customer"},
    "invoice.paid": {"id": "in_x", "object": "invoice", "customer": "cus_x"},  # no subscription
}


async def test_events_about_nothing_of_ours_are_acknowledged_and_ignored(
    app: FastAPI, webhooks: WebhookSender, stripe_standin: StripeStandIn
) -> None:
    for event_type, obj in NOT_OURS.items():
        response = await webhooks.send(stripe_standin.event(event_type, obj))
        assert response.status_code == 200, event_type
        assert response.json()["outcome"] == "ignored", event_type
    # Recorded all the same: a redelivery is answered from the inbox.
    assert await inbox_size(app) == len(NOT_OURS)


NOT_EVENTS = {
    "not JSON": b"not json at all",
    "not UTF-8": b"\xff\xfe not utf-8",
    "not an event": b'{"object": "list"}',
    "a subscription without items": json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "created": 1_700_000_000,
            "type": "customer.subscription.updated",
            "data": {"object": {"object": "subscription", "id": "sub_1"}},
        }
    ).encode(),
}


async def test_a_signed_payload_that_is_not_a_stripe_event_is_400(
    app: FastAPI, webhooks: WebhookSender
) -> None:
    for what, payload in NOT_EVENTS.items():
        response = await webhooks.post(payload, stripe_signature(payload, webhooks.secret))
        assert response.status_code == 400, what
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "invalid_payload", what
    assert await inbox_size(app) == 0


async def test_the_same_event_delivered_twice_at_once_is_applied_once(
    client: httpx.AsyncClient,
    app: FastAPI,
    users: UserFactory,
    stripe_standin: StripeStandIn,
    webhooks: WebhookSender,
) -> None:
    user = await users.create()
    _, subscription = await subscribe(client, user, stripe_standin, webhooks, "pro")
    stripe_standin.advance(60)
    upgraded = stripe_standin.event(
        "customer.subscription.updated",
        stripe_standin.update_subscription(subscription["id"], price=PRICE_BUSINESS),
    )
    first, second = await asyncio.gather(webhooks.send(upgraded), webhooks.send(upgraded))
    assert first.status_code == second.status_code == 200
    assert sorted([first.json()["outcome"], second.json()["outcome"]]) == ["applied", "duplicate"]
    assert await plan_of(client, user) == "business"
    assert await inbox_size(app, user.id) == 2
