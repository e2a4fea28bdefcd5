"""The client address behind trusted proxies, address buckets, and plan budgets."""

from __future__ import annotations

import pytest

from app.domain.plans import PLANS, PlanName
from app.domain.rate_limits import (
    UNKNOWN_CLIENT,
    address_bucket,
    client_address,
    plan_requests_per_minute,
)


@pytest.mark.parametrize(
    ("peer", "forwarded", "hops", "expected"),
    [
        ("10.0.0.5", [], 0, "10.0.0.5"),
        ("10.0.0.5", ["203.0.113.9"], 0, "10.0.0.5"),  # no proxy trusted: the header is noise
        ("10.0.0.5", ["203.0.113.9"], 1, "203.0.113.9"),
        ("10.0.0.5", ["6.6.6.6, 203.0.113.9"], 1, "203.0.113.9"),  # forged entries on the left
        ("10.0.0.5", ["6.6.6.6, 203.0.113.9, 10.0.0.9"], 2, "203.0.113.9"),
        ("10.0.0.5", ["6.6.6.6", "203.0.113.9"], 1, "203.0.113.9"),  # repeated headers join
        ("10.0.0.5", ["203.0.113.9"], 2, "10.0.0.5"),  # fewer hops than trusted: trust none
        ("10.0.0.5", [" , "], 1, "10.0.0.5"),
        ("10.0.0.5", ["not-an-address"], 1, "10.0.0.5"),
        ("10.0.0.5", ["203.0.113.9:51234"], 1, "203.0.113.9"),
        ("10.0.0.5", ["[2001:db8::7]:443"], 1, "2001:db8::7"),
        ("::ffff:198.51.100.4", [], 0, "198.51.100.4"),
        (None, [], 0, UNKNOWN_CLIENT),
        ("testclient", [], 0, UNKNOWN_CLIENT),
    ],
)
def test_the_client_is_the_entry_the_nearest_trusted_proxy_wrote(
    peer: str | None, forwarded: list[str], hops: int, expected: str
) -> None:
    assert client_address(peer, forwarded, hops) == expected


def test_ipv6_clients_share_their_64_and_ipv4_clients_are_counted_alone() -> None:
    assert address_bucket("2001:db8:1:2:aaaa::1") == address_bucket("2001:db8:1:2:bbbb::2")
    assert address_bucket("2001:db8:1:2::1") != address_bucket("2001:db8:1:3::1")
    assert address_bucket("203.0.113.9") == "203.0.113.9"
    assert address_bucket(UNKNOWN_CLIENT) == UNKNOWN_CLIENT


def test_plan_budgets_scale_and_never_reach_zero() -> None:
    free = PLANS[PlanName.FREE]
    assert plan_requests_per_minute(free, 1.0) == free.requests_per_minute
    assert plan_requests_per_minute(free, 0.05) == 3
    assert plan_requests_per_minute(free, 1e-9) == 1
    budgets = [
        plan_requests_per_minute(p, 1.0) for p in sorted(PLANS.values(), key=lambda p: p.rank)
    ]
    assert budgets == sorted(budgets)
