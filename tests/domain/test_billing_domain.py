"""Which plan a subscription grants, which snapshot is newer, and reading Stripe's JSON."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.billing import (
    MalformedStripeObject,
    SubscriptionSnapshot,
    invoice_subscription_id,
    parse_checkout_session,
    parse_event,
    parse_subscription,
    plan_granted,
    supersedes,
)
from app.domain.plans import PlanName

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PRICES = {"price_pro": PlanName.PRO, "price_business": PlanName.BUSINESS}


def snapshot(**changes: Any) -> SubscriptionSnapshot:
    base = SubscriptionSnapshot(
        id="sub_1",
        customer_id="cus_1",
        status="active",
        price_ids=("price_pro",),
        created_at=T0,
        current_period_start=T0,
        current_period_end=T0 + timedelta(days=30),
        cancel_at_period_end=False,
        as_of=T0,
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("status", "plan"),
    [
        ("active", PlanName.PRO),
        ("trialing", PlanName.PRO),
        ("past_due", PlanName.PRO),  # Stripe is still retrying the card
        ("unpaid", PlanName.FREE),
        ("canceled", PlanName.FREE),
        ("incomplete", PlanName.FREE),  # the first payment has not gone through
        ("incomplete_expired", PlanName.FREE),
        ("paused", PlanName.FREE),
        ("a_status_stripe_adds_later", PlanName.FREE),
    ],
)
def test_only_a_subscription_in_good_standing_grants_its_plan(status: str, plan: PlanName) -> None:
    assert plan_granted(snapshot(status=status), PRICES) is plan


def test_the_best_known_price_decides_and_unknown_prices_grant_nothing() -> None:
    assert plan_granted(snapshot(price_ids=("price_pro", "price_business")), PRICES) is (
        PlanName.BUSINESS
    )
    assert plan_granted(snapshot(price_ids=("price_someone_elses",)), PRICES) is PlanName.FREE
    assert plan_granted(None, PRICES) is PlanName.FREE


def test_for_one_subscription_the_later_picture_wins() -> None:
    current = snapshot(as_of=T0 + timedelta(minutes=5))
    assert supersedes(None, current)
    assert supersedes(current, replace(current, as_of=T0 + timedelta(minutes=6)))
    assert supersedes(current, current)  # the same news again changes nothing
    assert not supersedes(current, replace(current, as_of=T0 + timedelta(minutes=4)))


def test_a_new_period_outranks_an_older_period_observed_later() -> None:
    renewed = snapshot(current_period_start=T0 + timedelta(days=30), as_of=T0 + timedelta(days=30))
    stale = snapshot(status="past_due", as_of=T0 + timedelta(days=31))
    assert not supersedes(renewed, stale)


def test_an_ended_subscription_is_never_revived() -> None:
    ended = snapshot(status="canceled", as_of=T0 + timedelta(days=1))
    assert not supersedes(ended, snapshot(as_of=T0 + timedelta(days=2)))
    assert supersedes(snapshot(as_of=T0 + timedelta(days=2)), ended)  # ending beats recency


def test_between_two_subscriptions_the_newer_wins_unless_it_would_drop_a_paid_one() -> None:
    old = snapshot(id="sub_old", status="canceled", created_at=T0)
    new = snapshot(id="sub_new", created_at=T0 + timedelta(days=40), as_of=T0 + timedelta(days=40))
    assert supersedes(old, new)
    assert not supersedes(new, old)  # the old one's end arrives late
    unfinished = snapshot(id="sub_newer", status="incomplete", created_at=T0 + timedelta(days=41))
    assert not supersedes(new, unfinished)


def subscription_json(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "status": "active",
        "created": 1_767_225_600,
        "cancel_at_period_end": True,
        "metadata": {"account_id": "acc"},
        "items": {
            "object": "list",
            "data": [
                {
                    "price": {"id": "price_pro", "object": "price"},
                    "current_period_start": 1_767_225_600,
                    "current_period_end": 1_769_904_000,
                }
            ],
        },
    }
    return {**base, **changes}


def test_a_subscription_is_read_in_the_current_and_the_older_api_shape() -> None:
    current = parse_subscription(subscription_json(), as_of=T0)
    assert current.price_ids == ("price_pro",)
    assert current.current_period_end == datetime(2026, 2, 1, tzinfo=UTC)
    assert current.cancel_at_period_end is True
    assert current.account_reference == "acc"

    older = subscription_json(
        customer={"id": "cus_1", "object": "customer"},  # expanded
        current_period_start=1_767_225_600,
        current_period_end=1_769_904_000,
        items={"object": "list", "data": [{"price": "price_pro"}]},
    )
    parsed = parse_subscription(older, as_of=T0)
    assert parsed.customer_id == "cus_1"
    assert parsed.price_ids == ("price_pro",)
    assert parsed.current_period_end == current.current_period_end


@pytest.mark.parametrize(
    "broken",
    [
        {"object": "customer"},
        {"items": None},
        {"items": {"data": ["not an object"]}},
        {"created": "yesterday"},
        {"created": True},
        {"created": 10**20},
        {"customer": None},
        {"customer": 42},
        {"status": None},
    ],
)
def test_a_subscription_we_cannot_read_is_refused_not_guessed(broken: dict[str, Any]) -> None:
    with pytest.raises(MalformedStripeObject):
        parse_subscription(subscription_json(**broken), as_of=T0)


def test_events_checkout_sessions_and_invoices_are_read() -> None:
    event = parse_event(
        {"id": "evt_1", "object": "event", "type": "x.y", "created": 0, "data": {"object": {}}}
    )
    assert (event.id, event.type, event.created_at) == (
        "evt_1",
        "x.y",
        datetime(1970, 1, 1, tzinfo=UTC),
    )
    not_events: list[object] = [[], {"object": "event"}, {"object": "event", "id": 1}]
    for not_an_event in not_events:
        with pytest.raises(MalformedStripeObject):
            parse_event(not_an_event)

    completion = parse_checkout_session(
        {
            "id": "cs_1",
            "object": "checkout.session",
            "mode": "subscription",
            "customer": "cus_1",
            "subscription": "sub_1",
            "metadata": {"account_id": "acc"},
        }
    )
    assert (completion.subscription_id, completion.account_reference) == ("sub_1", "acc")

    newer = {
        "object": "invoice",
        "parent": {"subscription_details": {"subscription": "sub_1"}},
    }
    assert invoice_subscription_id(newer) == "sub_1"
    assert invoice_subscription_id({"object": "invoice", "subscription": "sub_2"}) == "sub_2"
    assert invoice_subscription_id({"object": "invoice", "parent": None}) is None
