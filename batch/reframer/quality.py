"""The quality the customer pays for, measured on every job: does the subject stay in the crop,
and does the crop move calmly?"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from batch.reframer.shots import Shot
from batch.reframer.tracking import SubjectTrack

FloatArray = NDArray[np.float64]


def _inside(
    boxes: FloatArray, x: FloatArray, y: FloatArray, window: tuple[int, int]
) -> NDArray[np.bool_]:
    slack = 0.5
    return (
        (boxes[:, 0] >= x - slack)
        & (boxes[:, 1] >= y - slack)
        & (boxes[:, 0] + boxes[:, 2] <= x + window[0] + slack)
        & (boxes[:, 1] + boxes[:, 3] <= y + window[1] + slack)
    )


def retention(
    tracks: list[SubjectTrack], x: FloatArray, y: FloatArray, window: tuple[int, int]
) -> tuple[float | None, int]:
    """Share of analysed frames whose subject box lies fully inside the crop (None when no
    frame had a subject), and how many frames that share is over."""
    kept = total = 0
    for track in tracks:
        if len(track.frames) == 0:
            continue
        inside = _inside(track.raw_boxes, x[track.frames], y[track.frames], window)
        kept += int(inside.sum())
        total += len(inside)
    return (kept / total if total else None), total


def centre_retention(
    tracks: list[SubjectTrack], source: tuple[int, int], window: tuple[int, int], frames: int
) -> float | None:
    """The same share for a fixed centre crop: the baseline the pipeline has to beat."""
    x = np.full(frames, (source[0] - window[0]) / 2)
    y = np.full(frames, (source[1] - window[1]) / 2)
    return retention(tracks, x, y, window)[0]


def _steps(values: FloatArray, shots: list[Shot]) -> list[FloatArray]:
    return [np.diff(values[s.start : s.end]) for s in shots if s.frames > 1]


def jitter(x: FloatArray, y: FloatArray, shots: list[Shot]) -> float:
    """Mean change of the crop's velocity inside shots, in source pixels per frame per frame.

    0 for a camera that holds still or pans at constant speed; a shaky crop scores high. Cuts
    are excluded: a jump at a cut is intended.
    """
    total, count = 0.0, 0
    for dx, dy in zip(_steps(x, shots), _steps(y, shots), strict=True):
        if len(dx) < 2:
            continue
        total += float(np.hypot(np.diff(dx), np.diff(dy)).sum())
        count += len(dx) - 1
    return total / count if count else 0.0


def max_step_in_shots(x: FloatArray, y: FloatArray, shots: list[Shot]) -> float:
    """The largest crop move between two frames of the same shot, in source pixels."""
    steps = [
        np.hypot(dx, dy).max()
        for dx, dy in zip(_steps(x, shots), _steps(y, shots), strict=True)
        if len(dx)
    ]
    return float(max(steps, default=0.0))
