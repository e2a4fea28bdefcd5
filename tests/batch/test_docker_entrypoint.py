"""docker-entrypoint.sh run directly, as the local runner runs it, against an HTTP receiver on
loopback that plays the API's internal callback endpoints."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.moto_server import MotoServer
from devstack.provision import LocalAws
from tests.batch.conftest import REPO
from tests.batch.synthetic_clips import Path2D, Shot, make_clip

TOKEN = "job-token-0123456789"
JOB_ID = "6f1c1bde-9a4e-4a53-a8b6-3f0d2c0f4e11"
STAGES = [
    "probe",
    "decode",
    "shots",
    "faces",
    "saliency",
    "tracking",
    "camera",
    "render",
    "outputs",
]


@dataclass
class Receiver:
    """Records every callback; answers from `plan` (action -> statuses to give first)."""

    url: str
    calls: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    plan: dict[str, list[int]] = field(default_factory=dict)
    always: dict[str, int] = field(default_factory=dict)

    def actions(self) -> list[str]:
        return [action for action, _headers, _body in self.calls]

    def bodies(self, action: str) -> list[Any]:
        return [body for name, _headers, body in self.calls if name == action]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            action = self.path.rsplit("/", 1)[-1]
            state.calls.append((action, dict(self.headers), json.loads(raw or b"null")))
            queued = state.plan.get(action)
            status = queued.pop(0) if queued else state.always.get(action, 200)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/internal/jobs/{JOB_ID}"
    yield state
    server.shutdown()
    server.server_close()


def _environment(receiver: Receiver, source: Path, prefix: Path | str) -> dict[str, str]:
    return {
        **os.environ,
        "JOB_ID": JOB_ID,
        "INPUT_URI": str(source),
        "OUTPUT_PREFIX": str(prefix),
        "OPTIONS": json.dumps({"aspect_ratio": "9:16", "resolution": "480p"}),
        "CALLBACK_URL": receiver.url,
        "CALLBACK_TOKEN": TOKEN,
        "PYTHON": sys.executable,
    }


def _run(
    receiver: Receiver, source: Path, prefix: Path | str, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "docker-entrypoint.sh")],
        cwd=REPO,
        env={**_environment(receiver, source, prefix), **extra},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _assert_authenticated(receiver: Receiver) -> None:
    for _action, headers, _body in receiver.calls:
        assert headers["Authorization"] == f"Bearer {TOKEN}"
        assert headers["Content-Type"] == "application/json"


def _s3_outputs(aws: LocalAws, moto_server: MotoServer) -> tuple[str, dict[str, str]]:
    """An S3 output prefix (the complete callback's outputs are S3 URIs, as in production)
    and the environment that reaches it (moto)."""
    return f"s3://{aws.bucket}/outputs/{JOB_ID}/", {"AWS_ENDPOINT_URL": moto_server.endpoint_url}


@pytest.mark.slow
def test_a_job_posts_start_progress_per_stage_and_complete(
    receiver, short_clip, aws: LocalAws, moto_server: MotoServer
) -> None:
    # A flaky API: the first start and the first complete fail with 503 and are retried.
    receiver.plan = {"start": [503], "complete": [500]}
    prefix, s3_env = _s3_outputs(aws, moto_server)

    done = _run(receiver, short_clip, prefix, AWS_BATCH_JOB_ID="batch-7e1f", **s3_env)

    assert done.returncode == 0, done.stderr
    actions = receiver.actions()
    assert actions[:2] == ["start", "start"]
    assert actions[-2:] == ["complete", "complete"]
    assert set(actions[2:-2]) == {"progress"}
    assert receiver.bodies("start")[0] == {"batch_job_id": "batch-7e1f"}
    progress = receiver.bodies("progress")
    assert [p["stage"] for p in progress if p["stage"] != "decode" and p["stage"] != "render"] == [
        s for s in STAGES if s not in ("decode", "render")
    ]
    assert {p["stage"] for p in progress} == set(STAGES)
    percents = [p["percent"] for p in progress]
    assert percents == sorted(percents)
    assert percents[0] >= 0
    assert percents[-1] == 100
    complete = receiver.bodies("complete")[-1]
    assert complete["outputs"] == {
        "video": f"{prefix}video.mp4",
        "thumbnail": f"{prefix}thumbnail.jpg",
        "manifest": f"{prefix}manifest.json",
    }
    for key in (
        "duration_seconds",
        "width",
        "height",
        "subject_retention",
        "jitter",
        "wall_seconds",
        "stage_seconds",
        "camera_modes",
    ):
        assert key in complete["metrics"]
    assert (complete["metrics"]["width"], complete["metrics"]["height"]) == (480, 854)
    stored = boto3.client("s3", endpoint_url=moto_server.endpoint_url).list_objects_v2(
        Bucket=aws.bucket, Prefix=f"outputs/{JOB_ID}/"
    )
    assert {o["Key"].rsplit("/", 1)[-1] for o in stored["Contents"]} >= {
        "video.mp4",
        "thumbnail.jpg",
        "manifest.json",
    }
    _assert_authenticated(receiver)


def test_a_job_another_container_runs_is_left_alone(receiver, short_clip, tmp_path) -> None:
    receiver.always = {"start": 409}
    prefix = tmp_path / "outputs"

    done = _run(receiver, short_clip, prefix)

    assert done.returncode == 0, done.stderr
    assert receiver.actions() == ["start"]
    assert not prefix.exists()


def test_a_refused_token_stops_before_any_work(receiver, short_clip, tmp_path) -> None:
    receiver.always = {"start": 401}

    done = _run(receiver, short_clip, tmp_path / "outputs")

    assert done.returncode != 0
    assert receiver.actions() == ["start"]


def test_a_local_run_names_itself_in_start(receiver, tmp_path) -> None:
    receiver.always = {"start": 409}
    done = _run(receiver, tmp_path / "missing.mp4", tmp_path / "outputs")

    assert done.returncode == 0
    assert receiver.bodies("start")[0]["batch_job_id"].startswith("local-")


def test_a_corrupt_file_fails_as_invalid_media(receiver, tmp_path) -> None:
    corrupt = tmp_path / "upload.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096))

    done = _run(receiver, corrupt, tmp_path / "outputs")

    assert done.returncode != 0
    assert receiver.actions()[0] == "start"
    assert receiver.actions()[-1] == "fail"
    failure = receiver.bodies("fail")[0]
    assert failure["code"] == "invalid_media"
    assert failure["message"]
    assert "Traceback" not in failure["message"]
    assert "Traceback" not in done.stderr
    _assert_authenticated(receiver)


def test_progress_the_api_refuses_does_not_stop_the_job(
    receiver, short_clip, aws: LocalAws, moto_server: MotoServer
) -> None:
    receiver.always = {"progress": 400}
    prefix, s3_env = _s3_outputs(aws, moto_server)

    done = _run(receiver, short_clip, prefix, **s3_env)

    assert done.returncode == 0, done.stderr
    assert receiver.actions()[-1] == "complete"


def _pipeline_running(marker: str) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker in cmdline.read_bytes().decode(errors="replace"):
                return True
        except OSError:
            continue
    return False


def _eight_second_clip(path: Path) -> Path:
    make_clip(
        path,
        [Shot(8.0, "rocket", "face", Path2D((0.2, 0.5), (0.8, 0.5)))],
        width=640,
        height=360,
        fps=25,
    )
    return path


def _start_entrypoint(
    receiver: Receiver, source: Path, outputs: Path, **extra_env: str
) -> subprocess.Popen[str]:
    """The entrypoint in the background, for tests that act while it runs."""
    return subprocess.Popen(
        [str(REPO / "docker-entrypoint.sh")],
        cwd=REPO,
        env={**_environment(receiver, source, outputs), **extra_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_sigterm_reports_a_failure_and_stops_the_pipeline(receiver, tmp_path) -> None:
    # Long enough that it is still running when the signal comes.
    source = _eight_second_clip(tmp_path / "sigterm-long-input.mp4")
    process = _start_entrypoint(receiver, source, tmp_path / "outputs")
    deadline = time.monotonic() + 120
    while "progress" not in receiver.actions() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "progress" in receiver.actions()

    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=60)

    assert status != 0
    assert receiver.actions()[-1] == "fail"
    assert receiver.bodies("fail")[0]["code"] == "timeout"
    assert "complete" not in receiver.actions()
    assert not _pipeline_running(source.name)


@pytest.mark.slow
def test_a_long_stage_is_covered_by_heartbeats_that_stop_with_the_job(receiver, tmp_path) -> None:
    source = _eight_second_clip(tmp_path / "heartbeat-long-input.mp4")
    process = _start_entrypoint(
        receiver, source, tmp_path / "outputs", HEARTBEAT_INTERVAL_SECONDS="1"
    )

    def repeated() -> bool:
        # The latest progress posted again while the stage still runs.
        progress = receiver.bodies("progress")
        return any(a == b for a, b in itertools.pairwise(progress))

    deadline = time.monotonic() + 120
    while not repeated() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert repeated(), receiver.bodies("progress")

    process.send_signal(signal.SIGTERM)
    # communicate() returns only once nothing holds the output open: no heartbeat left behind.
    _out, err = process.communicate(timeout=60)
    calls = len(receiver.calls)
    time.sleep(1.5)

    assert process.returncode != 0, err
    assert receiver.actions()[-1] == "fail"
    assert len(receiver.calls) == calls
    _assert_authenticated(receiver)


def test_a_heartbeat_interval_that_is_not_a_number_is_refused(receiver, tmp_path) -> None:
    done = _run(
        receiver, tmp_path / "missing.mp4", tmp_path / "outputs", HEARTBEAT_INTERVAL_SECONDS="0.5"
    )

    assert done.returncode == 2
    assert "HEARTBEAT_INTERVAL_SECONDS" in done.stderr
    assert receiver.calls == []


def test_a_result_outside_the_contract_is_reported_as_a_pipeline_error(receiver, tmp_path) -> None:
    """The pipeline's result is checked against the API's model before it is sent: outputs
    outside S3 would be refused by the API and leave the job running until the sweeper."""
    done = _run(
        receiver,
        tmp_path / "missing.mp4",
        tmp_path / "outputs",
        PYTHON=str(_fake_pipeline(tmp_path, {"outputs": {"video": "/tmp/v.mp4"}, "metrics": {}})),
    )

    assert done.returncode != 0
    assert receiver.actions()[-1] == "fail"
    failure = receiver.bodies("fail")[-1]
    assert failure["code"] == "pipeline_error"
    assert "does not fit the contract" in failure["message"]
    assert "complete" not in receiver.actions()


def test_a_failure_message_with_control_characters_still_reaches_the_api(
    receiver, tmp_path
) -> None:
    message = 'line one\nline "two"\x01\ttab'
    done = _run(
        receiver,
        tmp_path / "missing.mp4",
        tmp_path / "outputs",
        PYTHON=str(_fake_pipeline(tmp_path, {"code": "invalid_media", "message": message})),
    )

    assert done.returncode != 0
    assert receiver.bodies("fail")[-1] == {"code": "invalid_media", "message": message}


def _fake_pipeline(tmp_path: Path, outcome: dict[str, Any]) -> Path:
    """A PYTHON whose `-m batch.reframer` writes `outcome` as its result (and whose other
    modules, `contracts.callback_body` among them, are the real interpreter's)."""
    script = tmp_path / "python"
    script.write_text(
        "#!/usr/bin/env bash\n"
        'if [[ "$2" == batch.reframer ]]; then\n'
        '    while [[ $# -gt 0 && "$1" != --result ]]; do shift; done\n'
        f"    printf '%s' {json.dumps(json.dumps(outcome))!s} > \"$2\"\n"
        "    exit 1\n"
        "fi\n"
        f'exec {sys.executable} "$@"\n'
    )
    script.chmod(0o755)
    return script


def test_the_plans_source_limit_reaches_the_pipeline_and_its_refusal_the_api(
    receiver, short_clip: Path, tmp_path: Path
) -> None:
    """MAX_SOURCE_SECONDS (the dispatch spec's `max_source_seconds`) bounds the source: the
    2-second clip over a 1-second limit fails with source_too_long and its measured length,
    which the API needs to refund the job."""
    done = _run(receiver, short_clip, tmp_path / "outputs", MAX_SOURCE_SECONDS="1")

    assert done.returncode != 0
    assert receiver.actions()[-1] == "fail"
    failure = receiver.bodies("fail")[-1]
    assert failure["code"] == "source_too_long"
    assert abs(failure["duration_seconds"] - 2.0) < 0.1
    assert "complete" not in receiver.actions()
    assert not (tmp_path / "outputs" / "video.mp4").exists()


@pytest.mark.slow
def test_a_split_render_runs_as_analysis_children_and_join_each_reporting_its_part(
    receiver, short_clip, aws: LocalAws, moto_server: MotoServer
) -> None:
    prefix, s3_env = _s3_outputs(aws, moto_server)
    children = {"RENDER_CHILDREN": "2", **s3_env}

    analysed = _run(
        receiver, short_clip, prefix, RENDER_STEP="analyse", SEGMENT_SECONDS="1",
        AWS_BATCH_JOB_ID="batch-analyse", **children,
    )  # fmt: skip
    assert analysed.returncode == 0, analysed.stderr
    # The analysis starts the job and reports up to its camera path; it completes nothing.
    assert receiver.actions()[0] == "start"
    assert receiver.bodies("start") == [{"batch_job_id": "batch-analyse"}]
    assert {"complete", "fail"}.isdisjoint(receiver.actions())
    assert max(body["percent"] for body in receiver.bodies("progress")) == 45
    # The children may wait for capacity: the analysis says it handed the render on.
    assert receiver.bodies("progress")[-1]["handed_off"] is True
    assert not any(b.get("handed_off") for b in receiver.bodies("progress")[:-1])

    for index in ("0", "1"):
        receiver.calls.clear()
        child = _run(
            receiver, short_clip, prefix, RENDER_STEP="segment",
            AWS_BATCH_JOB_ID=f"batch-array:{index}", AWS_BATCH_JOB_ARRAY_INDEX=index, **children,
        )  # fmt: skip
        assert child.returncode == 0, child.stderr
        # A child never starts the job again; its progress names it among its siblings.
        assert set(receiver.actions()) == {"progress"}
        bodies = receiver.bodies("progress")
        assert all(b["child"] == int(index) and b["children"] == 2 for b in bodies)
        # Its last word hands the render on: the join may wait for capacity.
        last = {"stage": "render", "percent": 95, "child": int(index), "children": 2}
        assert bodies[-1] == {**last, "handed_off": True}
        assert bodies[-2] == last

    receiver.calls.clear()
    joined = _run(receiver, short_clip, prefix, RENDER_STEP="join", **s3_env)
    assert joined.returncode == 0, joined.stderr
    assert "start" not in receiver.actions()
    [complete] = receiver.bodies("complete")
    assert complete["outputs"]["video"] == prefix + "video.mp4"
    assert complete["metrics"]["render_split"]["segments"] == 2
    _assert_authenticated(receiver)


def test_a_failed_child_is_left_to_batchs_retry_then_fails_the_job_as_retryable(
    receiver, short_clip, tmp_path
) -> None:
    # No analysis ran under this prefix: the child has nothing to render and fails.
    child = {"RENDER_STEP": "segment", "RENDER_CHILDREN": "2", "AWS_BATCH_JOB_ARRAY_INDEX": "0"}
    early = _run(
        receiver, short_clip, tmp_path, AWS_BATCH_JOB_ATTEMPT="1", RENDER_ATTEMPTS="3", **child
    )
    assert early.returncode == 75  # the segment job definition retries on it
    assert "fail" not in receiver.actions()

    last = _run(
        receiver, short_clip, tmp_path, AWS_BATCH_JOB_ATTEMPT="3", RENDER_ATTEMPTS="3", **child
    )
    assert last.returncode == 1
    [failed] = receiver.bodies("fail")
    assert failed["code"] == "segment_failed"
    assert "render plan" in failed["message"]
    assert "start" not in receiver.actions()


def test_an_unknown_render_step_is_refused_before_any_callback(
    receiver, short_clip, tmp_path
) -> None:
    done = _run(receiver, short_clip, tmp_path, RENDER_STEP="everything")
    assert done.returncode == 2
    assert "RENDER_STEP" in done.stderr
    assert receiver.calls == []
