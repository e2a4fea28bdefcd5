"""Identifiers: UUIDv7 keys, so new rows land at the end of their indexes and sort by time."""

from __future__ import annotations

import os
import threading
import time
import uuid

_RANDOM_BITS = 74  # 12 bits of rand_a, 62 of rand_b
_RANDOM_MASK = (1 << _RANDOM_BITS) - 1

_lock = threading.Lock()
_last = 0  # the previous id's 48-bit milliseconds and 74 random bits, as one number


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then 74 random bits.

    Monotonic within the process (RFC 9562 section 6.2): an id made in the same millisecond
    as the previous one (or after the clock stepped back) is the previous one plus one, so
    rows written one after another sort in that order — the outbox relays a FIFO group's
    messages by (available_at, id), and one transaction can write several at the same instant.
    """
    global _last
    candidate = (time.time_ns() // 1_000_000) << _RANDOM_BITS | int.from_bytes(
        os.urandom(10), "big"
    ) & _RANDOM_MASK
    with _lock:
        if candidate <= _last:
            candidate = _last + 1
        _last = candidate
    millis, random = candidate >> _RANDOM_BITS, candidate & _RANDOM_MASK
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (random >> 62) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= random & ((1 << 62) - 1)  # rand_b
    return uuid.UUID(int=value)
