"""The job state machine under any sequence of attempted transitions: only the table's
steps happen, repeats are harmless, final states never change."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from app.api.errors import status_of
from app.domain.errors import InvalidTransition
from app.domain.job_states import FINAL_STATES, TRANSITIONS, JobStatus, is_final, must_change

# docs/jobs.md ("States"): succeeded and failed end a run; canceled and expired end a job that
# never finished.
DOCUMENTED_FINAL_STATES = {
    JobStatus.SUCCEEDED,
    JobStatus.FAILED,
    JobStatus.CANCELED,
    JobStatus.EXPIRED,
}


def reachable_from(start: JobStatus) -> set[JobStatus]:
    seen = {start}
    queue = deque([start])
    while queue:
        for following in TRANSITIONS[queue.popleft()]:
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return seen


REACHABLE = reachable_from(JobStatus.PENDING_UPLOAD)


class JobLifecycle(RuleBasedStateMachine):
    """One job, asked to move to any status, in any order, as callbacks and customers do.

    `must_change` is the pure decision `transition_job` applies with the row locked: True
    changes the status (and writes an event), False is the no-op of a repeat, and
    `InvalidTransition` is the 409.
    """

    def __init__(self) -> None:
        super().__init__()
        self.status = JobStatus.PENDING_UPLOAD
        self.history = [self.status]

    @rule(wanted=st.sampled_from(JobStatus))
    def attempt(self, wanted: JobStatus) -> None:
        before = self.status
        if wanted != before and wanted not in TRANSITIONS[before]:
            with pytest.raises(InvalidTransition) as refused:
                must_change(before, wanted)
            assert status_of(refused.value) == 409
            assert refused.value.extra == {
                "job_status": before.value,
                "requested_status": wanted.value,
            }
            return
        changed = must_change(before, wanted)
        if wanted == before:
            assert changed is False, "a repeat is a no-op, never a second change"
            return
        assert changed is True
        assert not is_final(before), "a final state changed"
        self.status = wanted
        self.history.append(wanted)

    @rule()
    def repeat_the_current_status(self) -> None:
        assert must_change(self.status, self.status) is False

    @invariant()
    def every_visited_status_is_reachable_through_the_table(self) -> None:
        assert self.status in REACHABLE
        for earlier, later in zip(self.history, self.history[1:], strict=False):
            assert later in TRANSITIONS[earlier]

    @invariant()
    def a_final_status_accepts_nothing_but_itself(self) -> None:
        if is_final(self.status):
            for target in JobStatus:
                if target != self.status:
                    with pytest.raises(InvalidTransition):
                        must_change(self.status, target)


JobLifecycle.TestCase.settings = settings(
    max_examples=100, stateful_step_count=20, derandomize=True, deadline=None, database=None
)
test_any_sequence_of_attempted_transitions_follows_the_table = JobLifecycle.TestCase


def test_every_status_is_reachable_from_pending_upload() -> None:
    assert set(JobStatus) == REACHABLE


def test_the_final_states_are_exactly_the_documented_ones_and_have_no_way_out() -> None:
    without_way_out = {status for status, following in TRANSITIONS.items() if not following}
    assert without_way_out == set(FINAL_STATES) == DOCUMENTED_FINAL_STATES
