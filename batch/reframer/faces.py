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
# Faces smaller than this (in detection pixels) are crowd or background, not a subject.
MIN_FACE_PIXELS = 10


@dataclass(frozen=True)
class Face:
    frame: int
    box: Box
    confidence: float


def detect_faces(frame_index: int, bgr: NDArray[np.uint8], scale: float) -> list[Face]:
    """Faces in one BGR analysis frame; boxes are scaled by `scale` into source pixels."""
    confidences, boxes, _landmarks = detect(np.ascontiguousarray(bgr), conf=MIN_CONFIDENCE)
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
