"""The whole local system (API with its relay and sweeper, moto, the Lambda pollers, the local
Batch runner and its containers) killed with SIGKILL at several points of jobs' lives and
started again, on short timeouts: every job still ends, none is rendered twice to
completion, and each history is a legal path through the state table.

moto keeps S3 and SQS in memory, so a crash loses every upload and every message not yet
consumed: what saves those jobs is the database (the outbox, the sweeper's recovery of
queued jobs and its liveness checks), not the queues.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from app.domain.job_states import FINAL_STATES, JobStatus, must_change
from devstack.moto_server import FAKE_CREDENTIALS
from devstack.provision import JOBS_QUEUE
from devstack.sample_clip import make_sample_clip
from tests.e2e.test_job_end_to_end import PASSWORD, operator_cli, verify_email
from tests.support.local_stack import LocalStack, start_local_stack

pytestmark = pytest.mark.slow  # about two and a half minutes

QUEUED_TIMEOUT_SECONDS = 30  # the shortest the settings accept
HEARTBEAT_TIMEOUT_SECONDS = 90  # likewise (three missed 30 s heartbeats)
STACK_ENV = {
    "REFRAMER_JOB_SWEEP_INTERVAL_SECONDS": "1",
    "REFRAMER_JOB_QUEUED_TIMEOUT_SECONDS": str(QUEUED_TIMEOUT_SECONDS),
    "REFRAMER_JOB_DISPATCH_ATTEMPTS": "2",
    "REFRAMER_JOB_HEARTBEAT_TIMEOUT_SECONDS": str(HEARTBEAT_TIMEOUT_SECONDS),
    "REFRAMER_JOB_SUBMITTED_TIMEOUT_SECONDS": str(HEARTBEAT_TIMEOUT_SECONDS),
}
# Every job must end within this long of the last crash it went through.
FINAL_BOUND_SECONDS = HEARTBEAT_TIMEOUT_SECONDS + 45
WAIT_SECONDS = 120.0
FINAL = {status.value for status in FINAL_STATES}
MID_PIPELINE_STAGES = {"faces", "saliency", "tracking", "camera", "render"}
SUBMITTED_LINE = re.compile(r"submitted (\S+) \(reframer-([0-9a-f-]{36})\)")
EXITED_LINE = re.compile(r"batch\[(\S+)\] exited with status (\d+)")


@dataclass
class Tracked:
    job_id: str
    kill_point: str
    status_at_kill: str = ""
    first_crash_at: float = 0.0
    last_crash_at: float = 0.0
    final_status: str = ""
    error_code: str | None = None
    seconds_to_final: float = 0.0
    seconds_since_first_crash: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)


class Customer:
    """One customer of the stack, over its real HTTP API and presigned S3 URLs."""

    def __init__(self, stack: LocalStack, email: str) -> None:
        self.stack = stack
        self.email = email
        self.api = httpx.Client(base_url=stack.api_url, timeout=30)

    def sign_up(self) -> None:
        assert self.api.post("/api/auth/register", json={"email": self.email, "password": PASSWORD})
        verify_email(self.api, self.stack.workdir / "mail", self.email)
        assert "business" in operator_cli(self.stack, "set-plan", self.email, "business")
        self.log_in()

    def log_in(self) -> None:
        self.api.headers.pop("Authorization", None)
        tokens = self.api.post(
            "/api/auth/login", json={"email": self.email, "password": PASSWORD}
        ).json()
        self.api.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    def confirmed_job(self, clip: bytes) -> str:
        created = self.api.post(
            "/api/jobs",
            json={
                "filename": "landscape.mp4",
                "content_type": "video/mp4",
                "size_bytes": len(clip),
                "options": {"aspect_ratio": "9:16", "resolution": "480p"},
            },
        )
        assert created.status_code == 201, created.text
        upload = created.json()["upload"]
        assert httpx.put(upload["url"], content=clip, headers=upload["headers"]).is_success
        job_id: str = created.json()["job"]["id"]
        confirmed = self.api.post(f"/api/jobs/{job_id}/confirm")
        assert confirmed.status_code == 202, confirmed.text
        return job_id

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.api.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    def history(self, job_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.api.get(f"/api/jobs/{job_id}/events").json()
        return events


class JobsQueue:
    """The stack's jobs queue on its moto (the same port after each restart)."""

    def __init__(self, stack: LocalStack) -> None:
        self.sqs = boto3.session.Session().client(
            "sqs",
            endpoint_url=f"http://127.0.0.1:{stack.aws_port}",
            region_name=FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def in_flight(self) -> int:
        """Messages the dispatcher has received and not yet deleted."""
        url = self.sqs.get_queue_url(QueueName=JOBS_QUEUE)["QueueUrl"]
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesNotVisible"])


def wait_until(condition: Any, what: str, stack: LocalStack, poll: float = 0.2) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what}\n{stack.log_path.read_text()[-4000:]}"
        time.sleep(poll)


def assert_legal_path(job: Tracked) -> None:
    steps = [(e["from_status"], e["to_status"]) for e in job.history]
    assert steps[0] == (None, "pending_upload"), steps
    for (_, reached), (source, target) in itertools.pairwise(steps):
        assert source == reached, steps
        assert must_change(JobStatus(source), JobStatus(target)), steps
    assert steps[-1][1] == job.final_status
    assert sum(target in FINAL for _, target in steps) == 1, steps


def completed_containers(log: str) -> Counter[str]:
    """Containers that exited 0 (the render finished and was reported), by job id."""
    job_of_batch = {m[1]: m[2] for m in SUBMITTED_LINE.finditer(log)}
    return Counter(job_of_batch[m[1]] for m in EXITED_LINE.finditer(log) if m[2] == "0")


def crash(stack: LocalStack, customer: Customer, tracked: list[Tracked]) -> float:
    killed = stack.crash()
    at = time.monotonic()
    assert killed >= 1
    print(f"crash: {killed} processes killed")
    for job in tracked:
        if not job.final_status:
            job.first_crash_at = job.first_crash_at or at
            job.last_crash_at = at
    return at


def restart(stack: LocalStack, customer: Customer) -> float:
    started = time.monotonic()
    stack.start(STACK_ENV)  # no stale pid, lock or socket may stop it
    customer.log_in()  # the access token is still valid; a fresh one proves logins work
    return time.monotonic() - started


def test_every_job_ends_after_crashes_at_any_point_and_none_renders_twice(
    tmp_path: Path,
) -> None:
    long_clip_path = make_sample_clip(tmp_path / "long.mp4", width=640, height=360, seconds=12)
    short_clip_path = make_sample_clip(tmp_path / "short.mp4", width=640, height=360, seconds=2)
    long_clip, short_clip = long_clip_path.read_bytes(), short_clip_path.read_bytes()
    (tmp_path / "stack").mkdir()
    stack = start_local_stack(tmp_path / "stack", STACK_ENV)
    customer = Customer(stack, "chaos@example.com")
    tracked: list[Tracked] = []
    restarts: list[float] = []
    try:
        customer.sign_up()

        # Crash 1: one job in the middle of its pipeline, another right after its confirm.
        rendering = Tracked(customer.confirmed_job(long_clip), "mid-render")
        tracked.append(rendering)
        wait_until(
            lambda: (
                (customer.job(rendering.job_id).get("progress") or {}).get("stage")
                in MID_PIPELINE_STAGES
            ),
            "the long job never got to the middle of its pipeline",
            stack,
            poll=0.1,
        )
        just_confirmed = Tracked(customer.confirmed_job(short_clip), "right after confirm")
        tracked.append(just_confirmed)
        for job in tracked:
            seen = customer.job(job.job_id)
            stage = (seen.get("progress") or {}).get("stage")
            job.status_at_kill = seen["status"] + (f" ({stage})" if stage else "")
        crash(stack, customer, tracked)
        restarts.append(restart(stack, customer))

        # Crash 2: while the dispatcher holds a job's message.
        dispatching = Tracked(customer.confirmed_job(short_clip), "while the dispatcher runs")
        tracked.append(dispatching)
        queue = JobsQueue(stack)
        # The window is short: should the poll miss it, the kill comes just after it.
        wait_until(
            lambda: queue.in_flight() > 0 or customer.job(dispatching.job_id)["status"] != "queued",
            "the dispatcher never received the job",
            stack,
            poll=0.005,
        )
        dispatching.status_at_kill = customer.job(dispatching.job_id)["status"]
        crash(stack, customer, tracked)
        restarts.append(restart(stack, customer))

        # After the last restart, a new job goes all the way: the system works again.
        fresh = Tracked(customer.confirmed_job(short_clip), "none (after the restarts)")
        fresh.first_crash_at = fresh.last_crash_at = time.monotonic()
        tracked.append(fresh)

        deadline = time.monotonic() + FINAL_BOUND_SECONDS
        while not all(job.final_status for job in tracked):
            assert time.monotonic() < deadline, (
                [(j.kill_point, customer.job(j.job_id)["status"]) for j in tracked],
                stack.log_path.read_text()[-6000:],
            )
            for job in tracked:
                if job.final_status:
                    continue
                current = customer.job(job.job_id)
                if current["status"] in FINAL:
                    job.final_status = current["status"]
                    job.error_code = (current.get("error") or {}).get("code")
                    job.seconds_to_final = time.monotonic() - job.last_crash_at
                    job.seconds_since_first_crash = time.monotonic() - job.first_crash_at
            time.sleep(0.5)

        for job in tracked:
            job.history = customer.history(job.job_id)
            assert_legal_path(job)
            assert job.seconds_to_final <= FINAL_BOUND_SECONDS
        assert fresh.final_status == "succeeded", stack.log_path.read_text()[-4000:]
        log = stack.log_path.read_text()
        completed = completed_containers(log)
        assert all(count <= 1 for count in completed.values()), completed
        assert completed[fresh.job_id] == 1
        assert rendering.final_status == "failed"
        assert rendering.error_code == "container_lost"
    finally:
        customer.api.close()
        stack.stop()
        submissions = Counter(m[2] for m in SUBMITTED_LINE.finditer(stack.log_path.read_text()))
        print(f"restarts took {[round(s, 1) for s in restarts]} s")
        for job in tracked:
            print(
                f"{job.kill_point}: {job.status_at_kill or '-'} at the kill -> "
                f"{job.final_status or '?'} ({job.error_code}) {job.seconds_to_final:.1f} s after "
                f"the last crash ({job.seconds_since_first_crash:.1f} s after the first), "
                f"{submissions.get(job.job_id, 0)} Batch jobs, "
                f"path {[e['to_status'] for e in job.history]}"
            )
