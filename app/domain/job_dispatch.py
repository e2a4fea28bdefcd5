"""What becomes of a job that stays `queued`: pure rules the sweeper applies.

A queued job's message is with the dispatcher (or on its way through the outbox). When
nothing has taken the job to Batch for `timeout` after its latest message was enqueued
(the dispatcher failed it into the dead-letter queue, or the queue lost it), the sweeper
enqueues it again, up to `max_attempts` times; then it fails the job as `dispatch_failed`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class QueuedStep(StrEnum):
    WAIT = "wait"
    REDISPATCH = "redispatch"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class DispatchLimits:
    timeout: timedelta
    max_attempts: int


def queued_step(
    *, enqueued_at: datetime, attempts: int, limits: DispatchLimits, now: datetime
) -> QueuedStep:
    """The sweeper's move for a job queued since its message was enqueued at `enqueued_at`,
    after `attempts` re-enqueues of its own."""
    if now - enqueued_at < limits.timeout:
        return QueuedStep.WAIT
    return QueuedStep.REDISPATCH if attempts < limits.max_attempts else QueuedStep.FAIL


def redispatch_dedup_id(job_id: uuid.UUID, requeue_count: int, attempt: int) -> str:
    """A FIFO deduplication id of its own per attempt: SQS drops a message whose id it saw in
    the last five minutes, and the job id went with the first message."""
    return f"{job_id}:redispatch:{requeue_count}:{attempt}"
