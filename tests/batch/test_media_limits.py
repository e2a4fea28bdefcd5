"""`python -m batch.reframer` refuses what the job may not process: a source longer than the
plan's limit (`--max-duration`, the dispatch spec's `max_source_seconds`) with
`source_too_long`, and playlists or concat lists, which would have ffmpeg read other files or
URLs, with `invalid_media`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.batch.conftest import run_reframer


def _plain_clip(path: Path, seconds: int, fps: int, side: int) -> Path:
    """A cheap H.264 MP4 of `seconds`: the probe measures it, nothing decodes it."""
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi",
            "-i", f"testsrc=s={side}x{side}:r={fps}:d={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def _refusal(source: Path, tmp_path: Path, *args: str) -> dict[str, object]:
    result_file = tmp_path / "result.json"
    done = run_reframer(source, "--out", tmp_path / "out", "--result", result_file, *args)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "video.mp4").exists()
    outcome: dict[str, object] = json.loads(result_file.read_text())
    return outcome


@pytest.mark.parametrize(
    ("seconds", "fps", "side"),
    [(150, 5, 64), (4 * 3600 + 1, 1, 32)],
    ids=["150 s", "over 4 hours"],
)
def test_a_source_longer_than_the_plans_limit_is_refused_as_source_too_long(
    tmp_path: Path, seconds: int, fps: int, side: int
) -> None:
    source = _plain_clip(tmp_path / "long.mp4", seconds, fps, side)

    outcome = _refusal(source, tmp_path, "--max-duration", "120")

    assert outcome["code"] == "source_too_long"
    assert outcome["limit_seconds"] == 120
    assert isinstance(outcome["duration_seconds"], float)
    assert abs(outcome["duration_seconds"] - seconds) < 1
    assert "120" in str(outcome["message"])


def test_a_source_within_the_limit_is_not_refused_for_its_length(
    tmp_path: Path, short_clip: Path
) -> None:
    result_file = tmp_path / "result.json"
    done = run_reframer(
        short_clip, "--out", tmp_path / "out", "--result", result_file,
        "--resolution", "480p", "--max-duration", "2.5",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert json.loads(result_file.read_text())["metrics"]["duration_seconds"] <= 2.5


def test_a_limit_that_is_not_a_positive_number_is_a_usage_error(tmp_path: Path) -> None:
    source = _plain_clip(tmp_path / "clip.mp4", 1, 5, 64)
    for bad in ("0", "-5", "nan", "two minutes"):
        done = run_reframer(source, "--out", tmp_path / "out", "--max-duration", bad)
        assert done.returncode == 2, bad
        assert "--max-duration" in done.stderr


def _hls_playlist(tmp_path: Path, clip: Path) -> Path:
    playlist = tmp_path / "playlist.m3u8"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-i", str(clip), "-c", "copy",
            "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", str(playlist),
        ],
        check=True,
    )  # fmt: skip
    return playlist


def _remote_playlist(tmp_path: Path, _clip: Path) -> Path:
    playlist = tmp_path / "remote.m3u8"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXTINF:2.0,\nhttp://127.0.0.1:9/segment0.ts\n#EXT-X-ENDLIST\n"
    )
    return playlist


def _concat_list(tmp_path: Path, clip: Path) -> Path:
    listing = tmp_path / "list.mp4"  # named as an upload would be
    listing.write_text(f"ffconcat version 1.0\nfile '{clip}'\nfile '{clip}'\n")
    return listing


def _remote_concat_list(tmp_path: Path, _clip: Path) -> Path:
    listing = tmp_path / "remote.txt"
    listing.write_text("ffconcat version 1.0\nfile 'http://127.0.0.1:9/video.mp4'\n")
    return listing


@pytest.mark.parametrize(
    "make",
    [_hls_playlist, _remote_playlist, _concat_list, _remote_concat_list],
    ids=["hls of local segments", "hls of a url", "concat of a local file", "concat of a url"],
)
def test_a_playlist_or_concat_list_is_invalid_media_and_nothing_it_names_is_read(
    tmp_path: Path, short_clip: Path, make
) -> None:
    source = make(tmp_path, short_clip)

    outcome = _refusal(source, tmp_path, "--resolution", "480p")

    assert outcome["code"] == "invalid_media"
    assert "playlists and concat lists are refused" in str(outcome["message"])
