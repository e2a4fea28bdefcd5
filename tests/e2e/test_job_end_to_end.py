"""The whole system on one machine, as a customer uses it: `make run`'s processes, a real
upload to the presigned URL, the dispatcher Lambda and the local Batch runner starting the
real pipeline, the output downloaded and checked, and `job.succeeded` at a receiver that
verifies the signature with the official Standard Webhooks library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from devstack.sample_clip import make_sample_clip
from devstack.smtp_sink import verification_link
from tests.support.local_stack import ROOT, LocalStack
from tests.support.webhook_receiver import run_receiver

PASSWORD = "end to end password"
JOB_TIMEOUT_SECONDS = 240.0


def verify_email(api: httpx.Client, mail_dir: Path, email: str) -> None:
    link = verification_link(mail_dir, email, timeout=30.0)
    assert link is not None, f"no verification email for {email}"
    token = link.split("token=", 1)[1]
    assert api.post("/api/auth/verify-email", json={"token": token}).is_success


def operator_cli(stack: LocalStack, *args: str) -> str:
    """`python -m app.cli`, pointed at the stack's database as an operator would."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REFRAMER_DATABASE_URL": f"sqlite+aiosqlite:///{stack.workdir}/reframer.db",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env, cwd=stack.workdir, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout


def probe(path: Path) -> dict[str, object]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_job_goes_all_the_way_through_the_local_system(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    email = "end-to-end@example.com"
    clip = tmp_path / "landscape.mp4"
    make_sample_clip(clip, width=640, height=360, seconds=3)
    body = clip.read_bytes()
    with httpx.Client(base_url=local_stack.api_url, timeout=30) as api, run_receiver() as hooks:
        assert api.post("/api/auth/register", json={"email": email, "password": PASSWORD})
        verify_email(api, local_stack.workdir / "mail", email)
        assert "pro" in operator_cli(local_stack, "set-plan", email, "pro")
        tokens = api.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()
        api.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        endpoint = api.post(
            "/api/webhooks/endpoints",
            json={"url": hooks.url(), "events": ["job.succeeded", "job.failed"]},
        ).json()

        created = api.post(
            "/api/jobs",
            json={
                "filename": "landscape.mp4",
                "content_type": "video/mp4",
                "size_bytes": len(body),
                "options": {"aspect_ratio": "9:16", "resolution": "480p"},
            },
        )
        assert created.status_code == 201, created.text
        upload = created.json()["upload"]
        put = httpx.put(upload["url"], content=body, headers=upload["headers"], timeout=30)
        assert put.status_code == 200
        job_id = created.json()["job"]["id"]
        assert api.post(f"/api/jobs/{job_id}/confirm").status_code == 202

        deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
        while (job := api.get(f"/api/jobs/{job_id}").json())["status"] not in {
            "succeeded", "failed", "canceled",
        }:  # fmt: skip
            assert time.monotonic() < deadline, local_stack.log_path.read_text()[-4000:]
            time.sleep(0.5)
        assert job["status"] == "succeeded", (job, local_stack.log_path.read_text()[-4000:])
        history = [e["to_status"] for e in api.get(f"/api/jobs/{job_id}/events").json()]
        assert history == ["pending_upload", "queued", "submitted", "running", "succeeded"]

        outputs = api.get(f"/api/jobs/{job_id}/outputs").json()
        video = tmp_path / "reframed.mp4"
        video.write_bytes(httpx.get(outputs["video"]["url"], timeout=30).content)
        streams = probe(video)["streams"]
        assert isinstance(streams, list)
        picture = next(s for s in streams if s["codec_type"] == "video")
        assert (picture["width"], picture["height"]) == (480, 854)
        assert any(s["codec_type"] == "audio" for s in streams)

        while not hooks.requests:
            assert time.monotonic() < deadline, "job.succeeded never reached the receiver"
            time.sleep(0.2)
        event = Webhook(endpoint["secret"]).verify(
            hooks.requests[0].body, hooks.requests[0].headers
        )
        assert event["type"] == "job.succeeded"
        assert event["data"]["job_id"] == job_id
