"""The local stand-in for AWS Batch: `SubmitJob` starts `docker-entrypoint.sh` as a process.

A small HTTP server on loopback speaks the part of the Batch REST API the job_dispatcher
uses (`POST /v1/submitjob`, and `/v1/describejobs` to look, JSON); boto3 reaches it
through `AWS_ENDPOINT_URL_BATCH`. Each submitted job runs the image's entrypoint with the
environment Batch would give the container: the job's overrides, `AWS_BATCH_JOB_ID` and
friends, moto as the AWS endpoint with fake credentials, and this interpreter as `PYTHON`
(so the pipeline runs from the project's virtualenv). Output is logged as `batch[<job id>]`.
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


class BadRequest(ValueError):
    pass


@dataclass
class LocalBatchJob:
    job_id: str
    job_name: str
    job_queue: str
    job_definition: str
    environment: dict[str, str]
    process: subprocess.Popen[bytes]

    @property
    def arn(self) -> str:
        return f"arn:aws:batch:local:{LOCAL_ACCOUNT}:job/{self.job_id}"

    @property
    def status(self) -> str:
        code = self.process.poll()
        if code is None:
            return "RUNNING"
        return "SUCCEEDED" if code == 0 else "FAILED"

    def describe(self) -> dict[str, Any]:
        code = self.process.poll()
        container: dict[str, Any] = {
            "environment": [{"name": k, "value": v} for k, v in self.environment.items()]
        }
        if code is not None:
            container["exitCode"] = code
        description: dict[str, Any] = {
            "jobArn": self.arn,
            "jobName": self.job_name,
            "jobId": self.job_id,
            "jobQueue": self.job_queue,
            "jobDefinition": self.job_definition,
            "status": self.status,
            "container": container,
        }
        return description


def _required_text(request: dict[str, Any], member: str) -> str:
    value = request.get(member)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{member} is required")
    return value


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
        job_id = str(uuid.uuid4())
        environment = self.container_environment(job_id, queue, _environment_overrides(request))
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
        job = LocalBatchJob(job_id, name, queue, definition, environment, process)
        with self._lock:
            self.jobs[job_id] = job
        reader = threading.Thread(target=_log_output, args=(job,), name=f"batch-{job_id}")
        reader.daemon = True
        reader.start()
        self._log_threads.append(reader)
        logger.info("submitted %s (%s) on %s", job_id, name, queue)
        return {"jobArn": job.arn, "jobName": name, "jobId": job_id}

    def describe(self, job_ids: list[str]) -> dict[str, Any]:
        with self._lock:
            found = [self.jobs[j].describe() for j in job_ids if j in self.jobs]
        return {"jobs": found}

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for job in self.submissions():
            _stop_process(job, self.stop_grace_seconds)
        for reader in self._log_threads:
            reader.join(timeout=5)


def _stop_process(job: LocalBatchJob, grace_seconds: float) -> None:
    """What Batch does: SIGTERM, and SIGKILL to whatever is left after the grace period."""
    process = job.process
    if process.poll() is None:
        try:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            logger.warning("batch[%s] ignored SIGTERM; killing it", job.job_id)
        except ProcessLookupError:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _log_output(job: LocalBatchJob) -> None:
    assert job.process.stdout is not None
    for raw in job.process.stdout:
        logger.info("batch[%s] %s", job.job_id, raw.decode(errors="replace").rstrip())
    code = job.process.wait()
    logger.info("batch[%s] exited with status %s", job.job_id, code)


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
