"""Row ids are UUIDv7 that sort in the order they were made, even within one millisecond."""

from __future__ import annotations

import itertools
import time
import uuid

from app.domain.ids import new_id


def test_ids_are_version_7_with_the_rfc_variant_and_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after + 1  # +1: a same-millisecond successor may carry


def test_ids_made_one_after_another_sort_in_that_order() -> None:
    """Thousands in a tight loop share milliseconds; each still sorts after the one before
    (the outbox relays one FIFO group's messages in id order)."""
    made = [new_id() for _ in range(20_000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in made)
    shared_millisecond = sum(1 for a, b in itertools.pairwise(made) if a.int >> 80 == b.int >> 80)
    assert shared_millisecond > 0  # the loop did exercise ids within one millisecond
