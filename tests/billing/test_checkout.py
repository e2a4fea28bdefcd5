"""Checkout, the customer portal and the subscription view, against the Stripe stand-in."""

from __future__ import annotations

import httpx

from app.config import DEV_STRIPE_SECRET_KEY, Settings
from devstack.stripe_standin import StripeStandIn
from tests.support.billing import PRICE_BUSINESS, PRICE_PRO, start_checkout, subscribe
from tests.support.replicas import replica
from tests.support.stripe_webhooks import WebhookSender
from tests.support.users import UserFactory

PROBLEM = "application/problem+json"


async def test_checkout_opens_a_stripe_subscription_checkout_for_the_plan(
    client: httpx.AsyncClient, users: UserFactory, stripe_standin: StripeStandIn
) -> None:
    user = await users.create()
    url = (await start_checkout(client, user, "business"))["url"]
    assert url.startswith(f"{stripe_standin.base_url}/c/pay/cs_test_")

    [customer_call] = stripe_standin.calls("/v1/customers")
    assert customer_call.params == {"email": user.email, "metadata": {"account_id": str(user.id)}}
    assert customer_call.idempotency_key == f"customer-{user.id}"
    [checkout_call] = stripe_standin.calls("/v1/checkout/sessions")
    params = checkout_call.params
    assert params["mode"] == "subscription"
    assert params["line_items"] == [{"price": PRICE_BUSINESS, "quantity": "1"}]
    assert params["client_reference_id"] == str(user.id)
    assert params["subscription_data"] == {"metadata": {"account_id": str(user.id)}}
    assert "checkout=success" in params["success_url"]
    assert "checkout=canceled" in params["cancel_url"]
    assert checkout_call.idempotency_key is not None
    assert checkout_call.idempotency_key.startswith(f"checkout-{user.id}-business-")


async def test_checkouts_share_one_customer_and_an_idempotency_key_returns_the_same_page(
    client: httpx.AsyncClient, users: UserFactory, stripe_standin: StripeStandIn
) -> None:
    user = await users.create()
    first = await start_checkout(client, user, "pro")
    second = await start_checkout(client, user, "pro")
    assert first["url"] != second["url"]
    assert len(stripe_standin.calls("/v1/customers")) == 1

    retry = {**user.headers, "Idempotency-Key": "order-42"}
    once = await client.post("/api/billing/checkout", json={"plan": "pro"}, headers=retry)
    twice = await client.post("/api/billing/checkout", json={"plan": "pro"}, headers=retry)
    assert once.status_code == twice.status_code == 200
    assert once.json()["url"] == twice.json()["url"]
    assert len(stripe_standin.checkout_sessions) == 3

    too_long = {**user.headers, "Idempotency-Key": "k" * 191}
    refused = await client.post("/api/billing/checkout", json={"plan": "pro"}, headers=too_long)
    assert refused.status_code == 422


async def test_an_idempotency_key_stripe_could_not_be_sent_is_a_422_not_a_503(
    client: httpx.AsyncClient, users: UserFactory, stripe_standin: StripeStandIn
) -> None:
    """A key outside visible ASCII cannot travel in Stripe's header: the caller's mistake."""
    user = await users.create()
    for key in ("café".encode("latin-1"), b"with space", b"tab\there"):
        headers = {**user.headers, "Idempotency-Key": key}
        response = await client.post("/api/billing/checkout", json={"plan": "pro"}, headers=headers)
        assert response.status_code == 422, (key, response.text)
    assert stripe_standin.checkout_sessions == {}


async def test_checkout_sells_only_paid_plans(
    client: httpx.AsyncClient, users: UserFactory, stripe_standin: StripeStandIn
) -> None:
    user = await users.create()
    for body in [{"plan": "free"}, {"plan": "enterprise"}, {}, {"plan": 1}]:
        response = await client.post("/api/billing/checkout", json=body, headers=user.headers)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == PROBLEM
        assert [e["field"] for e in response.json()["errors"]] == ["plan"], body
    assert stripe_standin.requests == []


async def test_billing_needs_a_caller(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("POST", "/api/billing/checkout"),
        ("POST", "/api/billing/portal"),
        ("GET", "/api/billing/subscription"),
    ]:
        response = await client.request(method, path, json={"plan": "pro"})
        assert response.status_code == 401, path
        assert response.json()["code"] == "unauthenticated"


async def test_a_subscriber_is_sent_to_the_portal_not_to_a_second_checkout(
    client: httpx.AsyncClient,
    users: UserFactory,
    stripe_standin: StripeStandIn,
    webhooks: WebhookSender,
) -> None:
    user = await users.create()
    before = await client.post("/api/billing/portal", headers=user.headers)
    assert before.status_code == 409
    assert before.json()["code"] == "no_billing_account"

    _, subscription = await subscribe(client, user, stripe_standin, webhooks, "pro")
    again = await client.post(
        "/api/billing/checkout", json={"plan": "business"}, headers=user.headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "subscription_exists"

    portal = await client.post("/api/billing/portal", headers=user.headers)
    assert portal.status_code == 200
    assert portal.json()["url"].startswith(f"{stripe_standin.base_url}/p/session/bps_")
    [portal_call] = stripe_standin.calls("/v1/billing_portal/sessions")
    assert portal_call.params["customer"] == subscription["customer"]
    assert portal_call.idempotency_key is not None

    view = (await client.get("/api/billing/subscription", headers=user.headers)).json()
    assert view == {
        "plan": "pro",
        "subscribed_plan": "pro",
        "status": "active",
        "current_period_end": view["current_period_end"],
        "cancel_at_period_end": False,
    }
    assert view["current_period_end"] is not None


async def test_an_account_that_never_subscribed_has_no_subscription(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.create()
    view = await client.get("/api/billing/subscription", headers=user.headers)
    assert view.status_code == 200
    assert view.json() == {
        "plan": "free",
        "subscribed_plan": None,
        "status": None,
        "current_period_end": None,
        "cancel_at_period_end": False,
    }


async def test_stripe_failing_or_refusing_is_a_problem_document_not_a_500(
    client: httpx.AsyncClient, users: UserFactory, stripe_standin: StripeStandIn
) -> None:
    user = await users.create()
    stripe_standin.failure_status = 500
    down = await client.post("/api/billing/checkout", json={"plan": "pro"}, headers=user.headers)
    assert down.status_code == 503
    assert down.headers["content-type"] == PROBLEM
    assert down.json()["code"] == "payment_provider_unavailable"

    stripe_standin.failure_status = None
    stripe_standin.prices = frozenset({PRICE_PRO})  # the business price was deleted on Stripe
    refused = await client.post(
        "/api/billing/checkout", json={"plan": "business"}, headers=user.headers
    )
    assert refused.status_code == 502
    assert refused.json()["code"] == "payment_provider_error"

    stripe_standin.stop()
    gone = await client.post("/api/billing/checkout", json={"plan": "pro"}, headers=user.headers)
    assert gone.status_code == 503
    assert gone.json()["code"] == "payment_provider_unavailable"


async def test_without_a_stripe_key_billing_says_so_and_never_calls_stripe(
    settings: Settings, users: UserFactory, stripe_standin: StripeStandIn
) -> None:
    user = await users.create()
    unconfigured = settings.model_copy(update={"stripe_secret_key": DEV_STRIPE_SECRET_KEY})
    async with replica(unconfigured) as http:
        response = await http.post(
            "/api/billing/checkout", json={"plan": "pro"}, headers=user.headers
        )
    assert response.status_code == 503
    assert response.json()["code"] == "billing_not_configured"
    assert stripe_standin.requests == []
