"""wrk (Debian's) on loopback: one request shape per run, results as numbers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "wrk" / "request.lua"
RESULT_PREFIX = "WRK_RESULT "
# 64 logins at once queue behind bcrypt for seconds; a shorter timeout would drop them.
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Request:
    """What every connection of a run sends."""

    method: str
    path: str
    body: str = ""
    authorization: str = ""


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is missing: `make bench` installs it (Debian package wrk)")
    return found


def start(
    base_url: str, request: Request, *, seconds: float, connections: int, threads: int = 2
) -> subprocess.Popen[str]:
    """Starts wrk; `finish` waits for it and reads its result (so two can run at once)."""
    env = {
        **os.environ,
        "WRK_METHOD": request.method,
        "WRK_BODY": request.body,
        "WRK_AUTHORIZATION": request.authorization,
    }
    command = [wrk_path(), "--latency", "-t", str(threads), "-c", str(connections),
               "-d", f"{seconds:g}s", "--timeout", f"{TIMEOUT_SECONDS}s", "-s", str(SCRIPT),
               base_url + request.path]  # fmt: skip
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str]) -> Result:
    out, errors = process.communicate()
    line = next((x for x in out.splitlines() if x.startswith(RESULT_PREFIX)), None)
    if process.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({process.returncode}):\n{out}\n{errors}")
    data = json.loads(line.removeprefix(RESULT_PREFIX))
    return Result(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"],
    )


def run(
    base_url: str,
    request: Request,
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
    warmup_seconds: float = 0.0,
) -> Result:
    shape = {"connections": connections, "threads": threads}
    if warmup_seconds > 0:
        finish(start(base_url, request, seconds=warmup_seconds, **shape))
    return finish(start(base_url, request, seconds=seconds, **shape))
