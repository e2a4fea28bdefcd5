"""`make run` bills without a Stripe account: its Stripe stand-in serves Checkout and the
billing portal as pages, and each customer action there reaches the app as a signed webhook."""

from __future__ import annotations

import httpx

from tests.support.local_stack import LocalStack

PASSWORD = "local billing password"


def _plan(api: httpx.Client) -> str:
    plan: str = api.get("/api/me").json()["plan"]
    return plan


def test_checkout_pay_and_the_portal_change_the_plan_locally(local_stack: LocalStack) -> None:
    with httpx.Client(base_url=local_stack.api_url, timeout=30) as api:
        email = "local-billing@example.com"
        account = {"email": email, "password": PASSWORD}
        assert api.post("/api/auth/register", json=account).is_success
        tokens = api.post("/api/auth/login", json=account).json()
        api.headers["Authorization"] = f"Bearer {tokens['access_token']}"

        checkout_url = api.post("/api/billing/checkout", json={"plan": "pro"}).json()["url"]
        page = httpx.get(checkout_url)
        assert page.status_code == 200
        assert "Subscribe to Pro" in page.text
        assert email in page.text
        paid = httpx.post(checkout_url)
        assert paid.status_code == 303
        assert paid.headers["location"] == f"{local_stack.api_url}/#/plan?checkout=success"
        assert _plan(api) == "pro"
        # Paid once: the page says so, and paying again changes nothing.
        assert "Already paid" in httpx.get(checkout_url).text

        portal_url = api.post("/api/billing/portal").json()["url"]
        assert "Current plan: <strong>Pro</strong>" in httpx.get(portal_url).text
        switched = httpx.post(portal_url, data={"price": "price_dev_business"})
        assert switched.status_code == 303
        assert _plan(api) == "business"
        assert httpx.post(portal_url, data={"action": "cancel"}).status_code == 303
        assert _plan(api) == "free"
        assert "No active subscription" in httpx.get(portal_url).text
        assert api.get("/api/billing/subscription").json()["status"] == "canceled"
