"""The job state machine: one transition table, one decision function.

    (created) -> pending_upload -> queued -> submitted -> running -> succeeded | failed
    canceled from any state that is not final; expired for uploads never confirmed;
    queued -> failed when every dispatch attempt failed (dispatch_failed).

Repeating a transition already made is a no-op success; anything else outside the table is
refused with `invalid_transition`. A final state never changes.
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.errors import InvalidTransition
from contracts.jobs import JobStatus as JobStatus  # re-exported: the contract owns it


class Actor(StrEnum):
    """Who asked for a transition; recorded on each job event."""

    CUSTOMER = "customer"
    DISPATCHER = "dispatcher"
    CONTAINER = "container"
    OPERATOR = "operator"
    SWEEPER = "sweeper"


# Every job begins here, waiting for its upload.
INITIAL_STATUS = JobStatus.PENDING_UPLOAD

FINAL_STATES = frozenset(
    {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.EXPIRED}
)
# Confirmed and not finished: what a plan's concurrency limit counts.
ACTIVE_STATES = frozenset({JobStatus.QUEUED, JobStatus.SUBMITTED, JobStatus.RUNNING})

TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING_UPLOAD: frozenset({JobStatus.QUEUED, JobStatus.CANCELED, JobStatus.EXPIRED}),
    # `failed`: the sweeper gives up on a job no dispatch attempt got to Batch.
    JobStatus.QUEUED: frozenset({JobStatus.SUBMITTED, JobStatus.FAILED, JobStatus.CANCELED}),
    # A container may fail before it reports a start; `queued` is the operator's requeue of a
    # job whose Batch job was lost.
    JobStatus.SUBMITTED: frozenset(
        {JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.QUEUED}
    ),
    JobStatus.RUNNING: frozenset(
        {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.QUEUED}
    ),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
    JobStatus.EXPIRED: frozenset(),
}


def is_final(status: JobStatus) -> bool:
    return status in FINAL_STATES


def must_change(current: JobStatus, target: JobStatus) -> bool:
    """True when `current -> target` is a transition to make, False when it is already made.

    Raises `InvalidTransition` (carrying the current status) for anything the table forbids.
    """
    if current == target:
        return False
    if target in TRANSITIONS[current]:
        return True
    raise InvalidTransition(
        f"A job that is {current.value} cannot become {target.value}.",
        job_status=current.value,
        requested_status=target.value,
    )
