"""Stage 5, saliency: where things move, for shots without faces.

On each sampled frame the thumbnail is compared with the one a tenth of a second earlier,
after undoing any global camera shift (phase correlation), so a panning camera does not light
up the whole frame. What remains is thresholded; its robust extent is the moving subject.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from batch.reframer.decode import AnalysisFrame
from batch.reframer.geometry import Box

# A thumbnail pixel "moved" when it changed by more than this (0..255) after alignment...
MIN_PIXEL_CHANGE = 18.0
# ...and a frame has a moving subject when this share of it moved, but not more than the
# upper share (beyond that it is a lighting change or shake, not a subject).
MIN_MOVING_SHARE = 0.002
MAX_MOVING_SHARE = 0.5
LAG_SECONDS = 0.1


@dataclass(frozen=True)
class Motion:
    frame: int
    box: Box
    # Share of the picture that moved: how strong the signal is.
    share: float


@lru_cache(maxsize=4)
def _window(shape: tuple[int, int]) -> NDArray[np.float64]:
    return np.outer(np.hanning(shape[0]), np.hanning(shape[1]))


def _fft_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """Powers of two at least as large: FFTs of sizes with a large prime factor (a 214-pixel
    thumbnail is 2 x 107) are several times slower. The window brings both pictures to zero at
    their borders, so padding with zeros leaves the correlation peak where it was."""
    rows, cols = shape
    return 1 << max(0, rows - 1).bit_length(), 1 << max(0, cols - 1).bit_length()


def global_shift(previous: NDArray[np.float32], current: NDArray[np.float32]) -> tuple[int, int]:
    """Whole-pixel (dy, dx) that best maps `previous` onto `current` (phase correlation)."""
    window = _window(previous.shape)
    padded = _fft_shape(previous.shape)
    a = np.fft.rfft2((previous - previous.mean()) * window, s=padded)
    b = np.fft.rfft2((current - current.mean()) * window, s=padded)
    cross = b * np.conj(a)
    cross /= np.maximum(np.abs(cross), 1e-9)
    surface = np.fft.irfft2(cross, s=padded)
    dy, dx = np.unravel_index(int(np.argmax(surface)), surface.shape)
    rows, cols = padded
    return (
        int(dy) - rows if dy > rows // 2 else int(dy),
        int(dx) - cols if dx > cols // 2 else int(dx),
    )


def moving_region(
    previous: NDArray[np.uint8], current: NDArray[np.uint8]
) -> tuple[tuple[float, float, float, float], float] | None:
    """The box (x, y, w, h, in thumbnail pixels) of what moved, and the share that moved."""
    old, new = previous.astype(np.float32), current.astype(np.float32)
    dy, dx = global_shift(old, new)
    rows, cols = new.shape
    # Compare only where both frames see the same scene after the shift.
    y0, y1 = max(0, dy), min(rows, rows + dy)
    x0, x1 = max(0, dx), min(cols, cols + dx)
    if y1 - y0 < rows // 2 or x1 - x0 < cols // 2:
        return None
    change = np.abs(new[y0:y1, x0:x1] - old[y0 - dy : y1 - dy, x0 - dx : x1 - dx])
    moved = change > max(MIN_PIXEL_CHANGE, 3.0 * float(np.median(change)))
    share = float(moved.mean())
    if not MIN_MOVING_SHARE <= share <= MAX_MOVING_SHARE:
        return None
    ys, xs = np.nonzero(moved)
    # Robust extent: the outermost 5% of changed pixels on each side are noise or shadows.
    left, right = np.percentile(xs, [5, 95])
    top, bottom = np.percentile(ys, [5, 95])
    return (
        float(left + x0),
        float(top + y0),
        float(right - left + 1),
        float(bottom - top + 1),
    ), share


class MotionDetector:
    """Fed every analysis frame; answers on sampled frames."""

    def __init__(self, fps: float, thumbnail_scale: float) -> None:
        self.lag = max(1, round(fps * LAG_SECONDS))
        self.scale = thumbnail_scale
        self._recent: deque[NDArray[np.uint8]] = deque(maxlen=self.lag + 1)

    def add(self, frame: AnalysisFrame) -> Motion | None:
        self._recent.append(frame.luma)
        if not frame.sampled or len(self._recent) <= self.lag:
            return None
        found = moving_region(self._recent[0], frame.luma)
        if found is None:
            return None
        (x, y, w, h), share = found
        return Motion(frame.index, Box(x, y, w, h).scaled(self.scale), share)
