"""The loop watchdog names the code that blocks the event loop, with its stack."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from fastapi import APIRouter

from app.config import Settings
from app.observability.loop_watchdog import LoopWatchdog
from tests.support.apps import running_app

WATCHDOG_LOGGER = "app.loop_watchdog"


def block_the_loop_on_purpose(seconds: float) -> None:
    time.sleep(seconds)  # what a sync driver or a CPU-bound call does to a coroutine


def _blocking_router() -> APIRouter:
    router = APIRouter()

    @router.get("/probe/blocking")
    async def blocking_endpoint(seconds: float = 0.3) -> dict[str, str]:
        block_the_loop_on_purpose(seconds)
        return {}

    return router


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == WATCHDOG_LOGGER]


async def test_a_blocking_endpoint_is_logged_with_its_stack(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    watched = settings.model_copy(update={"loop_watchdog_enabled": True})
    caplog.set_level(logging.WARNING, logger=WATCHDOG_LOGGER)
    async with running_app(watched) as (app, client):
        assert app.state.loop_watchdog is not None
        assert app.state.loop_watchdog.running
        app.include_router(_blocking_router())
        # A first request's cold path (imports, first serialisation) could block the loop
        # right after the purposeful block and own the latest stack sample: warm it first.
        assert (await client.get("/probe/blocking", params={"seconds": 0})).status_code == 200
        await asyncio.sleep(0.2)
        assert (await client.get("/probe/blocking")).status_code == 200
        await asyncio.sleep(0.1)  # the heartbeat runs, late, and reports
    assert not app.state.loop_watchdog.running

    blocked = [r for r in _warnings(caplog) if "block_the_loop_on_purpose" in r.__dict__["stack"]]
    assert blocked, [r.getMessage() for r in _warnings(caplog)]
    # Under load the warm-up's cold path can block too, and be sampled inside the same
    # function (sleeping 0 s): the purposeful block is the longest one.
    record = max(blocked, key=lambda r: int(r.__dict__["blocked_ms"]))
    assert record.levelno == logging.WARNING
    assert record.__dict__["blocked_ms"] >= 250
    assert record.__dict__["threshold_ms"] == 100
    assert "blocking_endpoint" in record.__dict__["stack"]


async def test_a_loop_blocked_for_good_is_reported_while_still_blocked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=WATCHDOG_LOGGER)
    watchdog = LoopWatchdog(0.05, stuck_after_seconds=0.2)
    watchdog.start()
    try:
        reported_while_blocked = False
        started = time.monotonic()
        while time.monotonic() - started < 2:  # the loop is held until the thread speaks
            block_the_loop_on_purpose(0.05)
            if any(r.levelno == logging.ERROR for r in _warnings(caplog)):
                reported_while_blocked = True
                break
    finally:
        await asyncio.sleep(0.05)
        watchdog.stop()
    assert reported_while_blocked
    (stuck,) = [r for r in _warnings(caplog) if r.levelno == logging.ERROR]
    assert "and counting" in stuck.getMessage()
    assert "block_the_loop_on_purpose" in stuck.__dict__["stack"]


def test_the_watchdog_is_on_in_development_and_off_in_production_unless_set() -> None:
    assert Settings(_env_file=None).loop_watchdog_active  # type: ignore[call-arg]
    assert not Settings(_env_file=None, environment="test").loop_watchdog_active  # type: ignore[call-arg]
    assert not Settings(_env_file=None, loop_watchdog_enabled=False).loop_watchdog_active  # type: ignore[call-arg]
    assert Settings(
        _env_file=None, environment="test", loop_watchdog_enabled=True
    ).loop_watchdog_active  # type: ignore[call-arg]
