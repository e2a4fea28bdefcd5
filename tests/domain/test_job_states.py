"""The job state machine's table, checked as a whole."""

from __future__ import annotations

import itertools

import pytest

from app.api.errors import status_of
from app.domain.errors import InvalidTransition
from app.domain.job_states import (
    ACTIVE_STATES,
    FINAL_STATES,
    TRANSITIONS,
    JobStatus,
    must_change,
)

HAPPY_PATH = [
    JobStatus.PENDING_UPLOAD,
    JobStatus.QUEUED,
    JobStatus.SUBMITTED,
    JobStatus.RUNNING,
    JobStatus.SUCCEEDED,
]


def test_the_happy_path_is_a_chain_of_allowed_steps() -> None:
    for current, target in itertools.pairwise(HAPPY_PATH):
        assert must_change(current, target)
    assert must_change(JobStatus.RUNNING, JobStatus.FAILED)
    assert must_change(JobStatus.PENDING_UPLOAD, JobStatus.EXPIRED)


def test_every_state_that_is_not_final_can_be_canceled_and_finals_never_change() -> None:
    for status in JobStatus:
        if status in FINAL_STATES:
            assert TRANSITIONS[status] == frozenset()
        else:
            assert JobStatus.CANCELED in TRANSITIONS[status]
    assert set(TRANSITIONS) == set(JobStatus)
    assert ACTIVE_STATES.isdisjoint(FINAL_STATES)


@pytest.mark.parametrize("status", list(JobStatus))
def test_repeating_a_transition_already_made_is_a_no_op(status: JobStatus) -> None:
    assert must_change(status, status) is False


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (JobStatus.PENDING_UPLOAD, JobStatus.RUNNING),
        (JobStatus.QUEUED, JobStatus.SUCCEEDED),
        (JobStatus.SUCCEEDED, JobStatus.FAILED),
        (JobStatus.CANCELED, JobStatus.QUEUED),
        (JobStatus.EXPIRED, JobStatus.QUEUED),
        (JobStatus.FAILED, JobStatus.CANCELED),
    ],
)
def test_illegal_transitions_name_the_current_status(current: JobStatus, target: JobStatus) -> None:
    with pytest.raises(InvalidTransition) as refused:
        must_change(current, target)
    assert status_of(refused.value) == 409
    assert refused.value.extra["job_status"] == current.value
