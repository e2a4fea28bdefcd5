"""Stage 5, saliency (motion): where things move, for shots without faces.

Each sampled frame is compared with the sample before (about a tenth of a second earlier; two
tenths where a calm shot's samples are passed over, sample_rate.py), after undoing the
camera's own motion, so a panning or zooming camera does not light up the whole picture.
The camera's motion is the similarity transform (shift, zoom, roll) that most points of a
grid agree on (optical flow, then RANSAC): a large textured subject moves differently from
the background but covers fewer of the grid's points (measured: phase correlation locked on a
furry cat crossing a panning shot and took the whole background for the subject). What still
differs is thresholded; its robust extent is the moving subject.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from batch.reframer.decode import AnalysisFrame
from batch.reframer.follow import gray
from batch.reframer.geometry import Box

# A pixel "moved" when it changed by more than this (0..255) after alignment...
MIN_PIXEL_CHANGE = 18.0
# ...and a frame has a moving subject when this share of it moved, but not more than the
# upper share (beyond that it is a lighting change or shake, not a subject).
MIN_MOVING_SHARE = 0.002
MAX_MOVING_SHARE = 0.5
LAG_SECONDS = 0.1
# Motion is measured on pictures this long (blurred first: fine texture shifted by a fraction
# of a pixel differs everywhere).
MOTION_LONG_SIDE = 240
# The camera's motion is estimated from a grid of this many points across and down.
GRID = (24, 14)
# The camera moved only when at least this share of the grid agrees on the move: on a flat
# background the only points that can be followed are on the subject (measured: a cat on a
# plain wall was taken for a camera following it, and its motion undone).
MIN_AGREEING_SHARE = 0.3
# Pixels next to the border of the aligned picture are left out: they are interpolated.
BORDER = 3
# A camera motion moving no corner of the picture this far (pixels) is no motion at all
# (measured: a ball rolling before a still camera, retention at 9:16 0.765 -> 0.937; bikes
# framed 1:1 0.935 -> 0.903, the traffic behind its parked bicycle now moving cleanly enough
# to be the subject; with 1.0 pixel, 0.610).
STILL_BELOW_PIXELS = 0.5

Gray = NDArray[np.uint8]
_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)


@dataclass(frozen=True)
class Motion:
    frame: int
    box: Box
    # Share of the picture that moved: how strong the signal is.
    share: float


def camera_motion(previous: Gray, current: Gray) -> NDArray[np.float32]:
    """The 2x3 similarity transform that maps `previous` onto `current` for most of the
    picture (identity when too little of the picture agrees on one)."""
    rows, cols = current.shape
    xs, ys = np.meshgrid(
        np.linspace(BORDER, cols - 1 - BORDER, GRID[0]),
        np.linspace(BORDER, rows - 1 - BORDER, GRID[1]),
    )
    points = np.stack((xs.ravel(), ys.ravel()), axis=1).astype(np.float32).reshape(-1, 1, 2)
    moved, status, _error = cv2.calcOpticalFlowPyrLK(
        previous, current, points, None, winSize=(15, 15), maxLevel=3
    )
    found = np.asarray(status).ravel() == 1
    if found.sum() < 6:
        return _IDENTITY
    transform, inliers = cv2.estimateAffinePartial2D(
        points[found], np.asarray(moved)[found], method=cv2.RANSAC, ransacReprojThreshold=1.0
    )
    if transform is None or int(np.sum(inliers)) < MIN_AGREEING_SHARE * len(points):
        return _IDENTITY
    transform = np.asarray(transform, dtype=np.float32)
    corners = np.array([[0, 0, 1], [cols, 0, 1], [0, rows, 1], [cols, rows, 1]], np.float32)
    shift = corners @ (transform - _IDENTITY).T
    if float(np.abs(shift).max()) < STILL_BELOW_PIXELS:
        # A camera on a tripod: what the grid "agrees on" is compression noise, and undoing
        # it would blur every sharp edge of the picture into motion.
        return _IDENTITY
    return transform


def moving_region(
    previous: Gray, current: Gray
) -> tuple[tuple[float, float, float, float], float] | None:
    """The box (x, y, w, h, in pixels of the pictures) of what moved, and the share that
    moved, once the camera's motion is undone."""
    rows, cols = current.shape
    transform = camera_motion(previous, current)
    aligned = cv2.warpAffine(
        previous.astype(np.float32), transform, (cols, rows), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=-1.0,
    )  # fmt: skip
    # Compare only where both pictures see the scene.
    seen = cv2.erode((aligned >= 0).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=BORDER)
    valid = seen.astype(bool)
    if valid.sum() < rows * cols // 4:
        return None
    change = np.abs(current.astype(np.float32) - aligned)
    threshold = max(MIN_PIXEL_CHANGE, 3.0 * float(np.median(change[valid])))
    moved = (change > threshold) & valid
    share = float(moved.sum()) / float(valid.sum())
    if not MIN_MOVING_SHARE <= share <= MAX_MOVING_SHARE:
        return None
    ys, xs = np.nonzero(moved)
    # Robust extent: the outermost 5% of changed pixels on each side are noise or shadows.
    left, right = np.percentile(xs, [5, 95])
    top, bottom = np.percentile(ys, [5, 95])
    return (float(left), float(top), float(right - left + 1), float(bottom - top + 1)), share


def _prepared(bgr: NDArray[np.uint8], size: tuple[int, int]) -> Gray:
    small = cv2.resize(gray(bgr), size, interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.GaussianBlur(small, (5, 5), 1.0), dtype=np.uint8)


class MotionDetector:
    """Fed every analysis frame; answers on sampled frames (those with a colour picture,
    `scale` times smaller than the source: every `step`-th frame, or every other one of those
    while a shot is calm)."""

    def __init__(self, fps: float, step: int, scale: float) -> None:
        samples = max(1, round(fps * LAG_SECONDS / step))
        # Frames between the two pictures compared.
        self.lag = samples * step
        self.scale = scale
        self._recent: deque[Gray] = deque(maxlen=samples + 1)

    def add(self, frame: AnalysisFrame, compare: bool = True) -> Motion | None:
        """The moving region on a sampled frame, if any. With `compare` False (a sample where
        faces were found: its shot is about them, and motion only decides shots without one)
        the picture is kept for the next comparison but not compared, which is most of the
        cost (measured: 0.7 s of CPU on the 30 s 1080p bench clip)."""
        if frame.bgr is None:
            return None
        height, width = frame.bgr.shape[:2]
        shrink = min(1.0, MOTION_LONG_SIDE / max(height, width))
        size = (max(8, round(width * shrink)), max(8, round(height * shrink)))
        self._recent.append(_prepared(frame.bgr, size))
        if not compare or len(self._recent) < self._recent.maxlen:  # type: ignore[operator]
            return None
        found = moving_region(self._recent[0], self._recent[-1])
        if found is None:
            return None
        (x, y, w, h), share = found
        to_source = self.scale * width / size[0]
        return Motion(frame.index, Box(x, y, w, h).scaled(to_source), share)
