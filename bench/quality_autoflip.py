"""pyautoflip (PyPI, a Python re-implementation of AutoFlip) as a comparison in the quality
benchmark: its own virtualenv, built on demand; its per-frame crop windows, cached per clip;
their conversion into a crop path the benchmark scores like the others.

The virtualenv (var/bench/autoflip/venv) holds bench/requirements-autoflip.txt, installed
with `--no-deps` from PyPI: pyautoflip and what the code path we run imports (MediaPipe,
OpenCV, SciPy, PySceneDetect), not its declared torch / InsightFace / TensorBoard stack.
It is rebuilt when that file changes. bench/quality_autoflip_runner.py runs inside it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.quality_metrics import FloatArray

REQUIREMENTS = Path(__file__).with_name("requirements-autoflip.txt")
RUNNER = Path(__file__).with_name("quality_autoflip_runner.py")
HOME = Path(__file__).resolve().parents[1] / "var" / "bench" / "autoflip"
INSTALL_TIMEOUT = 900
RUN_TIMEOUT_PER_CLIP = 300


class Unavailable(Exception):
    """pyautoflip cannot run here; the message says why (shown in the table's header)."""


@dataclass(frozen=True)
class Environment:
    python: Path
    # Seconds spent building it in this run (0 when it was already there), and its size.
    install_seconds: float
    disk_bytes: int


@dataclass(frozen=True)
class AutoflipPath:
    """pyautoflip's crop on one clip, as the benchmark scores it: the top-left corner and the
    size of the window it cuts from each source frame (source pixels), and its cuts."""

    x: FloatArray
    y: FloatArray
    widths: FloatArray
    heights: FloatArray
    cuts: list[int]
    # Frames pyautoflip gave no window (a scene it skipped): the nearest window is held.
    held: int
    seconds: float


def crop_path(run: dict[str, Any], frames: int) -> AutoflipPath:
    """The runner's relative windows as pixel windows, converted exactly as pyautoflip's
    `SceneCropper.apply_crop_window` cuts its output frames (truncate, even size, inside the
    frame), over `frames` frames."""
    width, height = (int(v) for v in run["decoded_size"])
    windows: list[list[float] | None] = list(run["windows"][:frames])
    windows += [None] * (frames - len(windows))
    known = [i for i, w in enumerate(windows) if w is not None]
    if not known:
        raise Unavailable("pyautoflip returned no crop window")
    xs, ys, ws, hs = (np.empty(frames) for _ in range(4))
    for i in range(frames):
        nearest = min(known, key=lambda k: (abs(k - i), k))
        x_rel, y_rel, w_rel, h_rel = windows[nearest]  # type: ignore[misc]
        crop_w, crop_h = int(w_rel * width), int(h_rel * height)
        crop_w -= crop_w % 2
        crop_h -= crop_h % 2
        xs[i] = max(0, min(int(x_rel * width), width - crop_w))
        ys[i] = max(0, min(int(y_rel * height), height - crop_h))
        ws[i], hs[i] = crop_w, crop_h
    cuts = [int(start) for start, _end in run["scenes"][1:]]
    return AutoflipPath(xs, ys, ws, hs, cuts, frames - len(known), float(run["seconds"]))


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _why(returncode: int, stderr: str) -> str:
    """A failed command in a line: its exception (the traceback's last line) when it raised,
    else its exit status and last words (MediaPipe logs to stderr, so only a traceback tells)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    if "Traceback (most recent call last):" in lines:
        return lines[-1]
    # uv: "error: ..." and the line that gives its cause.
    errors = [i for i, line in enumerate(lines) if line.lower().startswith("error")]
    if errors:
        return " ".join(lines[errors[0] : errors[0] + 2])[:400]
    return f"exit status {returncode}, last output: {lines[-1] if lines else 'none'}"


def environment(home: Path = HOME, base_python: str = sys.executable) -> Environment:
    """The bench-only virtualenv, built (uv, from PyPI) when missing or when the pinned
    requirements changed. Raises Unavailable with the installer's last words on failure."""
    venv = home / "venv"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    wanted = _fingerprint(REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == wanted and python.exists():
        return Environment(python, 0.0, _disk_bytes(venv))
    uv = Path(sys.executable).with_name("uv")
    if not uv.exists():
        raise Unavailable(f"uv is not installed beside {sys.executable} (run make install)")
    shutil.rmtree(venv, ignore_errors=True)
    started = time.perf_counter()
    print(f"  building pyautoflip's virtualenv ({venv}) ...", file=sys.stderr, flush=True)
    steps = [
        [str(uv), "venv", "--quiet", "--python", base_python, str(venv)],
        [str(uv), "pip", "install", "--quiet", "--no-deps", "--require-hashes",
         "--python", str(python), "-r", str(REQUIREMENTS)],
    ]  # fmt: skip
    for step in steps:
        try:
            done = subprocess.run(
                step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise Unavailable(f"`uv {step[1]}` took over {INSTALL_TIMEOUT} s") from None
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise Unavailable(f"`uv {step[1]}` failed: {_why(done.returncode, done.stderr)}")
    stamp.write_text(wanted)
    return Environment(python, time.perf_counter() - started, _disk_bytes(venv))


def _cache_file(cache: Path, source: Path, aspect: str) -> Path:
    # The clip's bytes (generated clips are named by seed and spec already), the aspect, and
    # what produced the windows: the pinned set and the runner.
    key = hashlib.sha256(
        "|".join([_fingerprint(source), aspect, _fingerprint(REQUIREMENTS),
                  _fingerprint(RUNNER)]).encode()
    ).hexdigest()[:16]  # fmt: skip
    return cache / f"{source.stem}-{aspect.replace(':', 'x')}-{key}.json"


def run_clips(
    python: Path, jobs: list[tuple[Path, str]], cache: Path = HOME / "cache"
) -> dict[tuple[Path, str], dict[str, Any]]:
    """pyautoflip's windows for each (source, aspect): from the cache, the rest in one run of
    the runner. A clip it failed on maps to {"error": ...}; a failed run raises Unavailable."""
    cache.mkdir(parents=True, exist_ok=True)
    results: dict[tuple[Path, str], dict[str, Any]] = {}
    missing = []
    for job in jobs:
        file = _cache_file(cache, *job)
        if file.exists():
            results[job] = {**json.loads(file.read_text()), "cached": True}
        else:
            missing.append(job)
    if not missing:
        return results
    request = json.dumps([[str(source), aspect] for source, aspect in missing])
    try:
        done = subprocess.run(
            [str(python), str(RUNNER)], input=request, capture_output=True, text=True,
            timeout=RUN_TIMEOUT_PER_CLIP * len(missing), check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise Unavailable(f"the runner took over {RUN_TIMEOUT_PER_CLIP} s a clip") from None
    if done.returncode != 0:
        raise Unavailable(f"the runner failed: {_why(done.returncode, done.stderr)}")
    # The JSON is the runner's last line: a library may print before it.
    answer = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "[]"
    for job, result in zip(missing, json.loads(answer), strict=True):
        results[job] = {**result, "cached": False}
        if "error" not in result:
            _cache_file(cache, *job).write_text(json.dumps(result))
    return results
