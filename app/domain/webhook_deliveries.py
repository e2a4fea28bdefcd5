"""What happens to a webhook delivery after each attempt: outcomes, the retry schedule, states."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# Re-exported: the contract owns them.
from contracts.webhooks import DeliveryStatus as DeliveryStatus
from contracts.webhooks import NextStep as NextStep

# SQS refuses a visibility timeout above 12 hours, so no retry step may be longer.
SQS_MAX_VISIBILITY_SECONDS = 12 * 3600
# After the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h six times;
# twelve attempts over about 2.8 days.
DEFAULT_RETRY_SCHEDULE_SECONDS: tuple[int, ...] = (5, 300, 1800, 7200, 18000, *([36000] * 6))
# Each wait is spread ±20% so a receiver that was down is not hit by every retry at once.
JITTER_FRACTION = 0.2

_system_random = secrets.SystemRandom()


class AttemptOutcome(StrEnum):
    SUCCESS = "success"
    HTTP_ERROR = "http_error"
    GONE = "gone"  # 410: the receiver asks us to stop
    NETWORK_ERROR = "network_error"
    REFUSED = "refused"  # the SSRF guard refused the target; nothing was sent


@dataclass(frozen=True)
class Decision:
    next: NextStep
    retry_after_seconds: int | None = None
    # True only when the schedule ran out: the message then goes to the dead-letter queue.
    retries_exhausted: bool = False


def classify_attempt(status_code: int | None, refused_reason: str | None) -> AttemptOutcome:
    if refused_reason is not None:
        return AttemptOutcome.REFUSED
    if status_code is None:
        return AttemptOutcome.NETWORK_ERROR
    if 200 <= status_code < 300:
        return AttemptOutcome.SUCCESS
    if status_code == 410:
        return AttemptOutcome.GONE
    return AttemptOutcome.HTTP_ERROR


def jittered_delay(step_seconds: int, rng: random.Random = _system_random) -> int:
    """A whole number of seconds near `step_seconds`, never past the SQS visibility limit."""
    if step_seconds <= 0:
        return 0
    low = step_seconds * (1 - JITTER_FRACTION)
    high = min(step_seconds * (1 + JITTER_FRACTION), SQS_MAX_VISIBILITY_SECONDS)
    return min(max(1, round(rng.uniform(low, high))), SQS_MAX_VISIBILITY_SECONDS)


def decide(
    attempt_number: int,
    outcome: AttemptOutcome,
    schedule: Sequence[int],
    rng: random.Random = _system_random,
) -> Decision:
    """The step after attempt `attempt_number` (1-based) ended with `outcome`."""
    if outcome is AttemptOutcome.SUCCESS:
        return Decision(NextStep.DELIVERED)
    if outcome is AttemptOutcome.GONE:
        return Decision(NextStep.ENDPOINT_DISABLED)
    if outcome is AttemptOutcome.REFUSED:
        # A refused address is a configuration problem, not a passing fault: retrying
        # would only refuse again.
        return Decision(NextStep.FAILED)
    retry_index = attempt_number - 1
    if retry_index < len(schedule):
        return Decision(
            NextStep.RETRY, retry_after_seconds=jittered_delay(schedule[retry_index], rng)
        )
    return Decision(NextStep.FAILED, retries_exhausted=True)


def max_attempts(schedule: Sequence[int]) -> int:
    return len(schedule) + 1
