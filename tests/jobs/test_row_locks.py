"""Each status change locks the job's row once per request: a callback or a cancel takes the
lock, and every transition it makes acts on the row it holds (counted on PostgreSQL, where
the lock is a `SELECT ... FOR UPDATE` on `jobs`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from app.config import Settings
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory

JOB_ROW_LOCK = re.compile(r"\bFROM jobs\b.*\bFOR UPDATE\b", re.DOTALL)


@contextmanager
def job_row_locks(app: FastAPI) -> Iterator[list[str]]:
    """The statements that lock a job row, while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if JOB_ROW_LOCK.search(statement):
            seen.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture(autouse=True)
def _postgres_only(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite has no row locks to count (one writer)")


async def test_the_container_starting_before_the_submission_is_reported_locks_once(
    app: FastAPI, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    dispatched = await jobs.dispatched(user)
    with job_row_locks(app) as locks:
        started = await jobs.callback(dispatched, "start", {"batch_job_id": "batch-1"})
    assert started.json()["status"] == "running"  # queued -> submitted -> running
    assert len(locks) == 1


async def test_submitted_then_started_each_lock_once(
    app: FastAPI, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    dispatched = await jobs.dispatched(user)
    with job_row_locks(app) as locks:
        submitted = await jobs.submitted(dispatched.job_id, "batch-1")
    assert submitted.json()["status"] == "submitted"
    assert len(locks) == 1
    with job_row_locks(app) as locks:
        started = await jobs.callback(dispatched, "start", {"batch_job_id": "batch-1"})
    assert started.json()["status"] == "running"
    assert len(locks) == 1


async def test_complete_and_fail_lock_once(
    app: FastAPI, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    finishing = await jobs.running(user)
    await jobs.write_outputs(finishing)
    with job_row_locks(app) as locks:
        completed = await jobs.callback(
            finishing, "complete", {"outputs": jobs.outputs_of(finishing), "metrics": {}}
        )
    assert completed.json()["status"] == "succeeded"
    assert len(locks) == 1

    refusing = await jobs.running(user, batch_job_id="batch-2")
    with job_row_locks(app) as locks:
        refused = await jobs.callback(
            refusing,
            "fail",
            {"code": "source_too_long", "message": "too long", "duration_seconds": 10_000.0},
        )
    assert refused.json()["status"] == "failed"
    assert len(locks) == 1


async def test_a_cancel_locks_once(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory, jobs: JobDriver
) -> None:
    user = await users.create()
    job_id = await jobs.queued(user)
    with job_row_locks(app) as locks:
        canceled = await client.post(f"/api/jobs/{job_id}/cancel", headers=user.headers)
    assert canceled.json()["status"] == "canceled"
    assert len(locks) == 1
