"""Stage 3, shots: hard-cut boundaries from colour histograms and a tiny picture per frame.

A cut is a frame that differs from the one before far more than its neighbours differ from
theirs (so a fast pan is not a cut) and that does not snap back a frame later (so a flash is
not a cut). Dissolves are left as one shot: the camera path glides through them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from batch.reframer.decode import AnalysisFrame

FloatArray = NDArray[np.float64]

# A frame-to-frame change below this is never a cut (0 = same picture, 1 = nothing alike).
MIN_CUT_SCORE = 0.3
# ...and it must stand this many times above the typical change around it.
CUT_CONTRAST = 3.0
# Shots shorter than this are merged: a camera cannot settle in less.
MIN_SHOT_SECONDS = 0.4


@dataclass(frozen=True)
class Shot:
    """Frames [start, end) of one continuous take."""

    start: int
    end: int

    @property
    def frames(self) -> int:
        return self.end - self.start


def _signature(frame: AnalysisFrame) -> FloatArray:
    parts = []
    # 32 luma bins and 16 per chroma plane: fine enough to tell scenes apart, coarse enough
    # that noise and small movements barely change them.
    for plane, shift in ((frame.luma, 3), (frame.chroma_u, 4), (frame.chroma_v, 4)):
        hist = np.bincount(plane.ravel() >> shift, minlength=256 >> shift)
        parts.append(hist / max(plane.size, 1))
    return np.concatenate(parts)


def _tiny(luma: NDArray[np.uint8]) -> FloatArray:
    """A 16x9-ish block average: the layout of the picture, blind to noise."""
    rows, cols = max(1, luma.shape[0] // 9), max(1, luma.shape[1] // 16)
    cut = luma[: rows * (luma.shape[0] // rows), : cols * (luma.shape[1] // cols)]
    blocks = cut.reshape(cut.shape[0] // rows, rows, cut.shape[1] // cols, cols)
    return np.asarray(blocks.mean(axis=(1, 3)), dtype=np.float64) / 255.0


def _distance(a: tuple[FloatArray, FloatArray], b: tuple[FloatArray, FloatArray]) -> float:
    # Histogram distance: 0.5 * L1 per plane, averaged over the three planes.
    histogram = float(np.abs(a[0] - b[0]).sum()) / 6.0
    layout = float(np.abs(a[1] - b[1]).mean()) * 4.0
    return 0.6 * histogram + 0.4 * min(1.0, layout)


class ShotDetector:
    """Fed every analysis frame in order; `shots()` gives the boundaries at the end."""

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self._scores: list[float] = [0.0]
        self._skip_scores: list[float] = [0.0]
        self._previous: list[tuple[FloatArray, FloatArray]] = []
        self.frame_count = 0

    def add(self, frame: AnalysisFrame) -> None:
        current = (_signature(frame), _tiny(frame.luma))
        if self._previous:
            self._scores.append(_distance(self._previous[-1], current))
            before = self._previous[-2] if len(self._previous) > 1 else self._previous[-1]
            self._skip_scores.append(_distance(before, current))
        self._previous = [*self._previous[-1:], current]
        self.frame_count += 1

    def shots(self) -> list[Shot]:
        cuts = find_cuts(np.array(self._scores), np.array(self._skip_scores), self.fps)
        bounds = [0, *cuts, self.frame_count]
        return [Shot(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def find_cuts(scores: FloatArray, skip_scores: FloatArray, fps: float) -> list[int]:
    """Frame indices that start a new shot.

    `scores[i]` is the change from frame i-1 to i; `skip_scores[i]` the change from i-2 to i,
    which tells a flash (one odd frame) from a cut.
    """
    n = len(scores)
    if n < 2:
        return []
    half_window = max(2, round(fps / 2))
    candidates: list[int] = []
    for i in range(1, n):
        score = scores[i]
        if score < MIN_CUT_SCORE:
            continue
        around = np.concatenate(
            (scores[max(1, i - half_window) : i], scores[i + 1 : i + 1 + half_window])
        )
        typical = float(np.median(around)) if around.size else 0.0
        if score < CUT_CONTRAST * max(typical, 0.02):
            continue
        # A flash: the frame after looks like the frame before (entering it), or this frame
        # looks like the one before the last (leaving it).
        if i + 1 < n and skip_scores[i + 1] < 0.5 * score:
            continue
        if i >= 2 and skip_scores[i] < 0.5 * score:
            continue
        candidates.append(i)
    min_gap = max(1, round(MIN_SHOT_SECONDS * fps))
    cuts: list[int] = []
    for i in candidates:
        if i < min_gap or n - i < min_gap:
            continue
        if cuts and i - cuts[-1] < min_gap:
            if scores[i] > scores[cuts[-1]]:
                cuts[-1] = i
            continue
        cuts.append(i)
    return cuts
