"""The retry schedule and what each attempt's outcome leads to."""

from __future__ import annotations

import random

import pytest

from app.config import Settings
from app.domain.webhook_deliveries import (
    DEFAULT_RETRY_SCHEDULE_SECONDS,
    JITTER_FRACTION,
    SQS_MAX_VISIBILITY_SECONDS,
    AttemptOutcome,
    NextStep,
    classify_attempt,
    decide,
    jittered_delay,
    max_attempts,
)
from tests.support.production import production_settings


def test_the_production_schedule_spans_about_three_days_in_sqs_sized_steps() -> None:
    steps = DEFAULT_RETRY_SCHEDULE_SECONDS
    assert steps[:6] == (5, 300, 1800, 7200, 18000, 36000)
    assert all(0 < s <= SQS_MAX_VISIBILITY_SECONDS for s in steps)
    assert 2.5 * 86400 <= sum(steps) <= 3.5 * 86400
    assert max_attempts(steps) == len(steps) + 1
    assert Settings(_env_file=None).webhook_retry_schedule_seconds == list(steps)  # type: ignore[call-arg]


def test_jitter_stays_within_its_band_and_the_sqs_limit() -> None:
    rng = random.Random(7)
    for step in (1, 5, 300, 36000, SQS_MAX_VISIBILITY_SECONDS):
        delays = {jittered_delay(step, rng) for _ in range(200)}
        assert min(delays) >= max(1, round(step * (1 - JITTER_FRACTION)))
        assert max(delays) <= min(round(step * (1 + JITTER_FRACTION)), SQS_MAX_VISIBILITY_SECONDS)
        if step >= 300:
            assert len(delays) > 10  # it does spread
    assert jittered_delay(0) == 0


@pytest.mark.parametrize(
    ("status_code", "refused", "outcome"),
    [
        (200, None, AttemptOutcome.SUCCESS),
        (204, None, AttemptOutcome.SUCCESS),
        (299, None, AttemptOutcome.SUCCESS),
        (301, None, AttemptOutcome.HTTP_ERROR),
        (400, None, AttemptOutcome.HTTP_ERROR),
        (410, None, AttemptOutcome.GONE),
        (500, None, AttemptOutcome.HTTP_ERROR),
        (None, None, AttemptOutcome.NETWORK_ERROR),
        (None, "10.0.0.1 is a private address", AttemptOutcome.REFUSED),
    ],
)
def test_attempts_are_classified(
    status_code: int | None, refused: str | None, outcome: AttemptOutcome
) -> None:
    assert classify_attempt(status_code, refused) is outcome


def test_each_outcome_leads_to_its_next_step() -> None:
    schedule = [5, 300]
    rng = random.Random(1)
    assert decide(1, AttemptOutcome.SUCCESS, schedule).next is NextStep.DELIVERED
    assert decide(1, AttemptOutcome.GONE, schedule).next is NextStep.ENDPOINT_DISABLED
    refused = decide(1, AttemptOutcome.REFUSED, schedule)
    assert (refused.next, refused.retries_exhausted) == (NextStep.FAILED, False)
    first = decide(1, AttemptOutcome.HTTP_ERROR, schedule, rng)
    assert first.next is NextStep.RETRY
    assert 4 <= (first.retry_after_seconds or 0) <= 6
    second = decide(2, AttemptOutcome.NETWORK_ERROR, schedule, rng)
    assert 240 <= (second.retry_after_seconds or 0) <= 360
    last = decide(3, AttemptOutcome.HTTP_ERROR, schedule)
    assert (last.next, last.retries_exhausted, last.retry_after_seconds) == (
        NextStep.FAILED,
        True,
        None,
    )


def test_settings_refuse_steps_sqs_cannot_honour_and_private_targets_in_production() -> None:
    with pytest.raises(ValueError, match="retry step"):
        Settings(_env_file=None, webhook_retry_schedule_seconds=[5, 13 * 3600])  # type: ignore[call-arg]
    # Unset, the guard follows the environment: open for `make run`, closed in production.
    assert Settings(_env_file=None).webhook_allow_private_targets is True  # type: ignore[call-arg]
    guarded = production_settings()
    assert guarded.webhook_allow_private_targets is False
    with pytest.raises(ValueError, match="REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS"):
        production_settings(webhook_allow_private_targets=True)
