"""JSON log lines carry the request id, the caller's account and the ids in the path."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from app.api.deps import CurrentAccount
from app.logging import (
    JsonFormatter,
    bind_log_context,
    log_context,
    start_request_log_context,
)
from tests.support.users import UserFactory

probe_logger = logging.getLogger("tests.probe")


class JsonLines(logging.Handler):
    """Formats at emit time, as a real handler does, while the request's context is live."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_lines() -> Iterator[JsonLines]:
    handler = JsonLines()
    probe_logger.addHandler(handler)
    probe_logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        probe_logger.removeHandler(handler)


def _probe_router() -> APIRouter:
    """Stand-ins for feature routes: the jobs routes are not on this branch."""
    router = APIRouter()

    @router.get("/probe/jobs/{job_id}")
    async def look_at_a_job(job_id: str, account: CurrentAccount) -> dict[str, str]:
        probe_logger.info("looked at a job")
        return {"job_id": job_id}

    @router.get("/probe/anonymous")
    async def anonymous() -> dict[str, str]:
        probe_logger.info("anonymous call")
        return {}

    return router


async def test_a_request_logs_its_request_account_and_job_ids(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory, json_lines: JsonLines
) -> None:
    app.include_router(_probe_router())
    user = await users.create()

    response = await client.get(
        "/probe/jobs/job-123", headers={**user.headers, "X-Request-ID": "req-1"}
    )
    assert response.status_code == 200
    anonymous = await client.get("/probe/anonymous", headers={"X-Request-ID": "req-2"})
    assert anonymous.status_code == 200

    first, second = json_lines.lines
    assert first["message"] == "looked at a job"
    assert first["request_id"] == "req-1"
    assert first["account_id"] == str(user.id)
    assert first["job_id"] == "job-123"
    # The next request on the same connection starts clean.
    assert second["request_id"] == "req-2"
    assert "account_id" not in second
    assert "job_id" not in second


def test_log_context_adds_fields_for_a_block_and_bind_for_the_rest() -> None:
    formatter = JsonFormatter()

    def line(message: str, **extra: object) -> dict[str, object]:
        record = logging.makeLogRecord({"name": "t", "msg": message, "levelname": "INFO"})
        record.__dict__.update(extra)
        parsed: dict[str, object] = json.loads(formatter.format(record))
        return parsed

    def scenario() -> None:
        start_request_log_context("req-9")
        bind_log_context(account_id="acc-1", job_id=None)
        with log_context(job_id="job-7"):
            inside = line("inside")
            overridden = line("explicit", job_id="job-8")
        after = line("after")
        assert inside["request_id"] == "req-9"
        assert inside["account_id"] == "acc-1"
        assert inside["job_id"] == "job-7"
        assert overridden["job_id"] == "job-8"
        assert after["account_id"] == "acc-1"
        assert "job_id" not in after

    contextvars.copy_context().run(scenario)
