"""Stopping a child process (a server a test or a benchmark started): ask it to exit, give it
time to shut down cleanly, then kill it."""

from __future__ import annotations

import signal
import subprocess

STOP_TIMEOUT_SECONDS = 20.0


def stop_process(
    process: subprocess.Popen[bytes], *, request: signal.Signals = signal.SIGTERM
) -> None:
    """Sends `request` (SIGINT for a program that stops on Ctrl-C), waits up to
    STOP_TIMEOUT_SECONDS for the process to exit, then SIGKILLs it; returns once it is reaped.
    A process that already exited is only reaped."""
    if process.poll() is not None:
        return
    process.send_signal(request)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
