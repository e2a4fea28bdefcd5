"""Stage 7, camera: per shot a camera mode and a smoothed crop path.

For every frame the subject allows a range of crop positions (a corridor): those that keep its
box, with some breathing room, fully inside the crop and its centre in the middle band of the
crop. The camera then behaves like a calm operator would, trying in order:

- steady: one position fits every frame of the shot, so the crop does not move at all;
- panning: one constant-speed move fits every frame (the slowest such move is taken);
- tracking: a smooth path inside the corridor, found by relaxing a still camera towards the
  corridor (repeated blur-then-clamp), so it only moves as much, and as gently, as the subject
  forces it to.

The two axes are solved alike; the shot's mode is the busier of the two. Shots are planned
independently, so the crop only ever jumps at a cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from batch.reframer.tracking import SubjectTrack

CameraMode = Literal["steady", "panning", "tracking"]
FloatArray = NDArray[np.float64]

_MODE_ORDER: dict[CameraMode, int] = {"steady": 0, "panning": 1, "tracking": 2}

# The subject's centre may sit anywhere in the middle 40% of the crop without moving the camera.
CENTRE_BAND = 0.2
# Breathing room around a subject, as a share of its box (left, top, right, bottom): a face
# gets headroom above and shoulders below.
FACE_PADDING = (0.3, 0.5, 0.3, 0.8)
MOTION_PADDING = (0.05, 0.05, 0.05, 0.05)
# Tracking: the blur's width in seconds and how many blur-then-clamp rounds relax the path.
TRACKING_BLUR_SECONDS = 0.15
TRACKING_ROUNDS = 300


@dataclass(frozen=True)
class ShotPath:
    """Top-left corner of the crop window for every frame of one shot."""

    mode: CameraMode
    x: FloatArray
    y: FloatArray


@dataclass(frozen=True)
class Corridor:
    """Allowed crop positions per frame on one axis: `soft` with breathing room, `hard` the
    bare minimum that still keeps the subject fully inside."""

    soft_low: FloatArray
    soft_high: FloatArray
    hard_low: FloatArray
    hard_high: FloatArray
    preferred: float


def _axis_corridor(
    start: FloatArray,
    size: FloatArray,
    pad_before: float,
    pad_after: float,
    window: int,
    limit: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Soft and hard (low, high) bounds of the crop's leading edge at the sampled frames."""
    centre = start + size / 2
    centred = centre - window / 2
    band = CENTRE_BAND * window
    hard_low, hard_high = start + size - window, start.copy()
    padded_low = start + size * (1 + pad_after) - window
    padded_high = start - size * pad_before
    # Too big to fit with room: fall back to the bare box; too big even so: centre on it.
    fits_padded = padded_low <= padded_high
    soft_low = np.where(fits_padded, padded_low, hard_low)
    soft_high = np.where(fits_padded, padded_high, hard_high)
    soft_low = np.maximum(soft_low, centred - band)
    soft_high = np.minimum(soft_high, centred + band)
    # The band and asymmetric padding can disagree for large subjects: meet halfway.
    empty = soft_low > soft_high
    soft_low[empty] = soft_high[empty] = (soft_low[empty] + soft_high[empty]) / 2
    too_big = hard_low > hard_high
    for low, high in ((soft_low, soft_high), (hard_low, hard_high)):
        low[too_big] = centred[too_big]
        high[too_big] = centred[too_big]
        # Keep the window inside the picture.
        np.clip(low, 0, limit, out=low)
        np.clip(high, 0, limit, out=high)
    return soft_low, soft_high, hard_low, hard_high


def corridors(
    track: SubjectTrack, source: tuple[int, int], window: tuple[int, int]
) -> tuple[Corridor, Corridor] | None:
    """Per-frame corridors for x and y over the shot, or None when there is no subject."""
    if track.kind == "none" or len(track.frames) == 0:
        return None
    frames = np.arange(track.shot.start, track.shot.end, dtype=np.float64)
    padding = FACE_PADDING if track.kind == "face" else MOTION_PADDING
    result = []
    for axis in (0, 1):
        limit = source[axis] - window[axis]
        pad_before, pad_after = padding[axis], padding[axis + 2]
        start, size = track.boxes[:, axis], track.boxes[:, axis + 2]
        bounds = _axis_corridor(start, size, pad_before, pad_after, window[axis], limit)
        # Between samples the subject is taken to move in a straight line.
        soft_low, soft_high, hard_low, hard_high = (
            np.interp(frames, track.frames, b) for b in bounds
        )
        centred = np.clip(start + size / 2 - window[axis] / 2, 0, limit)
        preferred = float(np.median(centred))
        result.append(Corridor(soft_low, soft_high, hard_low, hard_high, preferred))
    return result[0], result[1]


def _spread(slope: float, t: FloatArray, low: FloatArray, high: FloatArray) -> float:
    """How far the corridor is from admitting a line of this slope (<= 0: it admits one)."""
    return float(np.max(low - slope * t) - np.min(high - slope * t))


def slowest_pan(low: FloatArray, high: FloatArray) -> float | None:
    """The smallest |slope| of a straight path inside [low, high], or None if none fits.

    The spread is a convex function of the slope, so a golden-section search finds its
    minimum and a bisection the feasible slope nearest zero.
    """
    t = np.arange(len(low), dtype=np.float64)
    if _spread(0.0, t, low, high) <= 0:
        return 0.0
    reach = 2.0 * (float(np.max(high) - np.min(low)) + 1.0) / max(len(low) - 1, 1)
    a, b = -reach, reach
    ratio = (5**0.5 - 1) / 2
    for _ in range(80):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if _spread(c, t, low, high) < _spread(d, t, low, high):
            b = d
        else:
            a = c
    best = (a + b) / 2
    if _spread(best, t, low, high) > 1e-6:
        return None
    inner, outer = best, 0.0
    for _ in range(60):
        middle = (inner + outer) / 2
        if _spread(middle, t, low, high) <= 1e-6:
            inner = middle
        else:
            outer = middle
    return inner


def _blur(values: FloatArray, sigma: float) -> FloatArray:
    radius = max(1, int(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.pad(values, radius, mode="edge")
    return np.convolve(padded, taps, mode="valid")


def glide(corridor: Corridor, fps: float) -> FloatArray:
    """A smooth path inside the corridor that starts as a still camera and moves only where
    the corridor forces it (tracking mode)."""
    sigma = max(1.0, TRACKING_BLUR_SECONDS * fps)
    low, high = corridor.soft_low, corridor.soft_high
    path = np.clip(np.full(len(low), corridor.preferred), low, high)
    for _ in range(TRACKING_ROUNDS):
        path = np.clip(_blur(path, sigma), low, high)
    # A last gentle blur rounds off the corners where the path met the corridor; only the
    # hard bounds (the subject fully inside) are enforced after it.
    return np.clip(_blur(path, sigma / 2), corridor.hard_low, corridor.hard_high)


def plan_axis(corridor: Corridor, fps: float) -> tuple[CameraMode, FloatArray]:
    low, high = corridor.soft_low, corridor.soft_high
    n = len(low)
    slope = slowest_pan(low, high)
    if slope is not None:
        t = np.arange(n, dtype=np.float64)
        first, last = float(np.max(low - slope * t)), float(np.min(high - slope * t))
        # Among the fitting lines of that slope, the one closest to centring the subject.
        offset = float(np.clip(corridor.preferred - slope * (n - 1) / 2, first, last))
        mode: CameraMode = "steady" if slope == 0.0 else "panning"
        return mode, offset + slope * t
    return "tracking", glide(corridor, fps)


def plan_shot(
    track: SubjectTrack, source: tuple[int, int], window: tuple[int, int], fps: float
) -> ShotPath:
    n = track.shot.frames
    found = corridors(track, source, window)
    if found is None:
        # Nothing to follow: hold the centre.
        centre_x, centre_y = (source[0] - window[0]) / 2, (source[1] - window[1]) / 2
        return ShotPath("steady", np.full(n, centre_x), np.full(n, centre_y))
    (mode_x, x), (mode_y, y) = plan_axis(found[0], fps), plan_axis(found[1], fps)
    mode = max(mode_x, mode_y, key=lambda m: _MODE_ORDER[m])
    return ShotPath(mode, x, y)
