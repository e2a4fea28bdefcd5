"""Two uvicorn workers, one truth: with PROMETHEUS_MULTIPROC_DIR every scrape, whichever
worker answers it, counts the requests both workers served."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from devstack.moto_server import free_port
from tests.support.processes import stop_process
from tests.support.scrape import sample

ROOT = Path(__file__).resolve().parents[2]
LIVE = {"method": "GET", "route": "/health/live", "status": "200"}
BURST = 40


def _serve(settings: Settings, port: int, multiproc_dir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "REFRAMER_"))}
    env.update(
        {
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir),
            "REFRAMER_ENVIRONMENT": "test",
            "REFRAMER_DATABASE_URL": settings.database_url,
            "REFRAMER_AWS_ENDPOINT_URL": str(settings.aws_endpoint_url),
            "REFRAMER_JOBS_QUEUE_URL": settings.jobs_queue_url,
            "REFRAMER_WEBHOOKS_QUEUE_URL": settings.webhooks_queue_url,
            "REFRAMER_S3_BUCKET": settings.s3_bucket,
            "REFRAMER_OUTBOX_RELAY_ENABLED": "false",
            "REFRAMER_LOG_LEVEL": "WARNING",
        }
    )
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
        "--loop", "uvloop", "--http", "httptools", "--no-access-log",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


async def _wait_until_ready(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(base_url=base_url) as http:
        while time.monotonic() < deadline:
            assert server.poll() is None, "uvicorn exited"
            try:
                if (await http.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("uvicorn never became ready")


async def _burst(base_url: str) -> None:
    # No keep-alive: every request is a new connection, free to land on either worker.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits) as http:
        responses = await asyncio.gather(*(http.get("/health/live") for _ in range(BURST)))
    assert all(r.status_code == 200 for r in responses)


def _workers_that_served(multiproc_dir: Path) -> int:
    return len(list(multiproc_dir.glob("histogram_*.db")))


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_every_scrape_counts_the_requests_of_both_workers(
    settings: Settings, tmp_path: Path
) -> None:
    multiproc_dir = tmp_path / "prometheus"
    multiproc_dir.mkdir()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = _serve(settings, port, multiproc_dir)
    try:
        await _wait_until_ready(base_url, server)
        sent = 0
        while _workers_that_served(multiproc_dir) < 2 and sent < 10 * BURST:
            await _burst(base_url)
            sent += BURST
        assert _workers_that_served(multiproc_dir) == 2, "one worker took every connection"

        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base_url, limits=limits) as http:
            for _ in range(6):
                scraped = await http.get("/metrics")
                assert scraped.status_code == 200
                count = sample(scraped.text, "reframer_http_request_duration_seconds_count", **LIVE)
                assert count == sent
    finally:
        stop_process(server)
