"""The job_dispatcher runs against the real API served on loopback, moto's SQS and the local
Batch runner; the container's callbacks reach the same API (its callback base is that URL)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.config import Settings
from devstack.batch_runner import LocalBatch, start_local_batch
from devstack.lambda_runners import job_dispatcher_environment
from devstack.moto_server import MotoServer

# Stopping a container at teardown must not hold the suite up.
TEST_STOP_GRACE_SECONDS = 5.0


@pytest.fixture
def settings(settings: Settings, api_port: int) -> Settings:
    return settings.model_copy(update={"callback_base_url": f"http://127.0.0.1:{api_port}"})


@pytest.fixture
async def local_batch(
    moto_server: MotoServer, settings: Settings, api_url: str
) -> AsyncIterator[LocalBatch]:
    batch = start_local_batch(
        moto_server.endpoint_url,
        region=settings.aws_region,
        stop_grace_seconds=TEST_STOP_GRACE_SECONDS,
    )
    try:
        yield batch
    finally:
        # Off the loop: a stopping container still reports to the API served on it.
        await asyncio.to_thread(batch.stop)


@pytest.fixture
def dispatcher_env(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, api_url: str, local_batch: LocalBatch
) -> dict[str, str]:
    """The environment `make run` gives the function; restored after the test."""
    environment = job_dispatcher_environment(settings, api_url, local_batch.endpoint_url)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Two seconds of ffmpeg's test pattern with a tone: a real, decodable upload."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", "testsrc=duration=2:size=320x180:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return Path(path).read_bytes()
