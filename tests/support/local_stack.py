"""The real local system (`python -m devstack`, what `make run` starts) as a child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack.moto_server import free_port
from tests.support.crash import kill_tree
from tests.support.processes import stop_process

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 60.0
MULTIPART_THRESHOLD_BYTES = 16 * 1024**2


@dataclass
class LocalStack:
    workdir: Path
    api_port: int
    aws_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "stack.log"

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "REFRAMER_LOCAL_API_PORT": str(self.api_port),
            "REFRAMER_LOCAL_AWS_PORT": str(self.aws_port),
            "REFRAMER_DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir}/reframer.db",
            "REFRAMER_BCRYPT_ROUNDS": "4",
            "REFRAMER_SMTP_PORT": str(free_port()),
            "REFRAMER_SMTP_SINK_DIR": str(self.workdir / "mail"),
            # The browser test asks for a second link; a person would wait the minute.
            "REFRAMER_EMAIL_RESEND_COOLDOWN_SECONDS": "4",
            # Sources above 16 MiB upload in parts (8 MiB each), so a browser test sends a
            # multi-part file of a few parts instead of gigabytes.
            "REFRAMER_MULTIPART_THRESHOLD_BYTES": str(MULTIPART_THRESHOLD_BYTES),
            **(extra_env or {}),
        }
        # Appended: a stack started again after a crash keeps one log of its whole life.
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack"],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.api_url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the local stack never got ready:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, request=signal.SIGINT)  # what Ctrl-C sends

    def crash(self) -> int:
        """SIGKILL to the stack and every process it started (containers included), as if
        the machine lost power; returns how many processes died."""
        assert self.process is not None
        killed = kill_tree(self.process.pid)
        self.process.wait()
        return killed


def start_local_stack(workdir: Path, extra_env: dict[str, str] | None = None) -> LocalStack:
    stack = LocalStack(workdir=workdir, api_port=free_port(), aws_port=free_port())
    stack.start(extra_env)
    return stack
