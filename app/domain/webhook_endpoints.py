"""Rules about webhook endpoints that hold whatever the storage."""

from __future__ import annotations

from enum import StrEnum

# Each event fans out to every subscribed endpoint; a cap keeps one account's fan-out bounded.
MAX_ENDPOINTS_PER_ACCOUNT = 20


class DisabledReason(StrEnum):
    MANUAL = "manual"
    GONE = "gone"  # the receiver answered 410 Gone
    CONSECUTIVE_FAILURES = "consecutive_failures"


def should_auto_disable(consecutive_failures: int, threshold: int) -> bool:
    """An endpoint whose last `threshold` finished deliveries all failed is switched off."""
    return consecutive_failures >= threshold
