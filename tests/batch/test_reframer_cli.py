"""`python -m batch.reframer`: real footage in, an exact, playable H.264 + AAC MP4 out, and
unreadable input refused with `invalid_media` instead of a stack trace."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from batch.reframer.decode import SAMPLES_PER_SECOND
from tests.batch.conftest import reframe, run_reframer, sample_clip, streams
from tests.batch.synthetic_clips import Path2D, Shot, make_clip


def _top_level_boxes(path: Path) -> list[str]:
    """MP4 box names in file order (faststart puts `moov` before `mdat`)."""
    names, data, offset = [], path.read_bytes(), 0
    while offset + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        names.append(name.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return names


def _duration(path: Path) -> float:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


@pytest.mark.slow
def test_real_footage_comes_out_exact_playable_and_with_its_audio(tmp_path: Path) -> None:
    source = sample_clip("bigbuckbunny.mp4")
    out = tmp_path / "out"
    manifest, result = reframe(source, out, "--aspect", "9:16", "--resolution", "720p")

    video = out / "video.mp4"
    found = {s["codec_type"]: s for s in streams(video)}
    assert (found["video"]["codec_name"], found["video"]["width"], found["video"]["height"]) == (
        "h264",
        720,
        1280,
    )
    assert found["audio"]["codec_name"] == "aac"
    assert abs(_duration(video) - _duration(source)) < 0.2
    boxes = _top_level_boxes(video)
    assert boxes.index("moov") < boxes.index("mdat")
    thumbnail = streams(out / "thumbnail.jpg")[0]
    assert thumbnail["codec_name"] == "mjpeg"
    assert thumbnail["width"] == 720
    # The callback body and the manifest carry what the contract promises.
    assert result["outputs"] == {
        "video": str(video),
        "thumbnail": str(out / "thumbnail.jpg"),
        "manifest": str(out / "manifest.json"),
    }
    for key in ("duration_seconds", "width", "height", "subject_retention", "jitter"):
        assert key in result["metrics"]
    assert set(result["metrics"]["stage_seconds"]) >= {"probe", "decode", "faces", "render"}
    assert len(result["metrics"]["camera_modes"]) == len(manifest["shots"])
    assert len(manifest["crop_path"]["x"]) == manifest["metrics"]["frames"]
    # Every candidate sample was taken or passed over (while a shot was calm).
    metrics = manifest["metrics"]
    step = max(1, round(metrics["fps"] / SAMPLES_PER_SECOND))
    assert metrics["samples"]["taken"] + metrics["samples"]["passed_over"] == -(
        -metrics["frames"] // step
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("clip", "aspect", "size"),
    [
        ("bikes.mp4", "1:1", (480, 480)),
        ("carphone_pristine.mp4", "4:5", (480, 600)),
        ("bigbuckbunny.mp4", "4:5", (480, 600)),
    ],
)
def test_more_real_footage_reframes_to_each_aspect(tmp_path: Path, clip, aspect, size) -> None:
    out = tmp_path / "out"
    _manifest, result = reframe(sample_clip(clip), out, "--aspect", aspect, "--resolution", "480p")

    video = next(s for s in streams(out / "video.mp4") if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == size
    assert (result["metrics"]["width"], result["metrics"]["height"]) == size


def test_a_rotated_phone_video_is_reframed_upright(tmp_path: Path) -> None:
    # Stored 360x640 with a 90-degree display rotation: shown as 640x360 landscape.
    stored = tmp_path / "stored.mp4"
    make_clip(
        stored,
        [Shot(1.0, "coffee", "face", Path2D((0.5, 0.3), (0.5, 0.3)))],
        width=360,
        height=640,
        fps=25,
    )
    rotated = tmp_path / "rotated.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(stored),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            str(rotated),
        ],
        check=True,
    )
    manifest, _result = reframe(
        rotated, tmp_path / "out", "--aspect", "9:16", "--resolution", "480p"
    )

    assert (manifest["input"]["width"], manifest["input"]["height"]) == (640, 360)
    assert manifest["crop_path"]["height"] == 360
    video = next(s for s in streams(tmp_path / "out" / "video.mp4") if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (480, 854)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("noise.mp4", bytes(range(256)) * 64),
        ("notes.mp4", b"this is a text file, not a video\n"),
        ("empty.mp4", b""),
    ],
)
def test_unreadable_input_is_refused_as_invalid_media(tmp_path: Path, name, content) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    result_file = tmp_path / "result.json"

    done = run_reframer(source, "--out", tmp_path / "out", "--result", result_file)

    assert done.returncode == 1
    outcome = json.loads(result_file.read_text())
    assert outcome["code"] == "invalid_media"
    assert outcome["message"]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "video.mp4").exists()


def test_a_truncated_video_and_an_audio_only_file_are_invalid_media(tmp_path: Path) -> None:
    whole = sample_clip("bigbuckbunny.mp4").read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole[: len(whole) // 2])
    audio_only = tmp_path / "tone.m4a"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=1",
            "-c:a",
            "aac",
            str(audio_only),
        ],
        check=True,
    )
    for source in (truncated, audio_only):
        result_file = tmp_path / f"{source.stem}.json"
        done = run_reframer(source, "--out", tmp_path / source.stem, "--result", result_file)
        assert done.returncode == 1, source
        assert json.loads(result_file.read_text())["code"] == "invalid_media", done.stderr
        assert "Traceback" not in done.stderr


def test_bad_options_fail_with_a_pipeline_error(tmp_path: Path) -> None:
    result_file = tmp_path / "result.json"
    done = run_reframer(
        sample_clip("bikes.mp4"), "--out", tmp_path / "out", "--result", result_file,
        "--options", '{"aspect_ratio": "21:9"}',
    )  # fmt: skip

    assert done.returncode == 1
    outcome = json.loads(result_file.read_text())
    assert outcome["code"] == "pipeline_error"
    assert "21:9" in outcome["message"]


def test_the_thumbnail_is_the_rendered_frame_in_the_middle_of_the_subjects_shot(
    short_clip: Path, tmp_path: Path
) -> None:
    # The render writes it as a second output now; it must still be the reframed picture at
    # the middle of the shot with the face (1 s into this 2 s, 25 fps clip: frame 25).
    out = tmp_path / "out"
    manifest, _result = reframe(short_clip, out, "--aspect", "9:16", "--resolution", "480p")

    with av.open(str(out / "video.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    thumbnail = np.asarray(Image.open(out / "thumbnail.jpg").convert("RGB"), dtype=np.float64)
    assert thumbnail.shape == frames[0].shape
    distance = [float(np.abs(thumbnail - frame).mean()) for frame in frames]
    assert manifest["shots"][0]["subject"] == "face"
    assert int(np.argmin(distance)) == 25
    assert distance[25] < 3.0
