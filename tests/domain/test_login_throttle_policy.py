"""The wait after failed sign-ins: nothing for the first few, then doubling, then capped."""

from __future__ import annotations

from app.domain.login_throttle import delay_after_failures


def test_the_wait_doubles_after_the_free_failures_and_stops_at_the_cap() -> None:
    waits = [delay_after_failures(n, free_failures=5, cap_seconds=300) for n in range(0, 16)]
    assert waits == [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert delay_after_failures(10_000, free_failures=5, cap_seconds=300) == 300
