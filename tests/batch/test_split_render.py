"""A long source's split render through the command line, step by step as the Batch jobs run
it (analyse, each array child, join), against the one-container render of the same source:
the same frames, duration and audio, in sync at every join."""

from __future__ import annotations

import itertools
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from batch.reframer.segments import plan_segments
from tests.batch.conftest import reframe, run_reframer
from tests.batch.synthetic_clips import Path2D, Shot, make_clip

FPS = 25
SEGMENT_SECONDS = "2"
CHILDREN = 2
OPTIONS = ("--aspect", "9:16", "--resolution", "480p")


@pytest.fixture(scope="module")
def three_shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """7.2 s in three cut shots with a tone: three segments of about two seconds."""
    path = tmp_path_factory.mktemp("split-clip") / "three-shots.mp4"
    make_clip(
        path,
        [
            Shot(2.4, "coffee", "face", Path2D((0.3, 0.5), (0.3, 0.5))),
            Shot(2.4, "rocket", "face", Path2D((0.7, 0.5), (0.4, 0.5))),
            Shot(2.4, "hubble", "ball", Path2D((0.2, 0.4), (0.8, 0.6))),
        ],
        width=640,
        height=360,
        fps=FPS,
        preset="ultrafast",
    )
    return path


@dataclass(frozen=True)
class Step:
    result: dict[str, Any]
    stdout: str
    returncode: int


def step(source: Path, out: Path, name: str, *args: str, tag: str = "") -> Step:
    result = out.parent / f"{out.name}-{name}{tag}.json"
    done = run_reframer(
        source, "--out", out, *OPTIONS, "--step", name, *args, "--progress-lines",
        "--result", result,
    )  # fmt: skip
    return Step(json.loads(result.read_text()), done.stdout, done.returncode)


def child(source: Path, out: Path, index: int, tag: str = "") -> Step:
    done = step(source, out, "segment", "--children", str(CHILDREN), "--child", str(index), tag=tag)
    assert done.returncode == 0, done.result
    return done


@pytest.fixture(scope="module")
def whole(three_shots: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "out"
    reframe(three_shots, out, *OPTIONS)
    return out / "video.mp4"


@pytest.fixture(scope="module")
def split(three_shots: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("split") / "out"
    analysed = step(
        three_shots, out, "analyse", "--children", str(CHILDREN), "--segment-seconds",
        SEGMENT_SECONDS,
    )  # fmt: skip
    assert analysed.returncode == 0, analysed.result
    assert analysed.result["metrics"]["render_split"] == {"segments": 3, "children": CHILDREN}
    assert not (out / "video.mp4").exists()  # the analysis renders nothing
    for index in range(CHILDREN):
        child(three_shots, out, index)
    joined = step(three_shots, out, "join")
    assert joined.returncode == 0, joined.result
    assert set(joined.result["outputs"]) == {"video", "thumbnail", "manifest"}
    return out


def packets(path: Path, stream: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [
            "ffprobe", "-v", "error", "-select_streams", stream, "-print_format", "json",
            "-show_entries", "packet=pts_time,duration_time", str(path),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found: list[dict[str, Any]] = json.loads(done.stdout)["packets"]
    return found


def probe(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            "ffprobe", "-v", "error", "-count_frames", "-print_format", "json",
            "-show_streams", "-show_format", str(path),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def of_type(info: dict[str, Any], kind: str) -> dict[str, Any]:
    streams: list[dict[str, Any]] = [s for s in info["streams"] if s["codec_type"] == kind]
    assert len(streams) == 1
    return streams[0]


def test_the_split_render_has_the_whole_renders_frames_duration_and_audio(
    whole: Path, split: Path
) -> None:
    one, joined = probe(whole), probe(split / "video.mp4")
    assert of_type(joined, "video")["nb_read_frames"] == of_type(one, "video")["nb_read_frames"]
    assert int(of_type(joined, "video")["nb_read_frames"]) == round(7.2 * FPS)
    assert float(joined["format"]["duration"]) == pytest.approx(
        float(one["format"]["duration"]), abs=1 / FPS
    )
    for kind in ("video", "audio"):
        assert float(of_type(joined, kind)["duration"]) == pytest.approx(
            float(of_type(one, kind)["duration"]), abs=1e-3
        )
    assert of_type(joined, "audio")["codec_name"] == "aac"
    assert of_type(joined, "video")["width"] == 480
    assert of_type(joined, "video")["height"] == 854
    manifest = json.loads((split / "manifest.json").read_text())
    assert manifest["metrics"]["render_split"]["segments"] == 3
    assert manifest["metrics"]["frames"] == round(7.2 * FPS)
    assert (split / "thumbnail.jpg").stat().st_size > 0


def test_the_audio_runs_on_without_a_gap_and_stays_in_sync_at_every_join(
    whole: Path, split: Path
) -> None:
    audio = packets(split / "video.mp4", "a:0")
    assert [p["pts_time"] for p in audio] == [p["pts_time"] for p in packets(whole, "a:0")]
    for before, after in itertools.pairwise(audio):
        # Each packet starts where the one before it ends: no gap, no overlap at the joins.
        assert float(after["pts_time"]) == pytest.approx(
            float(before["pts_time"]) + float(before["duration_time"]), abs=1e-4
        )
    # Every frame, the first of each segment included, is shown when the whole render shows it.
    joined = sorted(float(p["pts_time"]) for p in packets(split / "video.mp4", "v:0"))
    one = sorted(float(p["pts_time"]) for p in packets(whole, "v:0"))
    plan = json.loads((split / "render-work" / "plan.json").read_text())
    firsts = [first for first, _end in plan["segments"]]
    assert firsts == [0, 60, 120]  # cut where the shots cut
    assert len(joined) == len(one)
    for frame in firsts:
        assert abs(joined[frame] - one[frame]) < 1 / FPS
        assert joined[frame] == pytest.approx(frame / FPS, abs=1e-3)


def test_the_joined_pictures_are_the_whole_renders(whole: Path, split: Path) -> None:
    done = subprocess.run(
        [
            "ffmpeg", "-v", "info", "-nostats", "-i", str(whole), "-i", str(split / "video.mp4"),
            "-lavfi", "[0:v][1:v]psnr", "-f", "null", "-",
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    [line] = [s for s in done.stderr.splitlines() if "PSNR" in s]
    # Same crop path, frame for frame: only the encoder's choices differ (a shifted crop or
    # frame scores far below 30 dB on these clips).
    lowest = line.split("min:")[1].split()[0]
    assert lowest == "inf" or float(lowest) > 35, line


def test_a_child_reports_its_progress_with_its_index_up_to_the_render_end(
    three_shots: Path, split: Path
) -> None:
    again = child(three_shots, split, 1, tag="-again")
    lines = [line.split() for line in again.stdout.splitlines() if line.startswith("PROGRESS")]
    assert lines
    assert all(line[1] == "render" and line[3:] == ["1", "2"] for line in lines)
    assert [int(line[2]) for line in lines][-1] == 95


def test_a_retried_child_renders_only_the_segments_missing(
    three_shots: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert (
        step(three_shots, out, "analyse", "--children", "2", "--segment-seconds", "2").returncode
        == 0
    )
    first = child(three_shots, out, 0)
    assert first.result["rendered"] == [0, 2]
    assert first.result["reused"] == []
    # The child was lost after storing segment 0: its retry renders segment 2 alone.
    kept = (out / "render-work" / "segment-00000.mp4").stat().st_mtime_ns
    (out / "render-work" / "segment-00002.mp4").unlink()
    retried = child(three_shots, out, 0, tag="-retry")
    assert retried.result["rendered"] == [2]
    assert retried.result["reused"] == [0]
    assert (out / "render-work" / "segment-00000.mp4").stat().st_mtime_ns == kept
    # The join waits for every segment: without child 1's it fails, retryable.
    early = step(three_shots, out, "join")
    assert early.returncode == 1
    assert early.result["code"] == "segment_failed"
    assert "segment-00001.mp4" in early.result["message"]
    child(three_shots, out, 1)
    assert step(three_shots, out, "join").returncode == 0
    assert int(of_type(probe(out / "video.mp4"), "video")["nb_read_frames"]) == 180


def test_a_child_that_fails_reports_the_retryable_segment_failed(
    three_shots: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    # No analysis ran: nothing to render from.
    failed = step(three_shots, out, "segment", "--children", "2", "--child", "0")
    assert failed.returncode == 1
    assert failed.result["code"] == "segment_failed"
    assert "render plan" in failed.result["message"]
    assert (
        step(three_shots, out, "analyse", "--children", "2", "--segment-seconds", "2").returncode
        == 0
    )
    outside = step(three_shots, out, "segment", "--children", "2", "--child", "2")
    assert outside.result["code"] == "segment_failed"
    # A broken source under a finished analysis: ffmpeg's failure, reported the same way.
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(three_shots.read_bytes()[:4000])
    damaged = step(broken, out, "segment", "--children", "2", "--child", "1")
    assert damaged.returncode == 1
    assert damaged.result["code"] == "segment_failed"


def test_segments_cut_at_the_shot_boundary_nearest_their_length() -> None:
    # Shots start at 0, 40, 110, 130, 300 of 400 frames; segments of about 100 frames: 110 is
    # the cut nearest 100; from 110 none lies within 50 of 210, so the take is cut there.
    assert plan_segments([0, 40, 110, 130, 300], 400, 25.0, 4.0) == [
        (0, 110),
        (110, 210),
        (210, 300),
        (300, 400),
    ]
    # A take with no cut near the length is cut inside; the rest stays one segment.
    assert plan_segments([0], 250, 25.0, 4.0) == [(0, 100), (100, 250)]
    # A source shorter than a segment and a half is one segment.
    assert plan_segments([0, 60], 140, 25.0, 4.0) == [(0, 140)]
    segments = plan_segments([0, 97, 180, 333, 590, 700], 1000, 30.0, 3.0)
    assert segments[0][0] == 0
    assert segments[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in itertools.pairwise(segments))
    assert all(45 <= end - start <= 150 for start, end in segments)
