"""pyautoflip in the quality benchmark (bench/quality_autoflip.py): its relative crop windows
as the pixel windows its renderer cuts, windows wider than the nominal crop scored by their
true extent, and the table when pyautoflip cannot run; and the goals a run of real clips only is
judged by (the report's pure part)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import quality_autoflip as autoflip
from bench.quality import ClipResult, report
from bench.quality_clips import Truth
from bench.quality_metrics import score


def _run(windows: list[list[float] | None], scenes: list[list[int]]) -> dict[str, object]:
    return {"decoded_size": [1280, 720], "scenes": scenes, "windows": windows, "seconds": 0.5}


def test_relative_windows_become_the_pixel_windows_pyautoflip_cuts() -> None:
    # Its renderer truncates x, y and the size, drops an odd pixel of the size, then moves the
    # window back inside the frame: 0.3421875 * 1280 = 438, 0.315625 * 1280 = 404.
    run = _run(
        [
            [0.3421875, 0.0, 0.315625, 1.0],
            [0.10009, 0.0, 0.3164, 1.0],  # x 128.1 -> 128; width 404.99 -> 404
            [0.9, 0.0, 0.315625, 1.0],  # x 1152 would leave the frame: 1280 - 404 = 876
            [0.2, 0.0, 0.40039, 0.99],  # width 512.499 -> 512; height 712.8 -> 712 (even)
        ],
        [[0, 4]],
    )

    path = autoflip.crop_path(run, 4)

    assert path.x.tolist() == [438, 128, 876, 256]
    assert path.y.tolist() == [0, 0, 0, 0]
    assert path.widths.tolist() == [404, 404, 404, 512]
    assert path.heights.tolist() == [720, 720, 720, 712]
    assert path.cuts == []
    assert path.held == 0


def test_frames_pyautoflip_gave_no_window_hold_the_nearest_and_its_scenes_are_its_cuts() -> None:
    first, second = [0.1, 0.0, 0.315625, 1.0], [0.5, 0.0, 0.315625, 1.0]
    # A scene it skipped (frames 2-3) and a clip longer than the frame count it read.
    run = _run([first, first, None, None, second], [[0, 2], [2, 4], [4, 5]])

    path = autoflip.crop_path(run, 7)

    assert path.x.tolist() == [128, 128, 128, 640, 640, 640, 640]
    assert path.cuts == [2, 4]
    assert path.held == 4


def test_a_run_without_any_window_is_refused() -> None:
    with pytest.raises(autoflip.Unavailable, match="no crop window"):
        autoflip.crop_path(_run([None, None], [[0, 2]]), 2)


def _truth(boxes: list[tuple[float, float, float, float]]) -> Truth:
    truth = Truth(1280, 720, 30.0)
    truth.boxes = list(boxes)
    truth.all_boxes = [[box] for box in boxes]
    truth.shot_of = [0] * len(boxes)
    truth.still_shots = [False]
    return truth


def test_a_widened_window_is_scored_by_its_true_extent() -> None:
    """pyautoflip widens the window (and pads the output) when what it must keep is wider
    than the crop: a subject outside the nominal window but inside the wide one is kept."""
    frames = 10
    truth = _truth([(700.0, 200.0, 100.0, 100.0)] * frames)
    x, y = np.full(frames, 300.0), np.zeros(frames)

    nominal = score(truth, x, y, (404, 720), 1080, None)
    widened = score(truth, x, y, (404, 720), 1080, None,
                    (np.full(frames, 600.0), np.full(frames, 720.0)))  # fmt: skip

    assert nominal.retention == 0.0
    assert widened.retention == 1.0


def test_a_window_that_grows_about_a_fixed_centre_does_not_move() -> None:
    frames = 10
    truth = _truth([(600.0, 300.0, 80.0, 80.0)] * frames)
    widths = np.linspace(404.0, 604.0, frames)
    x = 640.0 - widths / 2

    still = score(truth, x, np.zeros(frames), (404, 720), 1080, None,
                  (widths, np.full(frames, 720.0)))  # fmt: skip

    assert max(still.speeds) < 1e-9
    assert still.retention == 1.0


def _result(name: str, with_autoflip: bool) -> ClipResult:
    truth = _truth([(600.0, 300.0, 80.0, 80.0)] * 10)
    x, y = np.full(10, 438.0), np.zeros(10)
    kept = score(truth, x, y, (404, 720), 1080, [])
    scores = {"pipeline": kept, "centre": kept, "naive": kept}
    if with_autoflip:
        scores["pyautoflip"] = score(truth, np.zeros(10), y, (404, 720), 1080, [])
    return ClipResult(name, "still", 10, scores, 1.0, 1.0)


def _row(lines: list[str], label: str) -> dict[str, str]:
    """The pyautoflip cells of a table row (labels have no spaces; its cells end the row
    before still and lag)."""
    cells = next(line for line in lines if line.startswith(label)).split()
    return {"retention": cells[5], "accel_p95": cells[-4], "cuts": cells[-3]}


def test_the_table_says_why_pyautoflip_did_not_run_and_leaves_its_columns_empty() -> None:
    lines, met = report([_result("a-clip", False)], [], "pyautoflip: not run — no network")

    assert lines[1] == "pyautoflip: not run — no network"
    assert _row(lines, "a-clip") == {"retention": "-", "accel_p95": "-", "cuts": "-/-"}
    assert _row(lines, "still")["retention"] == "-"
    # pyautoflip is a comparison: the goals do not depend on it.
    assert met == report([_result("a-clip", True)], [], "pyautoflip ran")[1]


def test_pyautoflip_scores_appear_beside_the_others_when_it_ran() -> None:
    lines, _met = report([_result("a-clip", True)], [], "pyautoflip ran")

    # Its window at x 0 misses the subject at x 600, where the others keep it; it found no
    # cut where there is none (recall and precision undefined).
    assert _row(lines, "a-clip") == {"retention": "0.000", "accel_p95": "0.00", "cuts": "-/-"}
    assert _row(lines, "still")["retention"] == "0.000"
    assert next(line for line in lines if line.startswith("a-clip")).split()[2] == "1.000"


def test_a_failed_install_says_why_and_leaves_no_half_built_environment(
    tmp_path: Path,
) -> None:
    with pytest.raises(autoflip.Unavailable, match="uv venv") as failure:
        autoflip.environment(tmp_path, base_python=str(tmp_path / "no-such-python"))

    assert "no-such-python" in str(failure.value)
    assert not (tmp_path / "venv").exists()


def test_without_pypi_the_benchmark_is_told_what_the_installer_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uv with the network off and an empty cache: what a machine without PyPI sees.
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))

    with pytest.raises(autoflip.Unavailable, match=r"`uv pip` failed: error: .*cache") as failure:
        autoflip.environment(tmp_path / "home")

    assert "\n" not in str(failure.value)
    assert not (tmp_path / "home" / "venv").exists()


def test_a_run_of_real_clips_only_is_judged_by_their_goals_not_the_generated_suites() -> None:
    # `--only` with a real clip's name leaves the generated suite out: its goals (retention
    # 0.97 and the rest over no clips at all) must not fail the run.
    real = _result("a-real-clip", False)

    lines, met = report([], [real], "pyautoflip: not run (--no-autoflip)")

    goals = lines[lines.index("goals") + 1 :]
    assert not any("generated" in line or "naive baseline" in line for line in goals)
    assert met
