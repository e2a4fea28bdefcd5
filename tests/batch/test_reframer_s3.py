"""`python -m batch.reframer s3://... --out s3://...`: the input is downloaded and the outputs
uploaded through boto3 against the endpoint in AWS_ENDPOINT_URL (the harness's moto server),
as the Batch container does it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.moto_server import MotoServer
from devstack.provision import LocalAws
from tests.batch.conftest import run_reframer, streams


def _s3(moto_server: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto_server.endpoint_url)


async def _reframe(moto_server: MotoServer, *args: str | Path) -> tuple[int, dict[str, Any]]:
    result = Path(str(args[-1]))
    done = await asyncio.to_thread(
        run_reframer, *args, env={"AWS_ENDPOINT_URL": moto_server.endpoint_url}
    )
    return done.returncode, json.loads(result.read_text())


@pytest.mark.slow
async def test_an_s3_input_is_reframed_into_an_s3_prefix(
    aws: LocalAws, moto_server: MotoServer, short_clip: Path, tmp_path: Path
) -> None:
    s3 = _s3(moto_server)
    s3.upload_file(str(short_clip), aws.bucket, "uploads/job-1/input.mp4")
    prefix = f"s3://{aws.bucket}/outputs/job-1/"

    status, result = await _reframe(
        moto_server,
        f"s3://{aws.bucket}/uploads/job-1/input.mp4",
        "--out", prefix,
        "--aspect", "1:1", "--resolution", "480p",
        "--result", tmp_path / "result.json",
    )  # fmt: skip

    assert status == 0, result
    assert result["outputs"] == {
        "video": prefix + "video.mp4",
        "thumbnail": prefix + "thumbnail.jpg",
        "manifest": prefix + "manifest.json",
    }
    types = {
        name: s3.head_object(Bucket=aws.bucket, Key=f"outputs/job-1/{name}")["ContentType"]
        for name in ("video.mp4", "thumbnail.jpg", "manifest.json")
    }
    assert types == {
        "video.mp4": "video/mp4",
        "thumbnail.jpg": "image/jpeg",
        "manifest.json": "application/json",
    }
    video = tmp_path / "video.mp4"
    s3.download_file(aws.bucket, "outputs/job-1/video.mp4", str(video))
    found = {s["codec_type"]: s for s in streams(video)}
    assert (found["video"]["width"], found["video"]["height"]) == (480, 480)
    assert "audio" in found
    manifest = json.loads(
        s3.get_object(Bucket=aws.bucket, Key="outputs/job-1/manifest.json")["Body"].read()
    )
    assert manifest["input"]["uri"] == f"s3://{aws.bucket}/uploads/job-1/input.mp4"
    assert manifest["metrics"]["subject_retention"] == result["metrics"]["subject_retention"]


async def test_a_missing_s3_input_fails_as_invalid_media(
    aws: LocalAws, moto_server: MotoServer, tmp_path: Path
) -> None:
    status, result = await _reframe(
        moto_server,
        f"s3://{aws.bucket}/uploads/nobody/input.mp4",
        "--out", f"s3://{aws.bucket}/outputs/nobody/",
        "--result", tmp_path / "result.json",
    )  # fmt: skip

    assert status == 1
    assert result["code"] == "invalid_media"
    assert "does not exist" in result["message"]
    listed = _s3(moto_server).list_objects_v2(Bucket=aws.bucket, Prefix="outputs/nobody/")
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.slow
async def test_a_split_renders_working_objects_on_s3_are_tagged_to_expire_its_outputs_are_not(
    aws: LocalAws, moto_server: MotoServer, short_clip: Path, tmp_path: Path
) -> None:
    """The plan, audio and segments under render-work/ would keep a second copy of the video
    as long as the outputs live: they carry the tag the bucket's lifecycle rule expires
    (infra/template.yaml, expire-render-work)."""
    s3 = _s3(moto_server)
    s3.upload_file(str(short_clip), aws.bucket, "uploads/job-2/input.mp4")
    source, prefix = (
        f"s3://{aws.bucket}/uploads/job-2/input.mp4",
        f"s3://{aws.bucket}/outputs/job-2/",
    )
    steps = [
        ("analyse", "--children", "1", "--segment-seconds", "1"),
        ("segment", "--children", "1", "--child", "0"),
        ("join",),
    ]
    for name, *args in steps:
        status, result = await _reframe(
            moto_server, source, "--out", prefix, "--resolution", "480p", "--step", name, *args,
            "--result", tmp_path / f"{name}.json",
        )  # fmt: skip
        assert status == 0, result

    listed = s3.list_objects_v2(Bucket=aws.bucket, Prefix="outputs/job-2/")["Contents"]
    tags = {
        o["Key"].removeprefix("outputs/job-2/"): {
            t["Key"]: t["Value"]
            for t in s3.get_object_tagging(Bucket=aws.bucket, Key=o["Key"])["TagSet"]
        }
        for o in listed
    }
    work = {key: tag for key, tag in tags.items() if key.startswith("render-work/")}
    assert {"render-work/plan.json", "render-work/segment-00000.mp4"} <= set(work)
    assert all(tag == {"reframer-kind": "render-work"} for tag in work.values())
    assert {key: tags[key] for key in ("video.mp4", "thumbnail.jpg", "manifest.json")} == {
        "video.mp4": {},
        "thumbnail.jpg": {},
        "manifest.json": {},
    }
