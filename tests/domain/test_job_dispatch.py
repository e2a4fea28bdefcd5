"""The sweeper's rule for jobs that stay queued: wait, enqueue again, or give up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.job_dispatch import DispatchLimits, QueuedStep, queued_step, redispatch_dedup_id
from app.domain.job_states import JobStatus, must_change
from app.domain.jobs import FailureCode, is_retryable

LIMITS = DispatchLimits(timeout=timedelta(minutes=35), max_attempts=3)
ENQUEUED = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("waited", "attempts", "step"),
    [
        (timedelta(minutes=34, seconds=59), 0, QueuedStep.WAIT),
        (timedelta(minutes=35), 0, QueuedStep.REDISPATCH),
        (timedelta(minutes=35), 2, QueuedStep.REDISPATCH),
        (timedelta(minutes=35), 3, QueuedStep.FAIL),
        (timedelta(minutes=1), 3, QueuedStep.WAIT),
    ],
)
def test_a_queued_job_is_sent_again_after_each_timeout_then_failed(
    waited: timedelta, attempts: int, step: QueuedStep
) -> None:
    assert (
        queued_step(enqueued_at=ENQUEUED, attempts=attempts, limits=LIMITS, now=ENQUEUED + waited)
        is step
    )


def test_no_attempts_allowed_fails_at_the_first_timeout() -> None:
    limits = DispatchLimits(timeout=timedelta(seconds=30), max_attempts=0)
    later = ENQUEUED + timedelta(seconds=30)
    assert (
        queued_step(enqueued_at=ENQUEUED, attempts=0, limits=limits, now=later) is QueuedStep.FAIL
    )


def test_each_attempt_has_its_own_deduplication_id_and_failing_is_legal_and_retryable() -> None:
    job_id = uuid.uuid4()
    ids = {redispatch_dedup_id(job_id, requeues, a) for requeues in (0, 1) for a in (1, 2, 3)}
    assert len(ids) == 6
    assert str(job_id) not in ids
    assert all(len(i) <= 128 for i in ids)  # the FIFO limit
    assert must_change(JobStatus.QUEUED, JobStatus.FAILED)
    assert is_retryable(FailureCode.DISPATCH_FAILED)
