"""`make run` (`python -m devstack`) runs a confirmed job by itself: the dispatcher poller,
the local Batch runner and the container's callbacks are all part of the one process."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.local_stack import LocalStack, start_local_stack

PASSWORD = "correct horse battery staple"
WAIT_SECONDS = 60.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    running = start_local_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stop()


def _pro_account(stack: LocalStack, api: httpx.Client) -> dict[str, str]:
    email = "jobs@example.com"
    assert api.post("/api/auth/register", json={"email": email, "password": PASSWORD}).is_success
    # The operator's levers: a plan, and the verification the email link would give.
    with sqlite3.connect(stack.workdir / "reframer.db") as db:
        db.execute(
            "UPDATE accounts SET plan = 'pro', email_verified_at = CURRENT_TIMESTAMP "
            "WHERE email = ?",
            (email,),
        )
    token = api.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_a_confirmed_job_starts_in_a_local_container_by_itself(
    stack: LocalStack,
    tiny_clip: bytes,
) -> None:
    with httpx.Client(base_url=stack.api_url, timeout=10) as api:
        headers = _pro_account(stack, api)
        created = api.post(
            "/api/jobs",
            json={
                "filename": "clip.mp4",
                "content_type": "video/mp4",
                "size_bytes": len(tiny_clip),
                "options": {"aspect_ratio": "9:16", "resolution": "720p"},
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        job_id = created.json()["job"]["id"]
        upload = created.json()["upload"]
        upload_headers = {k: v for k, v in upload["headers"].items() if k != "Content-Length"}
        put = httpx.request(
            upload["method"], upload["url"], content=tiny_clip, headers=upload_headers
        )
        assert put.status_code == 200, put.text
        assert api.post(f"/api/jobs/{job_id}/confirm", headers=headers).status_code == 202

        deadline = time.monotonic() + WAIT_SECONDS
        job = api.get(f"/api/jobs/{job_id}", headers=headers).json()
        while job["started_at"] is None:
            assert time.monotonic() < deadline, Path(stack.log_path).read_text()[-4000:]
            time.sleep(0.3)
            job = api.get(f"/api/jobs/{job_id}", headers=headers).json()
        assert job["status"] in {"running", "succeeded", "failed"}
    # The container's own line, tagged batch[...]: its output reaches the log through the
    # local runner's pipe, which may be a moment behind the callback that set started_at.
    started = f"reframer[{job_id}]: started"
    while started not in (log := Path(stack.log_path).read_text()):
        assert time.monotonic() < deadline, log[-4000:]
        time.sleep(0.3)
