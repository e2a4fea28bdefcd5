"""`make demo`: with `make run` up, does what a new customer would and shows the result.

Registers, opens the verification link from the local mail sink, uploads a generated clip
straight to the presigned URL, confirms, waits for the pipeline, and downloads the output.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from app.services.email.links import token_of_link
from devstack.sample_clip import make_sample_clip
from devstack.smtp_sink import verification_link

FINAL = {"succeeded", "failed", "canceled", "expired"}
PASSWORD = "demo password 123"  # noqa: S105 - a throwaway local account
WAIT_SECONDS = 600.0


def verification_token(mail_dir: Path, email: str) -> str:
    link = verification_link(mail_dir, email, timeout=30.0)
    if link is None:
        raise SystemExit(f"no verification email for {email} arrived in {mail_dir}")
    token = token_of_link(link)
    if token is None:
        raise SystemExit(f"the verification link {link} carries no token")
    return token


def check(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.text}")
    return response


def run(api: str, mail_dir: Path, out_dir: Path) -> Path:
    http = httpx.Client(base_url=api, timeout=30)
    email = f"demo-{uuid.uuid4().hex[:8]}@example.com"
    check(http.post("/api/auth/register", json={"email": email, "password": PASSWORD}), 201)
    token = verification_token(mail_dir, email)
    check(http.post("/api/auth/verify-email", json={"token": token}), 200)
    tokens = check(
        http.post("/api/auth/login", json={"email": email, "password": PASSWORD}), 200
    ).json()
    http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    print(f"registered and verified {email}")

    with tempfile.TemporaryDirectory() as scratch:
        clip = Path(scratch) / "sample.mp4"
        make_sample_clip(clip)
        body = clip.read_bytes()
    created = check(
        http.post(
            "/api/jobs",
            json={
                "filename": "sample.mp4",
                "content_type": "video/mp4",
                "size_bytes": len(body),
                "options": {"aspect_ratio": "9:16", "resolution": "720p"},
            },
        ),
        201,
    ).json()
    upload = created["upload"]
    check(httpx.put(upload["url"], content=body, headers=upload["headers"], timeout=60), 200)
    job_id = created["job"]["id"]
    check(http.post(f"/api/jobs/{job_id}/confirm"), 202)
    print(f"uploaded {len(body)} bytes and confirmed job {job_id}")

    started = time.monotonic()
    last = None
    while time.monotonic() - started < WAIT_SECONDS:
        job = check(http.get(f"/api/jobs/{job_id}"), 200).json()
        progress = job.get("progress") or {}
        stage, percent = progress.get("stage") or "", progress.get("percent") or 0
        line = f"  {job['status']:<10} {stage:<9} {percent:>3}%"
        if line != last:
            print(f"{time.monotonic() - started:6.1f}s{line}", flush=True)
            last = line
        if job["status"] in FINAL:
            break
        time.sleep(1)
    else:
        raise SystemExit(f"job {job_id} did not finish in {WAIT_SECONDS:.0f} s")
    if job["status"] != "succeeded":
        raise SystemExit(f"job {job_id} ended {job['status']}: {job.get('error')}")

    outputs = check(http.get(f"/api/jobs/{job_id}/outputs"), 200).json()
    target = out_dir / job_id
    target.mkdir(parents=True, exist_ok=True)
    for name, filename in (("video", "video.mp4"), ("thumbnail", "thumbnail.jpg"),
                           ("manifest", "manifest.json")):  # fmt: skip
        (target / filename).write_bytes(check(httpx.get(outputs[name]["url"]), 200).content)
    metrics = json.loads((target / "manifest.json").read_text()).get("metrics", {})
    video: Path = target / "video.mp4"
    print(f"\nreframed video: {video}")
    for stage, seconds in (metrics.get("stage_seconds") or {}).items():
        print(f"  {stage:<10} {seconds:6.2f} s")
    return video


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--mail-dir", type=Path, default=Path("var/mail"))
    parser.add_argument("--out", type=Path, default=Path("var/demo"))
    args = parser.parse_args()
    try:
        run(args.api, args.mail_dir, args.out)
    except httpx.ConnectError:
        sys.exit(f"nothing answers at {args.api}: start the system with `make run` first")


if __name__ == "__main__":
    main()
