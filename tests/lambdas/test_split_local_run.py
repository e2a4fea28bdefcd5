"""`make run`'s path for a long source: the dispatcher submits the analysis, an array job and
the join to the local Batch runner, which runs the children as processes (two at a time) and
then the join; the job succeeds with the whole render's frames and audio."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from app.config import Settings
from app.domain.plans import PlanName
from devstack.lambda_runners import (
    job_dispatcher_environment,
    run_job_dispatcher,
    run_local_batch,
)
from tests.lambdas.conftest import TEST_STOP_GRACE_SECONDS
from tests.support.jobs import JobDriver
from tests.support.users import UserFactory

WAIT_SECONDS = 180.0
FINAL = {"succeeded", "failed", "canceled", "expired"}
FPS = 25
SECONDS_PER_SHOT = 2.4


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A tiny threshold: a 7-second source splits into segments of about two seconds.
    return settings.model_copy(
        update={
            "render_split_threshold_seconds": 5,
            "render_segment_seconds": 2,
            "render_split_max_children": 16,
        }
    )


@pytest.fixture(scope="module")
def three_shots(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Three test patterns cut one after the other, with a tone."""
    path = tmp_path_factory.mktemp("split") / "three.mp4"
    scenes = ("testsrc", "smptebars", "testsrc2")
    inputs = [
        arg
        for scene in scenes
        for arg in ("-f", "lavfi", "-i", f"{scene}=size=320x180:rate={FPS}:d={SECONDS_PER_SHOT}")
    ]
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", *inputs,
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={3 * SECONDS_PER_SHOT}",
            "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1:a=0,format=yuv420p[v]",
            "-map", "[v]", "-map", "3:a", "-c:v", "libx264", "-preset", "ultrafast",
            "-c:a", "aac", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


async def test_a_long_source_renders_through_the_array_job_and_its_join(
    jobs: JobDriver,
    users: UserFactory,
    settings: Settings,
    api_url: str,
    three_shots: bytes,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name, value in job_dispatcher_environment(settings, api_url, "unset").items():
        monkeypatch.setenv(name, value)
    user = await users.create(plan=PlanName.PRO)
    declared = 3 * SECONDS_PER_SHOT
    created = await jobs.create(user, size_bytes=len(three_shots), duration_seconds=declared)
    job_id = created["job"]["id"]
    await jobs.upload(created, three_shots)
    assert (await jobs.confirm(user, job_id)).status_code == 202

    seen: list[int] = []
    async with (
        run_local_batch(settings, stop_grace_seconds=TEST_STOP_GRACE_SECONDS) as batch,
        run_job_dispatcher(settings, api_url, batch),
    ):
        assert await jobs.relay() == 1
        deadline = time.monotonic() + WAIT_SECONDS
        job = await jobs.get(user, job_id)
        while job["status"] not in FINAL:
            assert time.monotonic() < deadline, f"the job never finished: {job}"
            if job["progress"]:
                seen.append(job["progress"]["percent"])
            await asyncio.sleep(0.3)
            job = await jobs.get(user, job_id)
        assert job["status"] == "succeeded", job
        submissions = {s.job_name.rsplit("-", 1)[1]: s for s in batch.submissions()}

    # Three Batch jobs: the analysis (the job's own Batch job), the array, the join.
    assert set(submissions) == {"analyse", "segments", "join"}
    analyse, array, join = submissions["analyse"], submissions["segments"], submissions["join"]
    assert array.array_size == 4  # ceil(7.2 s / 2 s)
    assert array.depends_on == [analyse.job_id]
    assert join.depends_on == [array.job_id]
    assert [s.status for s in (analyse, array, join)] == ["SUCCEEDED"] * 3
    assert sorted(array.processes) == [0, 1, 2, 3]  # every child ran, as a process
    assert all(p.returncode == 0 for p in array.processes.values())
    assert seen == sorted(seen)  # progress only ever went forward

    # The output is the whole source: every frame, and its audio.
    shown = await jobs.get(user, job_id)
    assert shown["progress"] == {"stage": "outputs", "percent": 100}
    key = f"outputs/{job_id}/video.mp4"
    video = tmp_path / "video.mp4"
    s3 = boto3.client("s3", endpoint_url=settings.aws_endpoint_url, region_name="us-east-1")
    await asyncio.to_thread(s3.download_file, settings.s3_bucket, key, str(video))
    probed = json.loads(
        subprocess.run(
            [
                "ffprobe", "-v", "error", "-count_frames", "-print_format", "json",
                "-show_streams", str(video),
            ],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    kinds = {s["codec_type"]: s for s in probed["streams"]}
    assert int(kinds["video"]["nb_read_frames"]) == round(declared * FPS)
    assert float(kinds["audio"]["duration"]) == pytest.approx(declared, abs=0.05)
    manifest = json.loads(
        (
            await asyncio.to_thread(
                s3.get_object, Bucket=settings.s3_bucket, Key=f"outputs/{job_id}/manifest.json"
            )
        )["Body"].read()
    )
    assert manifest["metrics"]["render_split"]["segments"] == 3
    assert manifest["metrics"]["render_split"]["children"] == 4
