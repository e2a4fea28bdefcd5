"""uvicorn as production runs it (uvloop, httptools, N workers), in a child process."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack.moto_server import free_port
from tests.support.processes import stop_process

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 60.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Served:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its workers so far, from /proc: unlike
        requests/s, hardly moved by what else the machine runs."""
        total, pending = 0, [self.pid]
        while pending:
            pid = pending.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pending += [int(c) for c in (task / "children").read_text().split()]
            except (OSError, IndexError, ValueError):
                continue
        return total / CLOCK_TICKS


def uvicorn_command(factory: str, port: int, workers: int) -> list[str]:
    """The same flags for the app and the bare baseline: only the factory differs."""
    return [sys.executable, "-m", "uvicorn", "--factory", factory,
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning"]  # fmt: skip


def _wait_until_live(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"server did not answer {url} in {START_TIMEOUT_SECONDS:.0f} s")


@contextlib.contextmanager
def uvicorn_server(
    factory: str,
    environment: Mapping[str, str],
    *,
    workers: int,
    log: Path,
    live_path: str = "/health/live",
) -> Iterator[Served]:
    """Serves `factory` on a free loopback port; yields its URL and pid; stops it on exit.

    With several workers the Prometheus client needs a shared, empty directory, as in
    production (docs/operations.md, Metrics).
    """
    port = free_port()
    env = {**os.environ, **environment}
    metrics_dir = None
    if workers > 1:
        metrics_dir = tempfile.mkdtemp(prefix="reframer-bench-metrics-")
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    base_url = f"http://127.0.0.1:{port}"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            uvicorn_command(factory, port, workers), cwd=REPO, env=env,
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_live(base_url + live_path, process, log)
        yield Served(base_url, process.pid)
    finally:
        stop_process(process)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
