"""The throwaway system a benchmark runs against: a PostgreSQL cluster with a migrated
database, moto server with the bucket and queues, and the environment the API reads.

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
from app.local.moto_server import FAKE_CREDENTIALS, free_port
from app.local.provision import LocalAws, provision_aws
from tests.support import migrations
from tests.support.postgres import PostgresCluster
from tests.support.processes import stop_process

REPO = Path(__file__).resolve().parents[1]
DATABASE = "reframer_bench"
MOTO_START_TIMEOUT_SECONDS = 30.0


@dataclass
class MotoProcess:
    """moto server in a process of its own: SQS and S3 answer from another interpreter, as
    AWS would, instead of sharing this process's GIL with the code being measured.

    Served by uvicorn (`bench/moto_wsgi.py`) rather than `python -m moto.server`, whose
    werkzeug server closes every connection: with connections kept alive, as SDKs keep them
    to AWS, moto spends ~15% less CPU per SendMessageBatch message and the client makes no
    TCP connection per call.
    """

    port: int
    process: subprocess.Popen[bytes]

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, log: Path) -> MotoProcess:
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
                [sys.executable, "-m", "uvicorn", "--factory", "bench.moto_wsgi:create_moto_app",
                 "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                 "--loop", "uvloop", "--http", "httptools",
                 "--no-access-log", "--log-level", "warning"],
                cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip
        moto = cls(port, process)
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
def bench_stack() -> Iterator[BenchStack]:
    for name, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)  # this process's AWS clients talk to moto too
    cluster = PostgresCluster()
    moto: MotoProcess | None = None
    scratch = Path(tempfile.mkdtemp(prefix="reframer-bench-"))
    try:
        cluster.start()
        cluster.execute_admin(f"CREATE DATABASE {DATABASE}")
        migrations.upgrade_sync(cluster.url(DATABASE))
        moto = MotoProcess.start(scratch / "moto.log")
        aws = asyncio.run(provision_aws(moto.endpoint_url, prefix="bench-"))
        yield BenchStack(cluster=cluster, moto=moto, aws=aws, scratch=scratch)
    finally:
        if moto is not None:
            moto.stop()
        cluster.destroy()
        shutil.rmtree(scratch, ignore_errors=True)
