from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.email_throttle import WINDOW, SendThrottle

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
THROTTLE = SendThrottle(cooldown=timedelta(seconds=60), max_per_window=3)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def test_nothing_sent_before_means_send_now() -> None:
    assert THROTTLE.retry_after([], NOW) is None


def test_within_the_cooldown_waits_for_its_end() -> None:
    assert THROTTLE.retry_after([ago(15)], NOW) == 45
    assert THROTTLE.retry_after([ago(60)], NOW) is None


def test_a_full_hour_waits_for_the_oldest_send_to_age_out() -> None:
    sends = [ago(3000), ago(2000), ago(1000)]
    assert THROTTLE.retry_after(sends, NOW) == 600
    assert THROTTLE.retry_after([ago(3601), *sends[1:]], NOW) is None


def test_the_longer_of_both_waits_wins_and_is_at_least_a_second() -> None:
    assert THROTTLE.retry_after([ago(3599.5), ago(100), ago(10)], NOW) == 50
    assert THROTTLE.retry_after([ago(59.9)], NOW) == 1


@given(st.lists(st.floats(min_value=0, max_value=2 * WINDOW.total_seconds()), max_size=8))
def test_waiting_as_told_is_always_enough(offsets: list[float]) -> None:
    sends = [ago(o) for o in offsets]
    wait = THROTTLE.retry_after(sends, NOW)
    if wait is not None:
        assert wait >= 1
        assert THROTTLE.retry_after(sends, NOW + timedelta(seconds=wait)) is None
