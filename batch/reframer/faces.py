"""Stage 4, faces: face boxes on the sampled analysis frames.

yuface wraps libfacedetection (BSD-3), a small CNN whose weights are compiled into the
library: nothing is downloaded, ever.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# libfacedetection parallelises each frame with OpenMP; next to the decoder's threads its
# spinning workers stall each other (measured: 8x slower). One thread per frame, with decoding
# running alongside on the other core, is faster. Set before the library loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from numpy.typing import NDArray
from yuface import detect  # type: ignore[import-untyped]

from batch.reframer.geometry import Box

# libfacedetection scores 0..100; below 70 its hits on textures and backgrounds creep in.
MIN_CONFIDENCE = 0.7
# ...but a face already followed keeps being found down to this score near where it was
# (hysteresis: a turned or blurred face scores 50-70 for a few frames; measured: the track
# broke at every turn of a swinging subject without it).
MIN_CONFIDENCE_NEAR = 0.5
# Faces smaller than this (in detection pixels) are crowd or background, not a subject.
MIN_FACE_PIXELS = 10


@dataclass(frozen=True)
class Face:
    frame: int
    box: Box
    confidence: float
    # None for a detection; for a face followed by optical flow where the detector missed it
    # (batch/reframer/follow.py), the frame it was last detected on.
    detected_at: int | None = None


def detect_faces(
    frame_index: int, bgr: NDArray[np.uint8], scale: float, minimum: float = MIN_CONFIDENCE
) -> list[Face]:
    """Faces in one BGR analysis frame; boxes are scaled by `scale` into source pixels."""
    confidences, boxes, _landmarks = detect(np.ascontiguousarray(bgr), conf=minimum)
    faces = []
    height, width = bgr.shape[:2]
    for confidence, (x, y, w, h) in zip(confidences, boxes, strict=True):
        if min(w, h) < MIN_FACE_PIXELS:
            continue
        # Clip to the frame: detections of faces cut by the border can reach past it.
        left, top = max(float(x), 0.0), max(float(y), 0.0)
        right, bottom = min(float(x + w), float(width)), min(float(y + h), float(height))
        box = Box(left, top, right - left, bottom - top).scaled(scale)
        faces.append(Face(frame_index, box, float(confidence) / 100.0))
    return faces


# A sampled frame whose thumbnail differs from the one at the last detection by less than
# this (mean absolute luma change, 0..255) shows the same faces: the detections are reused.
# Compared with the last real detection, not the previous sample, so slow drift adds up.
REUSE_BELOW_CHANGE = 1.0
# ...measured on a picture stretched to this contrast (luma standard deviation).
REFERENCE_CONTRAST = 50.0
# When every face of the last detection is at least this tall (detection pixels), the next
# frame is searched at half size, a quarter of the work; a miss there falls back to full size.
HALF_SIZE_ABOVE_PIXELS = 64


class FaceSampler:
    """Face detection on the sampled frames of one video, in order, skipping repeated work.

    The detector dominates the cost of the analysis; a still interview shot gives the same
    boxes on every sample, and a large face is found as surely in a quarter of the pixels.
    """

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.detected = 0
        self.reused = 0
        self._luma: NDArray[np.int16] | None = None
        self._faces: list[Face] = []

    def faces(
        self,
        frame_index: int,
        bgr: NDArray[np.uint8],
        luma: NDArray[np.uint8],
        large: NDArray[np.uint8] | None = None,
        large_scale: float = 0.0,
    ) -> list[Face]:
        current = luma.astype(np.int16)
        if (
            self._luma is not None
            and self._luma.shape == current.shape
            and _change(self._luma, current) < REUSE_BELOW_CHANGE
        ):
            self.reused += 1
            return [Face(frame_index, face.box, face.confidence) for face in self._faces]
        found: list[Face] = []
        last = [f.box for f in self._faces]
        if last and min(min(b.w, b.h) for b in last) >= HALF_SIZE_ABOVE_PIXELS * self.scale:
            found = self._kept(
                detect_faces(frame_index, _half(bgr), self.scale * 2, MIN_CONFIDENCE_NEAR)
            )
        if not found:
            found = self._kept(detect_faces(frame_index, bgr, self.scale, MIN_CONFIDENCE_NEAR))
        if not found and large is not None:
            # A second look at twice the size for faces too small to find at the usual one.
            found = self._kept(detect_faces(frame_index, large, large_scale, MIN_CONFIDENCE_NEAR))
        self.detected += 1
        self._luma, self._faces = current, found
        return found

    def _kept(self, faces: list[Face]) -> list[Face]:
        """Confident faces, and weaker ones near a face of the last detection."""
        return [f for f in faces if f.confidence >= MIN_CONFIDENCE or _near(f, self._faces)]


def _near(face: Face, others: list[Face]) -> bool:
    box = face.box
    return any(
        abs(box.cx - o.box.cx) + abs(box.cy - o.box.cy) <= 1.5 * max(o.box.w, o.box.h)
        for o in others
    )


def _change(before: NDArray[np.int16], after: NDArray[np.int16]) -> float:
    """Mean absolute luma change, relative to the picture's contrast: a face moving in a dark
    scene changes few luma levels, yet it moved (measured: reusing on the raw change kept
    stale boxes for a whole dark shot)."""
    contrast = max(float(after.std()), 4.0)
    return float(np.abs(after - before).mean()) * REFERENCE_CONTRAST / contrast


def _half(bgr: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The frame at half size, each pixel the mean of a 2x2 block."""
    rows, cols = bgr.shape[0] // 2 * 2, bgr.shape[1] // 2 * 2
    blocks = bgr[:rows, :cols].reshape(rows // 2, 2, cols // 2, 2, -1).astype(np.uint16)
    return np.ascontiguousarray((blocks.sum(axis=(1, 3)) + 2) // 4, dtype=np.uint8)
