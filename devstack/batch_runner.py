"""The local stand-in for AWS Batch: `SubmitJob` starts `docker-entrypoint.sh` as a process.

A small HTTP server on loopback speaks the part of the Batch REST API the job_dispatcher
uses (`POST /v1/submitjob`, and `/v1/describejobs` to look, JSON); boto3 reaches it
through `AWS_ENDPOINT_URL_BATCH`. Each submitted job runs the image's entrypoint with the
environment Batch would give the container: the job's overrides, `AWS_BATCH_JOB_ID` and
friends, moto as the AWS endpoint with fake credentials, and this interpreter as `PYTHON`
(so the pipeline runs from the project's virtualenv). Output is logged as `batch[<job id>]`.

As Batch, a job with `dependsOn` waits for those jobs and fails without running if one of
them failed; an array job (`arrayProperties.size`) runs its children as processes, two at a
time, each with `AWS_BATCH_JOB_ARRAY_INDEX` and the id `<array job id>:<index>`, and succeeds
once every child did (a long source's split render: analysis, segments, join).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devstack.moto_server import FAKE_CREDENTIALS, free_port

logger = logging.getLogger("batch")

REPO_ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = REPO_ROOT / "docker-entrypoint.sh"
LOCAL_ACCOUNT = "000000000000"
# Batch gives a container 30 s between SIGTERM and SIGKILL.
DEFAULT_STOP_GRACE_SECONDS = 30.0
# What a container needs from the host to find its tools (curl, ffmpeg) and a scratch folder.
HOST_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
# Array children running at once here (Batch runs them on as many hosts as it has).
ARRAY_CHILDREN_AT_ONCE = 2
MAX_ARRAY_SIZE = 10_000


class BadRequest(ValueError):
    pass


@dataclass
class LocalBatchJob:
    """One submission: a container, or with `array_size` that many children (array job)."""

    job_id: str
    job_name: str
    job_queue: str
    job_definition: str
    environment: dict[str, str]
    array_size: int | None = None
    depends_on: list[str] = field(default_factory=list)
    # The container's process, or each child's by its index; none until dependencies end.
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    state: str = "PENDING"
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def arn(self) -> str:
        return f"arn:aws:batch:local:{LOCAL_ACCOUNT}:job/{self.job_id}"

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The container's process (an array job's first child's)."""
        return self.processes.get(0)

    @property
    def status(self) -> str:
        return self.state

    def end(self, state: str) -> None:
        self.state = state
        self.finished.set()

    def describe(self) -> dict[str, Any]:
        container: dict[str, Any] = {
            "environment": [{"name": k, "value": v} for k, v in self.environment.items()]
        }
        process = self.process
        if self.array_size is None and process is not None and process.poll() is not None:
            container["exitCode"] = process.returncode
        description: dict[str, Any] = {
            "jobArn": self.arn,
            "jobName": self.job_name,
            "jobId": self.job_id,
            "jobQueue": self.job_queue,
            "jobDefinition": self.job_definition,
            "status": self.status,
            "container": container,
            "dependsOn": [{"jobId": j} for j in self.depends_on],
        }
        if self.array_size is not None:
            codes = [p.poll() for p in self.processes.values()]
            description["arrayProperties"] = {
                "size": self.array_size,
                "statusSummary": {
                    "SUCCEEDED": sum(c == 0 for c in codes),
                    "FAILED": sum(c not in (0, None) for c in codes),
                    "RUNNING": sum(c is None for c in codes),
                },
            }
        return description


def _required_text(request: dict[str, Any], member: str) -> str:
    value = request.get(member)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{member} is required")
    return value


def _array_size(request: dict[str, Any]) -> int | None:
    size = (request.get("arrayProperties") or {}).get("size")
    if size is None:
        return None
    if not isinstance(size, int) or not 2 <= size <= MAX_ARRAY_SIZE:
        raise BadRequest(f"arrayProperties.size must be 2 to {MAX_ARRAY_SIZE}")
    return size


def _dependencies(request: dict[str, Any]) -> list[str]:
    found = request.get("dependsOn") or []
    if not isinstance(found, list) or not all(
        isinstance(d, dict) and isinstance(d.get("jobId"), str) for d in found
    ):
        raise BadRequest("dependsOn must be a list of {jobId}")
    return [d["jobId"] for d in found]


def _environment_overrides(request: dict[str, Any]) -> dict[str, str]:
    overrides = (request.get("containerOverrides") or {}).get("environment") or []
    if not isinstance(overrides, list):
        raise BadRequest("containerOverrides.environment must be a list")
    environment: dict[str, str] = {}
    for item in overrides:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise BadRequest("each environment override needs a name")
        environment[item["name"]] = str(item.get("value", ""))
    return environment


@dataclass
class LocalBatch:
    """Create it with `start_local_batch(...)`; `stop()` ends the server and every child."""

    aws_endpoint_url: str
    region: str = "us-east-1"
    port: int = field(default_factory=free_port)
    stop_grace_seconds: float = DEFAULT_STOP_GRACE_SECONDS
    entrypoint: Path = ENTRYPOINT
    jobs: dict[str, LocalBatchJob] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _log_threads: list[threading.Thread] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _child_slots: threading.Semaphore = field(
        default_factory=lambda: threading.Semaphore(ARRAY_CHILDREN_AT_ONCE)
    )

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def submissions(self) -> list[LocalBatchJob]:
        with self._lock:
            return list(self.jobs.values())

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="local-batch", daemon=True).start()
        self._server = server

    def container_environment(
        self, job_id: str, job_queue: str, overrides: dict[str, str]
    ) -> dict[str, str]:
        environment = {name: os.environ[name] for name in HOST_VARIABLES if name in os.environ}
        environment.update(FAKE_CREDENTIALS)
        environment.update(
            {
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ENDPOINT_URL": self.aws_endpoint_url,
                "AWS_BATCH_JOB_ID": job_id,
                "AWS_BATCH_JQ_NAME": job_queue,
                "AWS_BATCH_JOB_ATTEMPT": "1",
                "PYTHON": sys.executable,
                "PYTHONPATH": str(REPO_ROOT),
                "PYTHONUNBUFFERED": "1",
            }
        )
        environment.update(overrides)
        return environment

    def submit(self, request: dict[str, Any]) -> dict[str, str]:
        name = _required_text(request, "jobName")
        queue = _required_text(request, "jobQueue")
        definition = _required_text(request, "jobDefinition")
        size, depends_on = _array_size(request), _dependencies(request)
        job_id = str(uuid.uuid4())
        environment = self.container_environment(job_id, queue, _environment_overrides(request))
        job = LocalBatchJob(job_id, name, queue, definition, environment, size, depends_on)
        if not depends_on:
            job.state = "RUNNING"  # Batch's queue wait is nil here
        with self._lock:
            unknown = [j for j in depends_on if j not in self.jobs]
            if unknown:
                raise BadRequest(f"dependsOn names unknown jobs: {', '.join(unknown)}")
            self.jobs[job_id] = job
        runner = threading.Thread(target=self._run, args=(job,), name=f"batch-run-{job_id}")
        runner.daemon = True
        runner.start()
        logger.info("submitted %s (%s) on %s", job_id, name, queue)
        return {"jobArn": job.arn, "jobName": name, "jobId": job_id}

    def _run(self, job: LocalBatchJob) -> None:
        """As Batch: wait for the dependencies, fail without running if one failed, then run
        the container, or the array's children (two at a time)."""
        for dependency in job.depends_on:
            with self._lock:
                before = self.jobs[dependency]
            while not before.finished.wait(0.2):
                if self._stopping.is_set():
                    return
            if before.state != "SUCCEEDED":
                logger.info("batch[%s] dependency %s failed: not run", job.job_id, dependency)
                job.end("FAILED")
                return
        if job.array_size is None:
            process = self._start(job, 0, job.environment)
            job.state = "RUNNING" if process is not None else job.state
            job.end("SUCCEEDED" if process is not None and process.wait() == 0 else "FAILED")
            return
        job.state = "RUNNING"
        codes: list[int] = []
        for index in range(job.array_size):
            self._child_slots.acquire()
            environment = {
                **job.environment,
                "AWS_BATCH_JOB_ID": f"{job.job_id}:{index}",
                "AWS_BATCH_JOB_ARRAY_INDEX": str(index),
            }
            process = self._start(job, index, environment)
            if process is None:
                self._child_slots.release()
                codes.append(-1)
                break
            waiter = threading.Thread(target=self._release_after, args=(process,), daemon=True)
            waiter.start()
        codes += [p.wait() for p in list(job.processes.values())]
        job.end("SUCCEEDED" if all(c == 0 for c in codes) else "FAILED")

    def _release_after(self, process: subprocess.Popen[bytes]) -> None:
        process.wait()
        self._child_slots.release()

    def _start(
        self, job: LocalBatchJob, index: int, environment: dict[str, str]
    ) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            process = subprocess.Popen(  # noqa: S603 - our own script, no shell
                ["/usr/bin/env", "bash", str(self.entrypoint)],
                cwd=REPO_ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # A group of its own: stopping the job reaches the pipeline under the entrypoint.
                start_new_session=True,
            )
            job.processes[index] = process
        label = environment["AWS_BATCH_JOB_ID"]
        reader = threading.Thread(target=_log_output, args=(label, process), name=f"batch-{label}")
        reader.daemon = True
        reader.start()
        self._log_threads.append(reader)
        return process

    def describe(self, job_ids: list[str]) -> dict[str, Any]:
        with self._lock:
            found = [self.jobs[j].describe() for j in job_ids if j in self.jobs]
        return {"jobs": found}

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()  # nothing waiting on a dependency starts from now on
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for job in self.submissions():
            for process in list(job.processes.values()):
                _stop_process(job.job_id, process, self.stop_grace_seconds)
        for reader in self._log_threads:
            reader.join(timeout=5)


def _stop_process(job_id: str, process: subprocess.Popen[bytes], grace_seconds: float) -> None:
    """What Batch does: SIGTERM, and SIGKILL to whatever is left after the grace period."""
    if process.poll() is None:
        try:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            logger.warning("batch[%s] ignored SIGTERM; killing it", job_id)
        except ProcessLookupError:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _log_output(label: str, process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        logger.info("batch[%s] %s", label, raw.decode(errors="replace").rstrip())
    code = process.wait()
    logger.info("batch[%s] exited with status %s", label, code)


def _handler_for(batch: LocalBatch) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(request, dict):
                    raise BadRequest("the body must be a JSON object")
                action = self.path.split("?", 1)[0].rstrip("/")
                if action == "/v1/submitjob":
                    self._answer(HTTPStatus.OK, batch.submit(request))
                elif action == "/v1/describejobs":
                    self._answer(HTTPStatus.OK, batch.describe(list(request.get("jobs") or [])))
                else:
                    self._answer(
                        HTTPStatus.NOT_FOUND,
                        {"__type": "ClientException", "message": f"{action} is not emulated"},
                    )
            except (BadRequest, ValueError) as exc:
                self._answer(
                    HTTPStatus.BAD_REQUEST, {"__type": "ClientException", "message": str(exc)}
                )

        def _answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            if status != HTTPStatus.OK:
                self.send_header("x-amzn-ErrorType", str(body.get("__type", "")))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("local batch: " + format, *args)

    return Handler


def start_local_batch(
    aws_endpoint_url: str,
    *,
    region: str = "us-east-1",
    port: int | None = None,
    stop_grace_seconds: float = DEFAULT_STOP_GRACE_SECONDS,
) -> LocalBatch:
    batch = LocalBatch(
        aws_endpoint_url=aws_endpoint_url,
        region=region,
        port=port or free_port(),
        stop_grace_seconds=stop_grace_seconds,
    )
    batch.start()
    return batch
