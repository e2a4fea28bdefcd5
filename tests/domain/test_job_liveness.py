"""When the sweeper counts a job's container as lost: a running job silent past the heartbeat
timeout, a submitted one never started past the longer submitted timeout, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.domain.job_liveness import (
    AWAITING_BATCH,
    LivenessLimits,
    awaits_batch,
    is_lost,
    last_sign_of_life,
)
from app.domain.job_states import JobStatus
from app.domain.jobs import FailureCode, is_retryable

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
LIMITS = LivenessLimits(running_timeout=timedelta(minutes=5), submitted_timeout=timedelta(hours=24))


def lost(
    status: JobStatus,
    *,
    heartbeat_ago: timedelta | None = None,
    started_ago: timedelta | None = None,
    updated_ago: timedelta = timedelta(0),
) -> bool:
    return is_lost(
        status,
        heartbeat_at=NOW - heartbeat_ago if heartbeat_ago is not None else None,
        started_at=NOW - started_ago if started_ago is not None else None,
        updated_at=NOW - updated_ago,
        limits=LIMITS,
        now=NOW,
    )


def test_a_running_job_is_judged_by_its_last_heartbeat() -> None:
    long_ago = timedelta(hours=2)
    assert not lost(JobStatus.RUNNING, heartbeat_ago=timedelta(minutes=4), started_ago=long_ago)
    assert lost(JobStatus.RUNNING, heartbeat_ago=timedelta(minutes=6), started_ago=long_ago)


def test_a_running_job_without_heartbeats_is_judged_by_its_start() -> None:
    assert not lost(JobStatus.RUNNING, started_ago=timedelta(minutes=4))
    assert lost(JobStatus.RUNNING, started_ago=timedelta(minutes=6))
    assert (
        last_sign_of_life(
            JobStatus.RUNNING, heartbeat_at=None, started_at=NOW, updated_at=NOW - timedelta(days=1)
        )
        == NOW
    )


def test_a_submitted_job_waits_for_the_longer_timeout() -> None:
    assert not lost(JobStatus.SUBMITTED, updated_ago=timedelta(hours=23))
    assert lost(JobStatus.SUBMITTED, updated_ago=timedelta(hours=25))


def test_a_split_render_handed_to_the_next_batch_job_waits_as_long_as_a_submitted_one() -> None:
    def awaiting(heartbeat_ago: timedelta) -> bool:
        return is_lost(
            JobStatus.RUNNING,
            heartbeat_at=NOW - heartbeat_ago,
            started_at=NOW - timedelta(hours=30),
            updated_at=NOW - heartbeat_ago,
            limits=LIMITS,
            now=NOW,
            awaiting_batch=True,
        )

    assert not awaiting(timedelta(hours=2))
    assert awaiting(timedelta(hours=25))
    assert awaits_batch({AWAITING_BATCH: True})
    assert not awaits_batch({AWAITING_BATCH: False})
    assert not awaits_batch(None)


@pytest.mark.parametrize(
    "status",
    [s for s in JobStatus if s not in (JobStatus.RUNNING, JobStatus.SUBMITTED)],
)
def test_no_other_state_is_ever_lost(status: JobStatus) -> None:
    ages = timedelta(days=30)
    assert not lost(status, heartbeat_ago=ages, started_ago=ages, updated_ago=ages)


def test_only_infrastructure_failures_are_retryable() -> None:
    assert is_retryable(FailureCode.CONTAINER_LOST)
    assert is_retryable(FailureCode.UPLOAD_FAILED)
    for code in (
        FailureCode.INVALID_MEDIA,
        FailureCode.PIPELINE_ERROR,
        FailureCode.TIMEOUT,
        FailureCode.CANCELED,
    ):
        assert not is_retryable(code)


def test_the_heartbeat_timeout_outlasts_several_heartbeats() -> None:
    with pytest.raises(ValidationError, match="job_heartbeat_timeout_seconds"):
        Settings(_env_file=None, job_heartbeat_timeout_seconds=60)  # type: ignore[call-arg]
    assert Settings(_env_file=None, job_heartbeat_timeout_seconds=90)  # type: ignore[call-arg]


def test_a_submitted_job_waits_at_least_as_long_as_a_running_one() -> None:
    with pytest.raises(ValidationError, match="REFRAMER_JOB_SUBMITTED_TIMEOUT_SECONDS"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, job_heartbeat_timeout_seconds=600, job_submitted_timeout_seconds=300
        )
