"""A face box moved across to the middle of the head, not of the cheeks the detector boxes.

libfacedetection boxes a face from cheek to cheek; as a head turns, its far side and one ear
reach further out than the other, and a crop that must keep a head nearly its own width cuts
that side. MediaPipe's face mesh (Apache-2.0, `face_landmark.tflite` vendored in `models/`,
run by LiteRT, 0.9 ms a face) places 468 points on a face; two of them (234 and 454) mark its
outline at the ears, and their midpoint is the head's middle across. Measured against the
annotated heads (ear to ear) of the real clips: on Megamind the face box's centre is 12.4
pixels from the head's middle on average, the mesh's midpoint 5.3; on carphone 2.4 and 2.1.
Where the mesh sees no face (a rabbit, a dog, a blurred one: its own score under MIN_SCORE)
the box stays as detected.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from batch.reframer.faces import Face
from batch.reframer.geometry import Box

MODEL_PATH = Path(__file__).with_name("models") / "face_landmark.tflite"
# The model's input: a square of this many pixels around the face...
INPUT_PIXELS = 192
# ...this many times the face box's larger side (MediaPipe's own face rectangle).
CROP_SCALE = 1.5
# The mesh's score that a face fills its input; below it the points are guesses.
MIN_SCORE = 0.5
# The outline's points at the ears, on the face's right and on its left.
OUTLINE_RIGHT, OUTLINE_LEFT = 234, 454
# The mesh's own wander, as a share of the box's width: the first this much of an offset is
# not moved by. Measured on 3,898 faces of 161 generated clips (photographs, each one face
# seen again and again): from one look to the next the midpoint moves 0.015 of the width at
# the median clip, 0.030 at the 90th percentile. Moved by all of it, the crop shook on a
# still face (p95 acceleration 0 -> 2.67) and kept Megamind's heads on 0.881 of its frames;
# with this, 0.914 (the only value tried).
NOISE_SHARE = 0.02
# ...and at most this share (the offsets on those faces: 0.038 at the median, 0.146 at the
# 95th percentile; Megamind's turned heads need up to 0.11).
MAX_SHIFT_SHARE = 0.15


class _Mesh:
    """The face mesh model, one call at a time."""

    def __init__(self) -> None:
        from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-untyped]

        self._interpreter: Any = Interpreter(model_path=str(MODEL_PATH), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        points, score = self._interpreter.get_output_details()
        self._points, self._score = points["index"], score["index"]
        self._lock = threading.Lock()

    def __call__(self, rgb: NDArray[np.float32]) -> tuple[NDArray[np.float32], float]:
        """The 468 points (x, y, z in input pixels) and the score that a face is there."""
        with self._lock:
            self._interpreter.set_tensor(self._input, rgb[None])
            self._interpreter.invoke()
            points = np.array(self._interpreter.get_tensor(self._points), np.float32)
            logit = float(np.array(self._interpreter.get_tensor(self._score)).ravel()[0])
        return points.reshape(468, 3), 1.0 / (1.0 + float(np.exp(-logit)))


@cache
def _mesh() -> _Mesh:
    return _Mesh()


def head_middle(bgr: NDArray[np.uint8], box: Box) -> float | None:
    """Where the head whose face is `box` (pixels of `bgr`) has its middle across, or None
    where the mesh sees no face there."""
    side = CROP_SCALE * max(box.w, box.h)
    left, top = box.cx - side / 2, box.cy - side / 2
    to_input = INPUT_PIXELS / side
    warp = np.array([[to_input, 0, -left * to_input], [0, to_input, -top * to_input]])
    square = cv2.warpAffine(bgr, warp, (INPUT_PIXELS, INPUT_PIXELS))
    rgb = cv2.cvtColor(square, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    points, score = _mesh()(rgb)
    if score < MIN_SCORE:
        return None
    middle = (points[OUTLINE_RIGHT, 0] + points[OUTLINE_LEFT, 0]) / 2
    return float(left + middle / to_input)


def centred_on_heads(bgr: NDArray[np.uint8], faces: list[Face], scale: float) -> list[Face]:
    """`faces` (boxes in source pixels, `scale` of them to a pixel of `bgr`), each box moved
    across towards the middle of its head where the mesh finds one (and marked `meshed`)."""
    centred = []
    for face in faces:
        box = face.box.scaled(1 / scale)
        middle = head_middle(bgr, box)
        if middle is None:
            centred.append(face)
            continue
        offset = middle - box.cx
        beyond_noise = max(0.0, abs(offset) - NOISE_SHARE * box.w)
        shift = float(np.sign(offset)) * min(beyond_noise, MAX_SHIFT_SHARE * box.w) * scale
        centred.append(
            replace(
                face,
                box=Box(face.box.x + shift, face.box.y, face.box.w, face.box.h),
                meshed=True,
            )
        )
    return centred
