"""Finds what blocks the event loop: a development aid, on by default in development.

A heartbeat callback on the loop records when it last ran, every quarter of the
threshold. A watchdog thread checks it as often; while the heartbeat is overdue, the
thread samples the loop thread's stack (`sys._current_frames()`), which shows the code
that holds the loop (the latest sample is kept). When the heartbeat finally runs late by
more than the threshold, it logs one warning with how long the loop was blocked and that
stack. A loop blocked for good (a deadlock) gets its error from the thread, after
`stuck_after` seconds, once per block: a block is known by the heartbeat it followed.

The thread needs the GIL to sample: code that blocks inside a C call holding the GIL is
caught late, and its warning may come without a stack.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback
from types import FrameType

logger = logging.getLogger("app.loop_watchdog")

STACK_FRAMES = 40
DEFAULT_STUCK_AFTER_SECONDS = 5.0


def _format_stack(frame: FrameType | None) -> str | None:
    if frame is None:
        return None
    # The innermost frames say what blocks; the outermost are asyncio and uvicorn.
    return "".join(traceback.format_stack(frame, limit=STACK_FRAMES))


class LoopWatchdog:
    def __init__(
        self,
        threshold_seconds: float = 0.1,
        *,
        stuck_after_seconds: float = DEFAULT_STUCK_AFTER_SECONDS,
    ) -> None:
        self.threshold = threshold_seconds
        self.interval = threshold_seconds / 4
        self.stuck_after = stuck_after_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id = 0
        self._last_beat = 0.0
        self._beat_handle: asyncio.TimerHandle | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Written by the thread, read and cleared by the heartbeat; a plain attribute
        # swap is atomic under the GIL.
        self._sampled_stack: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Call from the loop's thread, with the loop running."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        self._last_beat = time.monotonic()
        self._stop.clear()
        self._beat_handle = self._loop.call_later(self.interval, self._beat)
        self._thread = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        # Joining holds the loop: the thread must see the stop before it sees that hold.
        self._stop.set()
        self._thread.join(timeout=1)
        self._thread = None
        if self._beat_handle is not None:
            self._beat_handle.cancel()
            self._beat_handle = None

    def _beat(self) -> None:
        now = time.monotonic()
        late = now - self._last_beat - self.interval
        stack, self._sampled_stack = self._sampled_stack, None
        if late > self.threshold:
            logger.warning(
                "event loop blocked for %d ms",
                late * 1000,
                extra={
                    "blocked_ms": round(late * 1000),
                    "threshold_ms": round(self.threshold * 1000),
                    "stack": stack or "not sampled (the blocking call held the GIL)",
                },
            )
        self._last_beat = now
        if self._loop is not None and not self._stop.is_set():
            self._beat_handle = self._loop.call_later(self.interval, self._beat)

    def _watch(self) -> None:
        # The heartbeat a stuck report followed: one block is reported once, however many
        # checks see it. Only this thread reads and writes it, so no beat can re-arm the
        # report between a check and its log line.
        reported_beat: float | None = None
        while not self._stop.wait(self.interval):
            last_beat = self._last_beat
            overdue = time.monotonic() - last_beat - self.interval
            if overdue <= self.interval:
                continue
            # The latest sample wins: whatever held the loop a moment ago still holds it.
            stack = _format_stack(sys._current_frames().get(self._loop_thread_id))
            if self._last_beat != last_beat:
                continue  # the block ended while sampling: the stack shows what ran after it
            self._sampled_stack = stack
            if overdue <= self.stuck_after or last_beat == reported_beat or self._stop.is_set():
                continue
            reported_beat = last_beat
            logger.error(
                "event loop blocked for %d ms and counting",
                overdue * 1000,
                extra={
                    "blocked_ms": round(overdue * 1000),
                    "threshold_ms": round(self.threshold * 1000),
                    "stack": stack,
                },
            )
