"""The throwaway system a benchmark runs against: a PostgreSQL cluster with a migrated
database, moto server (CPython, or PyPy where moto's CPU is the limit) with the bucket and
queues, and the environment the API reads.

The cluster is the test suite's (`tests/support/postgres.py`): durability off (fsync,
synchronous_commit), which flatters every write alike, the app's and the bare baseline's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.config import Settings
from devstack.moto_server import FAKE_CREDENTIALS, free_port
from devstack.provision import LocalAws, provision_aws
from tests.support import migrations
from tests.support.postgres import PostgresCluster
from tests.support.processes import stop_process

REPO = Path(__file__).resolve().parents[1]
DATABASE = "reframer_bench"
MOTO_START_TIMEOUT_SECONDS = 30.0


# moto on PyPy, installed by `make bench` (the Makefile's `.venv-moto-pypy` target) where
# Debian's pypy3 can be had; the stamp is written only once the install succeeded.
MOTO_PYPY_VENV = REPO / ".venv-moto-pypy"
MOTO_PYPY_STAMP = MOTO_PYPY_VENV / ".installed"
# waitress's request threads. moto holds PyPy's GIL for nearly all of a request, so more
# threads only contend: after the same warm-up, 1 thread took 1.38-1.41 ms of moto CPU per
# message (1 caller) and 1.77 (4 callers), 4 threads 1.46 and 1.82, 8 threads 1.61 and 2.03.
MOTO_PYPY_THREADS = 1


def moto_command(port: int, pypy: bool) -> list[str]:
    """moto's WSGI application (`bench/moto_wsgi.py`), kept alive either way.

    On CPython, uvicorn with uvloop and httptools, as the app is served. On PyPy, waitress:
    uvicorn has neither uvloop nor httptools there, and its pure-Python h11 costs moto more
    CPU per message than waitress's parser (1.9-2.3 ms against 1.5-1.7 ms, measured side by
    side after the same warm-up).
    """
    if pypy:
        return [str(MOTO_PYPY_VENV / "bin" / "waitress-serve"),
                "--host", "127.0.0.1", "--port", str(port),
                "--threads", str(MOTO_PYPY_THREADS),
                "--call", "bench.moto_wsgi:create_moto_app"]  # fmt: skip
    return [sys.executable, "-m", "uvicorn", "--factory", "bench.moto_wsgi:create_moto_app",
            "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
            "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning"]  # fmt: skip


def moto_runtime(python: str) -> str:
    """e.g. `PyPy 3.9.16, moto 5.1.22`: what served moto, for the report."""
    describe = (
        "import importlib.metadata, platform; "
        "print(platform.python_implementation(), platform.python_version() + ',', "
        "'moto', importlib.metadata.version('moto'))"
    )
    found = subprocess.run([python, "-c", describe], capture_output=True, text=True, check=True)
    return found.stdout.strip()


@dataclass
class MotoProcess:
    """moto server in a process of its own: SQS and S3 answer from another interpreter, as
    AWS would, instead of sharing this process's GIL with the code being measured.

    Never `python -m moto.server`, whose werkzeug server closes every connection: with
    connections kept alive, as SDKs keep them to AWS, moto spends ~15% less CPU per
    SendMessageBatch message and the client makes no TCP connection per call.

    `pypy=True` runs it on PyPy (`.venv-moto-pypy`), where its JIT takes moto's CPU per
    SendMessageBatch message from ~2.7 ms to ~1.5 ms once warm (bench/scale.py warms it).
    That venv holds moto 5.1.22, the newest release for PyPy's Python 3.9; the suite's
    CPython moto (5.2.x) costs the same per message (measured: 2.71-2.75 against 2.76 ms).
    Without the venv it falls back to CPython and says so.
    """

    port: int
    process: subprocess.Popen[bytes]
    pypy: bool
    runtime: str  # what served it, e.g. `PyPy 3.9.16, moto 5.1.22 (waitress)`

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, log: Path, pypy: bool = False) -> MotoProcess:
        if pypy and not MOTO_PYPY_STAMP.exists():
            print(
                f"notice: {MOTO_PYPY_VENV.name} is not installed (`make bench` installs it "
                "where Debian's pypy3 can be had): moto is served from CPython",
                flush=True,
            )
            pypy = False
        python = str(MOTO_PYPY_VENV / "bin" / "python") if pypy else sys.executable
        runtime = f"{moto_runtime(python)} ({'waitress' if pypy else 'uvicorn'})"
        port = free_port()
        env = {
            **os.environ,
            **FAKE_CREDENTIALS,
            # The scale benchmark purges its queue every few milliseconds (bench/scale.py);
            # AWS and moto otherwise allow one purge a minute.
            "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false",
        }
        with log.open("ab") as sink:
            process = subprocess.Popen(
                moto_command(port, pypy), cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT
            )
        moto = cls(port, process, pypy, runtime)
        deadline = time.monotonic() + MOTO_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return moto
            if process.poll() is not None:
                raise SystemExit(f"moto server exited: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        moto.stop()
        raise SystemExit("moto server did not start")

    def stop(self) -> None:
        stop_process(self.process)


POOL_SIZE = 10  # the app's default `database_pool_size`; the bare app uses the same


@dataclass(frozen=True)
class BenchStack:
    cluster: PostgresCluster
    moto: MotoProcess
    aws: LocalAws
    scratch: Path

    @property
    def database_url(self) -> str:
        return self.cluster.url(DATABASE)

    def environment(self) -> dict[str, str]:
        """The API's settings for a run: production-like, but quiet and never rate-limited.

        Logs stay JSON but at WARNING, so per-request logging does not dominate; rate
        limits stay on (their per-request cost is part of the app) with budgets no run can
        spend; the outbox relay and sweeper run as in production.
        """
        return {
            **FAKE_CREDENTIALS,
            "REFRAMER_ENVIRONMENT": "test",
            "REFRAMER_DATABASE_URL": self.database_url,
            "REFRAMER_DATABASE_POOL_SIZE": str(POOL_SIZE),
            "REFRAMER_LOG_LEVEL": "WARNING",
            "REFRAMER_LOG_JSON": "true",
            "REFRAMER_LOOP_WATCHDOG_ENABLED": "false",
            "REFRAMER_ACCESS_TOKEN_TTL_SECONDS": "7200",
            "REFRAMER_RATE_LIMIT_PLAN_SCALE": "100000",
            "REFRAMER_RATE_LIMIT_AUTH_PER_MINUTE": "100000000",
            # One account creates every job of the load test, all left waiting for an upload.
            "REFRAMER_CAP_PENDING_UPLOADS": "false",
            "REFRAMER_AWS_ENDPOINT_URL": self.moto.endpoint_url,
            "REFRAMER_S3_BUCKET": self.aws.bucket,
            "REFRAMER_JOBS_QUEUE_URL": self.aws.jobs_queue_url,
            "REFRAMER_WEBHOOKS_QUEUE_URL": self.aws.webhooks_queue_url,
        }

    def settings(self, **overrides: object) -> Settings:
        """The same settings, in this process (seeding, the relay benchmark)."""
        fields = {
            key.removeprefix("REFRAMER_").lower(): value
            for key, value in self.environment().items()
            if key.startswith("REFRAMER_")
        }
        return Settings(**{**fields, **overrides})  # type: ignore[arg-type]


@contextlib.contextmanager
def bench_stack(moto_on_pypy: bool = False) -> Iterator[BenchStack]:
    """`moto_on_pypy`: serve moto from PyPy (see MotoProcess), for a benchmark whose limit is
    moto's own CPU; the others keep CPython's, which needs no warm-up."""
    for name, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)  # this process's AWS clients talk to moto too
    cluster = PostgresCluster()
    moto: MotoProcess | None = None
    scratch = Path(tempfile.mkdtemp(prefix="reframer-bench-"))
    try:
        cluster.start()
        cluster.execute_admin(f"CREATE DATABASE {DATABASE}")
        migrations.upgrade_sync(cluster.url(DATABASE))
        moto = MotoProcess.start(scratch / "moto.log", pypy=moto_on_pypy)
        aws = asyncio.run(provision_aws(moto.endpoint_url, prefix="bench-"))
        yield BenchStack(cluster=cluster, moto=moto, aws=aws, scratch=scratch)
    finally:
        if moto is not None:
            moto.stop()
        cluster.destroy()
        shutil.rmtree(scratch, ignore_errors=True)
