"""Stage 6, tracking: the detections of one shot joined into the subject the camera keeps.

Faces are linked from sample to sample by overlap into tracks; the strongest track (long-lived,
large, confident) is the subject, and other faces join it where both fit in the crop. A shot
without a face falls back to the moving region, and a shot with neither has no subject (the
camera holds the centre). The subject's box is then smoothed over time, because detector boxes
wobble by a few pixels from frame to frame and the camera should not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from batch.reframer.faces import Face
from batch.reframer.geometry import Box
from batch.reframer.saliency import Motion
from batch.reframer.shots import Shot

SubjectKind = Literal["face", "motion", "none"]

# A face missing from up to this many seconds of samples is still the same face.
MAX_GAP_SECONDS = 1.0
# A face track must cover this share of a shot's samples (or a second) to be its subject.
MIN_FACE_COVERAGE = 0.2
# Motion must be seen on this share of a shot's samples to be followed.
MIN_MOTION_COVERAGE = 0.3


@dataclass
class _Track:
    faces: list[Face] = field(default_factory=list)

    @property
    def last(self) -> Face:
        return self.faces[-1]

    @property
    def score(self) -> float:
        return float(sum(face.confidence * math.sqrt(face.box.area) for face in self.faces))


@dataclass(frozen=True)
class SubjectTrack:
    """The subject of one shot: its box (x, y, w, h) on the sampled frames where it is known,
    smoothed for the camera (`boxes`) and as detected (`raw_boxes`, what quality is judged on)."""

    shot: Shot
    kind: SubjectKind
    frames: NDArray[np.int64]
    boxes: NDArray[np.float64]
    raw_boxes: NDArray[np.float64]


def _same_face(track: _Track, face: Face, max_gap: int) -> float:
    """How well `face` continues `track` (0 = not at all)."""
    last = track.last
    if face.frame - last.frame > max_gap:
        return 0.0
    overlap: float = last.box.iou(face.box)
    distance = abs(last.box.cx - face.box.cx) + abs(last.box.cy - face.box.cy)
    near = max(0.0, 1.0 - distance / (1.5 * max(last.box.w, last.box.h, 1.0)))
    return max(overlap, 0.5 * near)


def link_faces(faces: list[Face], max_gap: int) -> list[_Track]:
    """Greedy frame-by-frame linking, most confident detections first."""
    tracks: list[_Track] = []
    by_frame: dict[int, list[Face]] = {}
    for face in faces:
        by_frame.setdefault(face.frame, []).append(face)
    for frame in sorted(by_frame):
        taken: set[int] = set()
        for face in sorted(by_frame[frame], key=lambda f: -f.confidence):
            scored = [
                (_same_face(track, face, max_gap), i)
                for i, track in enumerate(tracks)
                if i not in taken
            ]
            best = max(scored, default=(0.0, -1))
            if best[0] > 0.05:
                tracks[best[1]].faces.append(face)
                taken.add(best[1])
            else:
                tracks.append(_Track([face]))
                taken.add(len(tracks) - 1)
    return tracks


def _extended(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """One extra sample at each end, continuing the trend, so a subject moving steadily is
    not pulled inwards at the ends of its track by the smoothing."""
    return np.concatenate((2 * values[:1] - values[1:2], values, 2 * values[-1:] - values[-2:-1]))


def smooth_boxes(boxes: NDArray[np.float64]) -> NDArray[np.float64]:
    """Median of three (drops single-sample outliers), then a [1, 2, 1] blur."""
    if len(boxes) < 3:
        return boxes.copy()
    padded = _extended(boxes)
    median = np.median(np.stack((padded[:-2], padded[1:-1], padded[2:])), axis=0)
    padded = _extended(median)
    return np.asarray((padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4.0, dtype=np.float64)


def _track_from(shot: Shot, kind: SubjectKind, frames: list[int], boxes: list[Box]) -> SubjectTrack:
    array = np.array([[b.x, b.y, b.w, b.h] for b in boxes], dtype=np.float64).reshape(-1, 4)
    return SubjectTrack(shot, kind, np.array(frames, dtype=np.int64), smooth_boxes(array), array)


def subject_of_shot(
    shot: Shot,
    faces: list[Face],
    motions: list[Motion],
    window: tuple[int, int],
    fps: float,
    step: int,
) -> SubjectTrack:
    """The subject track of one shot from its detections (all inside the shot).

    `step` is the number of frames between two sampled frames.
    """
    samples = max(1, -(-shot.frames // step))
    max_gap = max(step, round(MAX_GAP_SECONDS * fps))
    tracks = link_faces(faces, max_gap)
    needed = min(MIN_FACE_COVERAGE * samples, max(1.0, fps / step))
    worthy = [t for t in tracks if len(t.faces) >= max(2.0, needed) or samples <= 2]
    if worthy:
        primary = max(worthy, key=lambda t: t.score)
        others = [t for t in worthy if t is not primary]
        frames, boxes = [], []
        for face in primary.faces:
            box = face.box
            # Keep other people in the picture when they fit beside the subject.
            for other in others:
                for candidate in other.faces:
                    if candidate.frame == face.frame:
                        joined = box.union(candidate.box)
                        if joined.w <= 0.8 * window[0] and joined.h <= 0.8 * window[1]:
                            box = joined
            frames.append(face.frame)
            boxes.append(box)
        return _track_from(shot, "face", frames, boxes)
    if len(motions) >= max(1.0, MIN_MOTION_COVERAGE * samples):
        return _track_from(shot, "motion", [m.frame for m in motions], [m.box for m in motions])
    return _track_from(shot, "none", [], [])
