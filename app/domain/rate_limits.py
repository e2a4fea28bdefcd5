"""Whose budget a request spends, and how large that budget is. Pure; no I/O.

The client address comes from `X-Forwarded-For` only as far as the operator trusts it: each
trusted proxy appends the address it saw, so with N trusted hops the client is the N-th entry
from the right. Anything left of that was written by the client and may be forged.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable

from app.domain.plans import Plan

UNKNOWN_CLIENT = "unknown"
# One IPv6 customer typically holds a whole /64: counting single addresses would let them
# rotate through 2**64 budgets.
IPV6_BUCKET_PREFIX = 64


def _parse_address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value:
        return None
    text = value.strip()
    if text.startswith("["):  # "[2001:db8::1]:443"
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted_hops: int) -> str:
    """The address of the client, as a string; `unknown` when nothing usable was given."""
    if trusted_hops > 0:
        hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
        hops = [hop for hop in hops if hop]
        # Fewer entries than trusted proxies: the request did not come through them all,
        # so none of the header can be trusted.
        if len(hops) >= trusted_hops:
            forwarded = _parse_address(hops[-trusted_hops])
            if forwarded is not None:
                return str(forwarded)
    address = _parse_address(peer)
    return str(address) if address is not None else UNKNOWN_CLIENT


def address_bucket(address: str) -> str:
    """The rate-limit key for an address: the address itself, or its /64 for IPv6."""
    parsed = _parse_address(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((parsed, IPV6_BUCKET_PREFIX), strict=False)
        return str(network)
    return str(parsed)


def plan_requests_per_minute(plan: Plan, scale: float) -> int:
    """The plan's budget, scaled by the operator's setting; never below one request."""
    return max(1, math.ceil(plan.requests_per_minute * scale))
