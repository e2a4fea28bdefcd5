"""When a job whose container went silent counts as lost: pure rules the sweeper applies.

A running container proves it is alive by its callbacks (start, then progress at least every
heartbeat interval, repeated when a stage is long). A job submitted to Batch that never
starts is given far longer: Batch queues can legitimately hold a job for hours. So is a
running job whose split render was handed from one Batch job to the next (the analysis to the
array's children, the children to the join): the next one may wait in the queue as long.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain.job_states import JobStatus

# docker-entrypoint.sh re-posts its latest progress this often (HEARTBEAT_INTERVAL_SECONDS).
CONTAINER_HEARTBEAT_INTERVAL_SECONDS = 30
# The timeout must outlast this many missed heartbeats, so one slow callback never kills a job.
MISSED_HEARTBEATS_TOLERATED = 3
# Set in a job's metrics by a split render's step that handed off to the next Batch job;
# cleared by the next report of a container that runs.
AWAITING_BATCH = "render_awaiting_batch"


def awaits_batch(metrics: Mapping[str, Any] | None) -> bool:
    return bool((metrics or {}).get(AWAITING_BATCH))


@dataclass(frozen=True, slots=True)
class LivenessLimits:
    running_timeout: timedelta
    submitted_timeout: timedelta

    @staticmethod
    def owes_heartbeats(status: JobStatus, *, awaiting_batch: bool = False) -> bool:
        """A container runs the job (rather than Batch holding its next step in a queue)."""
        return status is JobStatus.RUNNING and not awaiting_batch

    def silence_allowed(
        self, status: JobStatus, *, awaiting_batch: bool = False
    ) -> timedelta | None:
        """How long a job in `status` may go without a sign of life; None: for ever. A running
        container owes heartbeats; a Batch job waiting to start (submitted, or the next step
        of a split render) owes nothing until it starts."""
        if self.owes_heartbeats(status, awaiting_batch=awaiting_batch):
            return self.running_timeout
        if status in (JobStatus.RUNNING, JobStatus.SUBMITTED):
            return self.submitted_timeout
        return None

    def deadline(
        self, status: JobStatus, now: datetime, *, awaiting_batch: bool = False
    ) -> datetime | None:
        """Jobs in `status` whose last sign of life is before this are lost; None: never."""
        allowed = self.silence_allowed(status, awaiting_batch=awaiting_batch)
        return None if allowed is None else now - allowed


def last_sign_of_life(
    status: JobStatus,
    *,
    heartbeat_at: datetime | None,
    started_at: datetime | None,
    updated_at: datetime,
) -> datetime:
    """The latest moment the job's container (or Batch, before it starts) was known alive."""
    if status is JobStatus.RUNNING:
        return heartbeat_at or started_at or updated_at
    return updated_at


def is_lost(
    status: JobStatus,
    *,
    heartbeat_at: datetime | None,
    started_at: datetime | None,
    updated_at: datetime,
    limits: LivenessLimits,
    now: datetime,
    awaiting_batch: bool = False,
) -> bool:
    deadline = limits.deadline(status, now, awaiting_batch=awaiting_batch)
    if deadline is None:
        return False
    seen = last_sign_of_life(
        status, heartbeat_at=heartbeat_at, started_at=started_at, updated_at=updated_at
    )
    return seen < deadline
