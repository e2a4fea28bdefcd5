"""Fault injection: the harness's app served on loopback for callers outside the process (a
Batch container, a crowd of clients), and a PostgreSQL cluster of this folder's own that the
tests may stop and start without touching the session's shared one."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from tests.support import migrations
from tests.support.postgres import PostgresCluster

# The shortest timeout the settings accept (three missed 30 s heartbeats).
HEARTBEAT_TIMEOUT_SECONDS = 90


@pytest.fixture
def settings(settings: Settings, api_port: int) -> Settings:
    return settings.model_copy(
        update={
            "callback_base_url": f"http://127.0.0.1:{api_port}",
            "job_heartbeat_timeout_seconds": HEARTBEAT_TIMEOUT_SECONDS,
        }
    )


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Twelve seconds of ffmpeg's test pattern with a tone: the pipeline is still at work
    well after it reports its start."""
    path = tmp_path_factory.mktemp("clip") / "long.mp4"
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", "testsrc=duration=12:size=640x360:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=12",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return Path(path).read_bytes()


@pytest.fixture(scope="module")
def outage_cluster() -> Iterator[PostgresCluster]:
    """A migrated PostgreSQL of its own: these tests stop it under load and start it again."""
    cluster = PostgresCluster()
    cluster.start()
    try:
        cluster.execute_admin("CREATE DATABASE reframer")
        migrations.upgrade_sync(cluster.url("reframer"))
        yield cluster
    finally:
        cluster.destroy()
