"""Switching the process's observability on for the life of the app, and off after."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.observability.loop_watchdog import LoopWatchdog
from app.observability.tracing import Tracing

logger = logging.getLogger("app.observability")


@contextmanager
def observing(
    settings: Settings, tracing: Tracing | None, engine: AsyncEngine
) -> Iterator[LoopWatchdog | None]:
    """Tracing (when configured) and the loop watchdog (when enabled); call in the loop."""
    if settings.metrics_enabled and not settings.metrics_served:
        logger.warning("/metrics is off: production serves it only with REFRAMER_METRICS_TOKEN")
    watchdog = (
        LoopWatchdog(settings.loop_watchdog_threshold_ms / 1000)
        if settings.loop_watchdog_active
        else None
    )
    if tracing is not None:
        tracing.start(engine)
    if watchdog is not None:
        watchdog.start()
    try:
        yield watchdog
    finally:
        if watchdog is not None:
            watchdog.stop()
        if tracing is not None:
            tracing.stop()
