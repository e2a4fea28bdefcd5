"""Stripe subscriptions as the service sees them: which plan one grants, and which news is newer.

Pure: parses the JSON Stripe sends (webhook events, API responses) into snapshots, and decides
without I/O whether a snapshot may replace the state already stored. Stripe delivers events at
least once and in no particular order, so every decision here compares the subscription's own
timestamps instead of trusting arrival order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app.domain.plans import PLANS, PlanName

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SubscriptionStatus(StrEnum):
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


# past_due keeps the plan while Stripe retries the payment (the grace period); when the
# retries are spent Stripe moves the subscription to unpaid or canceled and the plan goes.
ENTITLED_STATUSES = frozenset(
    {SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE}
)
# Stripe never revives these: no later snapshot of the same subscription can undo them.
TERMINAL_STATUSES = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})


class MalformedStripeObject(ValueError):
    """A signed payload whose shape we do not understand."""


@dataclass(frozen=True, slots=True)
class StripeEventEnvelope:
    id: str
    type: str
    created_at: datetime
    object: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SubscriptionSnapshot:
    """One subscription as Stripe described it at `as_of` (the event's creation time)."""

    id: str
    customer_id: str
    status: str
    price_ids: tuple[str, ...]
    created_at: datetime
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    as_of: datetime
    account_reference: str | None = None

    @property
    def entitled(self) -> bool:
        return self.status in ENTITLED_STATUSES

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True, slots=True)
class CheckoutCompletion:
    session_id: str
    mode: str
    customer_id: str | None
    subscription_id: str | None
    account_reference: str | None


def plan_granted(
    snapshot: SubscriptionSnapshot | None, plans_by_price: Mapping[str, PlanName]
) -> PlanName:
    """The plan a subscription pays for; anything not in good standing is the free plan."""
    if snapshot is None or not snapshot.entitled:
        return PlanName.FREE
    paid = [plans_by_price[price] for price in snapshot.price_ids if price in plans_by_price]
    return max(paid, key=lambda name: PLANS[name].rank, default=PlanName.FREE)


def _recency(snapshot: SubscriptionSnapshot) -> tuple[bool, datetime, datetime]:
    # An ended subscription outranks any live picture of it; a later period outranks an
    # earlier one; within a period, the later observation wins.
    return (snapshot.terminal, snapshot.current_period_start or EPOCH, snapshot.as_of)


def supersedes(current: SubscriptionSnapshot | None, incoming: SubscriptionSnapshot) -> bool:
    """Whether `incoming` may replace `current` as the account's subscription state."""
    if current is None:
        return True
    if incoming.id == current.id:
        if current.terminal and not incoming.terminal:
            return False
        return _recency(incoming) >= _recency(current)
    # Another subscription of the same customer: an old one ending, or a new one starting.
    if current.entitled and not incoming.entitled:
        return False
    return (incoming.created_at, incoming.as_of) >= (current.created_at, current.as_of)


# --- parsing -------------------------------------------------------------------------------


def _require(obj: Mapping[str, Any], key: str, kind: type) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedStripeObject(f"`{key}` is missing or not a {kind.__name__}")
    return value


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedStripeObject(f"expected a Unix timestamp, got {value!r}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedStripeObject(f"timestamp out of range: {value!r}") from exc


def _required_timestamp(obj: Mapping[str, Any], key: str) -> datetime:
    value = _timestamp(_require(obj, key, int))
    assert value is not None  # _require refused None already
    return value


def _id_of(value: Any) -> str | None:
    """Stripe's expandable fields are an id, or the object itself when expanded."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    raise MalformedStripeObject(f"expected an id or an object with one, got {value!r}")


def _metadata_account(obj: Mapping[str, Any]) -> str | None:
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("account_id"), str):
        return str(metadata["account_id"])
    return None


def _items(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = obj.get("items")
    data = items.get("data") if isinstance(items, Mapping) else None
    if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
        raise MalformedStripeObject("`items.data` is missing or not a list of objects")
    return data


def _first(values: Iterable[datetime | None]) -> datetime | None:
    return next((v for v in values if v is not None), None)


def parse_event(payload: Any) -> StripeEventEnvelope:
    if not isinstance(payload, Mapping) or payload.get("object") != "event":
        raise MalformedStripeObject("not a Stripe event")
    data = _require(payload, "data", Mapping)
    return StripeEventEnvelope(
        id=_require(payload, "id", str),
        type=_require(payload, "type", str),
        created_at=_required_timestamp(payload, "created"),
        object=_require(data, "object", Mapping),
    )


def parse_subscription(obj: Mapping[str, Any], as_of: datetime) -> SubscriptionSnapshot:
    if obj.get("object") != "subscription":
        raise MalformedStripeObject("not a subscription")
    items = _items(obj)
    price_ids = tuple(
        price_id for item in items if (price_id := _id_of(item.get("price"))) is not None
    )
    # Since API version 2025-03-31 the billing period lives on the items; before, on the
    # subscription. Read both, so an endpoint pinned to an older version works too.
    period_start = _first(
        [_timestamp(obj.get("current_period_start"))]
        + [_timestamp(item.get("current_period_start")) for item in items]
    )
    period_end = _first(
        [_timestamp(obj.get("current_period_end"))]
        + [_timestamp(item.get("current_period_end")) for item in items]
    )
    customer_id = _id_of(obj.get("customer"))
    if customer_id is None:
        raise MalformedStripeObject("a subscription needs a customer")
    return SubscriptionSnapshot(
        id=_require(obj, "id", str),
        customer_id=customer_id,
        status=_require(obj, "status", str),
        price_ids=price_ids,
        created_at=_required_timestamp(obj, "created"),
        current_period_start=period_start,
        current_period_end=period_end,
        cancel_at_period_end=bool(obj.get("cancel_at_period_end", False)),
        as_of=as_of,
        account_reference=_metadata_account(obj),
    )


def parse_checkout_session(obj: Mapping[str, Any]) -> CheckoutCompletion:
    if obj.get("object") != "checkout.session":
        raise MalformedStripeObject("not a checkout session")
    reference = obj.get("client_reference_id")
    return CheckoutCompletion(
        session_id=_require(obj, "id", str),
        mode=_require(obj, "mode", str),
        customer_id=_id_of(obj.get("customer")),
        subscription_id=_id_of(obj.get("subscription")),
        account_reference=reference if isinstance(reference, str) else _metadata_account(obj),
    )


def invoice_subscription_id(obj: Mapping[str, Any]) -> str | None:
    """The subscription an invoice bills, if any (newer API: under `parent`)."""
    if obj.get("object") != "invoice":
        raise MalformedStripeObject("not an invoice")
    parent = obj.get("parent")
    if isinstance(parent, Mapping):
        details = parent.get("subscription_details")
        if isinstance(details, Mapping) and details.get("subscription") is not None:
            return _id_of(details["subscription"])
    return _id_of(obj.get("subscription"))


def invoice_customer_id(obj: Mapping[str, Any]) -> str | None:
    return _id_of(obj.get("customer"))
