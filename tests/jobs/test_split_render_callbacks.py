"""A long source's split render as the API sees it: the dispatch spec tells the dispatcher
when to split, the children's progress adds up, and a child's failure is retryable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI

from app.config import Settings
from app.domain.clock import utcnow
from app.domain.plans import PlanName
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "render_split_threshold_seconds": 600,
            "render_segment_seconds": 120,
            "render_split_max_children": 16,
        }
    )


async def test_the_dispatch_spec_carries_the_declared_duration_and_the_split_settings(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create(plan=PlanName.BUSINESS)
    declared = await jobs.dispatched(user, duration_seconds=1800)
    assert declared.spec["source_seconds"] == 1800
    assert declared.spec["render_split"] == {
        "threshold_seconds": 600,
        "segment_seconds": 120,
        "max_children": 16,
    }
    undeclared = await jobs.dispatched(user)
    assert undeclared.spec["source_seconds"] is None


async def test_the_childrens_progress_adds_up_and_never_goes_backwards(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.running(user)
    assert (await jobs.callback(job, "progress", {"stage": "camera", "percent": 45})).is_success

    async def child(index: int, percent: int) -> int:
        body = {"stage": "render", "percent": percent, "child": index, "children": 4}
        answer = await jobs.callback(job, "progress", body)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["percent"])

    # Four children, each between 45 (the analysis' end) and 95: a child's own way counts
    # for a quarter of the job's.
    assert await child(0, 95) == 45 + 50 // 4
    assert await child(1, 70) == 45 + (50 + 25) // 4
    assert await child(1, 60) == 45 + (50 + 25) // 4  # a late report changes nothing
    assert await child(1, 70) == 45 + (50 + 25) // 4  # a repeat (heartbeat) neither
    assert await child(2, 95) == 45 + (50 + 25 + 50) // 4
    assert await child(3, 95) == 45 + (50 + 25 + 50 + 50) // 4
    assert await child(1, 95) == 95
    assert (await jobs.get(user, job.job_id))["progress"] == {"stage": "render", "percent": 95}
    # Then the join's own progress, and its complete replaces what the children left.
    assert (await jobs.callback(job, "progress", {"stage": "outputs", "percent": 98})).is_success
    await jobs.write_outputs(job)
    done = await jobs.callback(
        job, "complete", {"outputs": jobs.outputs_of(job), "metrics": {"frames": 10}}
    )
    assert done.status_code == 200, done.text
    shown = await jobs.get(user, job.job_id)
    assert shown["progress"] == {"stage": "outputs", "percent": 100}


async def test_a_childs_progress_needs_both_its_index_and_the_arrays_size(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.running(user)
    for bad in (
        {"stage": "render", "percent": 50, "child": 1},
        {"stage": "render", "percent": 50, "children": 2},
        {"stage": "render", "percent": 50, "child": 2, "children": 2},
        {"stage": "render", "percent": 50, "child": -1, "children": 2},
    ):
        assert (await jobs.callback(job, "progress", bad)).status_code == 422, bad


async def test_a_failed_child_fails_the_job_as_retryable(
    users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.running(user)
    message = "the segment step failed (pipeline_error): rendering failed: ffmpeg was killed"
    failed = await jobs.callback(job, "fail", {"code": "segment_failed", "message": message})
    assert failed.json()["status"] == "failed"
    error = (await jobs.get(user, job.job_id))["error"]
    assert error["code"] == "segment_failed"
    assert error["retryable"] is True
    assert error["message"] == message


async def test_a_handed_off_render_waits_for_the_next_batch_job_like_a_submitted_one(
    app: FastAPI, settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    """Between the analysis and the children, or the children and the join, no container
    runs (the next Batch job may wait for capacity): the sweeper gives the job the submitted
    timeout, and the heartbeat timeout again once a container reports."""
    user = await users.create()
    job = await jobs.running(user)
    sweeper = app.state.job_sweeper
    past_heartbeat = utcnow() + timedelta(seconds=settings.job_heartbeat_timeout_seconds + 1)
    handed_off = {"stage": "camera", "percent": 45, "handed_off": True}
    assert (await jobs.callback(job, "progress", handed_off)).status_code == 200

    assert (await sweeper.sweep_once(now=past_heartbeat)).lost_jobs == 0
    assert (await jobs.get(user, job.job_id))["status"] == "running"

    # A child starts and reports: from then on its silence counts again.
    child = {"stage": "render", "percent": 50, "child": 0, "children": 2}
    assert (await jobs.callback(job, "progress", child)).status_code == 200
    assert (await sweeper.sweep_once(now=past_heartbeat)).lost_jobs == 1
    error = (await jobs.get(user, job.job_id))["error"]
    assert (error["code"], error["retryable"]) == ("container_lost", True)


async def test_a_handed_off_render_whose_next_job_never_starts_is_lost_in_the_end(
    app: FastAPI, settings: Settings, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job = await jobs.running(user)
    body = {"stage": "render", "percent": 70, "child": 1, "children": 2, "handed_off": True}
    assert (await jobs.callback(job, "progress", body)).status_code == 200
    later = utcnow() + timedelta(seconds=settings.job_submitted_timeout_seconds + 1)

    assert (await app.state.job_sweeper.sweep_once(now=later)).lost_jobs == 1

    error = (await jobs.get(user, job.job_id))["error"]
    assert error["code"] == "container_lost"
    assert "did not start" in error["message"]
