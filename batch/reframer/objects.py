"""Stage 4b, objects: people, animals and vehicles on some of the sampled analysis frames.

Faces are the strongest subject, but many shots have none: a person seen from behind, a
cyclist, a dog, a car. As AutoFlip does, a COCO object detector runs beside the face detector
and the shot's subject is chosen among its classes by weight (person > animal > vehicle),
size, persistence and motion (tracking/object_tracks.py).

The model is MediaPipe's EfficientDet-Lite0 (int8, 320x320, COCO's 90 class ids), vendored in
`models/` (Apache-2.0, see models/NOTICE) and run by LiteRT on one thread: nothing is
downloaded at run time. Its outputs are raw (no NMS inside): per anchor, 90 class scores
(already sigmoid) and a box encoding (dy, dx, dh, dw) relative to one of 19206 fixed anchors,
which are rebuilt here exactly as the model's metadata lists them (the unit tests compare).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from batch.reframer.geometry import Box
from batch.reframer.look_schedule import LookSchedule

MODEL_PATH = Path(__file__).with_name("models") / "efficientdet_lite0.tflite"
INPUT_SIZE = 320
# The anchors: feature levels 3-7 (grids of 40, 20, 10, 5 and 3 cells on a side), on each
# cell 3 octave scales x 3 aspect ratios (width:height 1, 2, 1/2), the base side 3 cells.
_GRIDS = (40, 20, 10, 5, 3)
_OCTAVES = (0.0, 1 / 3, 2 / 3)
_RATIOS = (1.0, 2.0, 0.5)
_ANCHOR_CELLS = 3.0

# Below this score the detector's hits on textures and photographs creep in (measured on
# the generated suite's backgrounds); a subject is also required to persist
# (tracking/object_tracks.py).
MIN_SCORE = 0.4
# Boxes of one class overlapping more than this are one object (non-maximum suppression).
NMS_OVERLAP = 0.5
MAX_OBJECTS = 8
# Objects smaller than this share of the picture's short side are background.
MIN_SIDE_SHARE = 0.08

# What a shot can be about, and how much it counts when several are there (AutoFlip's order:
# face > person > animal > vehicle). Other COCO classes (furniture, food, signs...) are
# never the subject of a shot. Class names from the model's labels.txt.
PERSON = "person"
# What a person rides is part of the subject with them (a cyclist is the person and the bicycle).
RIDES = ("bicycle", "motorcycle", "horse")
ANIMALS = ("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe")
VEHICLES = ("bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat")
CLASS_WEIGHTS: dict[str, float] = (
    {PERSON: 1.0} | dict.fromkeys(ANIMALS, 0.7) | dict.fromkeys(VEHICLES, 0.5)
)
# The model's class ids (COCO's 90, with gaps) of the classes above.
_CLASS_IDS: dict[int, str] = {
    0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 4: "airplane", 5: "bus", 6: "train",
    7: "truck", 8: "boat", 15: "bird", 16: "cat", 17: "dog", 18: "horse", 19: "sheep", 20: "cow",
    21: "elephant", 22: "bear", 23: "zebra", 24: "giraffe",
}  # fmt: skip
# Those ids in order: the columns of the model's scores that are read.
_WANTED_IDS = np.array(sorted(_CLASS_IDS))


@dataclass(frozen=True)
class DetectedObject:
    frame: int
    box: Box
    confidence: float
    label: str
    # None for a detection; for an object carried by optical flow between looks (pipeline.py),
    # the frame of the look that found it, and the box it found there.
    detected_at: int | None = None
    followed_from: Box | None = None

    @property
    def weight(self) -> float:
        return CLASS_WEIGHTS[self.label]


def anchors() -> NDArray[np.float64]:
    """The model's anchors, (x centre, y centre, width, height) in input shares, in its order:
    level by level, cell by cell (rows of cells, x fastest), octave then aspect ratio."""
    rows = []
    for grid in _GRIDS:
        centres = (np.arange(grid) + 0.5) / grid
        cy, cx = np.meshgrid(centres, centres, indexing="ij")
        sizes = [
            (
                _ANCHOR_CELLS / grid * 2**octave * np.sqrt(ratio),
                _ANCHOR_CELLS / grid * 2**octave / np.sqrt(ratio),
            )
            for octave in _OCTAVES
            for ratio in _RATIOS
        ]
        per_cell = np.array(sizes)
        level = np.empty((grid * grid, len(sizes), 4))
        level[:, :, 0] = cx.ravel()[:, None]
        level[:, :, 1] = cy.ravel()[:, None]
        level[:, :, 2:] = per_cell[None]
        rows.append(level.reshape(-1, 4))
    return np.concatenate(rows)


_ANCHORS = anchors()


def letterbox(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], float]:
    """The picture shrunk to fit the model's square input, padded with black at the right or
    bottom (as the model was trained), and the input pixels per picture pixel."""
    height, width = rgb.shape[:2]
    factor = INPUT_SIZE / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    square = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    square[: size[1], : size[0]] = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return square, factor


def decode(
    wanted: NDArray[np.float32], encodings: NDArray[np.float32], factor: float, min_score: float
) -> list[tuple[str, float, Box]]:
    """(class, score, box in picture pixels) of the subject classes scoring at least
    `min_score`, one box per object (greedy non-maximum suppression per class). `wanted` holds
    the scores of the `_WANTED_IDS` classes, a column each."""
    ids = _WANTED_IDS
    anchor_index, column = np.nonzero(wanted >= min_score)
    if len(anchor_index) == 0:
        return []
    found = wanted[anchor_index, column]
    anchor = _ANCHORS[anchor_index]
    code = encodings[anchor_index].astype(np.float64)
    cy = code[:, 0] * anchor[:, 3] + anchor[:, 1]
    cx = code[:, 1] * anchor[:, 2] + anchor[:, 0]
    h = np.exp(code[:, 2]) * anchor[:, 3]
    w = np.exp(code[:, 3]) * anchor[:, 2]
    to_picture = INPUT_SIZE / factor
    kept: list[tuple[str, float, Box]] = []
    for i in np.argsort(-found):
        label = _CLASS_IDS[int(ids[column[i]])]
        box = Box(
            float(cx[i] - w[i] / 2) * to_picture,
            float(cy[i] - h[i] / 2) * to_picture,
            float(w[i]) * to_picture,
            float(h[i]) * to_picture,
        )
        if any(k[0] == label and k[2].iou(box) > NMS_OVERLAP for k in kept):
            continue
        kept.append((label, float(found[i]), box))
        if len(kept) == MAX_OBJECTS:
            break
    return kept


class _Model:
    """The LiteRT interpreter, loaded once per process (about 50 ms) and used by one thread
    at a time."""

    def __init__(self) -> None:
        from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-untyped]

        self._interpreter: Any = Interpreter(model_path=str(MODEL_PATH), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        self._scores = next(o["index"] for o in outputs if o["shape"][-1] != 4)
        self._boxes = next(o["index"] for o in outputs if o["shape"][-1] == 4)
        self._lock = threading.Lock()

    def run(self, square: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """The scores of the wanted classes (`_WANTED_IDS`) and the box encodings, per anchor."""
        with self._lock:
            self._interpreter.set_tensor(self._input, square[None])
            self._interpreter.invoke()
            # Read through views of the interpreter's buffers (`tensor`), copying out only the
            # wanted columns: `get_tensor` copies all 90 classes' scores, 7 MB, every look.
            # No view outlives the lock (the interpreter refuses to run while one exists).
            wanted = self._interpreter.tensor(self._scores)()[0][:, _WANTED_IDS]
            boxes = self._interpreter.tensor(self._boxes)()[0].copy()
        return wanted, boxes


@cache
def _model() -> _Model:
    return _Model()


def detect_objects(
    frame_index: int, bgr: NDArray[np.uint8], scale: float, min_score: float = MIN_SCORE
) -> list[DetectedObject]:
    """People, animals and vehicles in one BGR analysis frame; boxes scaled by `scale` into
    source pixels and clipped to the picture."""
    height, width = bgr.shape[:2]
    square, factor = letterbox(np.ascontiguousarray(bgr[:, :, ::-1]))
    scores, encodings = _model().run(square)
    found = []
    for label, score, box in decode(scores, encodings, factor, min_score):
        left, top = max(box.x, 0.0), max(box.y, 0.0)
        right, bottom = min(box.right, float(width)), min(box.bottom, float(height))
        if min(right - left, bottom - top) < MIN_SIDE_SHARE * min(width, height):
            continue
        clipped = Box(left, top, right - left, bottom - top).scaled(scale)
        found.append(DetectedObject(frame_index, clipped, score, label))
    return found


# Objects are looked for this many times a second (the face detector runs on every sample):
# the detector costs about 15-20 ms of CPU a look, and tracking interpolates between looks.
LOOKS_PER_SECOND = 3.0
# On samples with faces, it looks this many times a second for the people the faces belong
# to (and what they ride): the viewer's subject is the whole person where it fits the crop,
# which the camera keeps and the job's self-measurement judges (tracking.person_boxes;
# measured on a real clip: framing and judging the face alone kept the annotated cyclist on
# 0.909 of the frames while claiming 0.995).
PERSON_LOOKS_PER_SECOND = 1.0
# After this many such looks in a row found nobody (a face in a photograph or on a screen, a
# face alone in the picture), only every this many of them is taken until somebody is found.
IDLE_AFTER_EMPTY_LOOKS = 2
IDLE_EVERY = 4
# Likewise, after that many looks on samples without faces found nothing the shot could be
# about (a ball, a landscape, a texture: motion or salience decide those), only every other
# one is taken until something is found: something arriving is found at most 0.7 s late.
IDLE_EVERY_WITHOUT_FACES = 2


class _Idling:
    """Looks that keep finding nothing: after `IDLE_AFTER_EMPTY_LOOKS` of them in a row, only
    every `every`-th look due is taken, until one finds something."""

    def __init__(self, every: int) -> None:
        self.every = every
        # Looks in a row that found nothing; looks due while idle, and those passed over.
        self._empty = self._due = self.passed = 0

    def passes_over(self) -> bool:
        """Whether to pass over this look that is due (counted when so)."""
        if self._empty < IDLE_AFTER_EMPTY_LOOKS:
            return False
        self._due += 1
        if self._due % self.every:
            self.passed += 1
            return True
        return False

    def looked(self, found_something: bool) -> None:
        self._empty = 0 if found_something else self._empty + 1

    def wake(self) -> None:
        """Take the next look due, as after a look that found something."""
        self._empty = 0


class ObjectSampler:
    """Object detection on every few sampled frames of one video, fed in order (look_schedule.py):
    on samples without faces, for the subject of faceless shots; more sparsely on samples with
    faces, for the people they belong to (only people and rides are kept from those looks)."""

    def __init__(self, scale: float, fps: float, step: int) -> None:
        self.scale = scale
        self._schedule = LookSchedule(fps, step, LOOKS_PER_SECOND)
        self._beside_faces = LookSchedule(fps, step, PERSON_LOOKS_PER_SECOND)
        self._faces_before = False
        self._without_faces = _Idling(IDLE_EVERY_WITHOUT_FACES)
        self._for_people = _Idling(IDLE_EVERY)
        # Looks for people beside faces taken.
        self._person_looks = 0

    @property
    def every(self) -> int:
        """Frames between two looks."""
        return self._schedule.every

    @property
    def detected(self) -> int:
        return self._schedule.looks - self._without_faces.passed + self._person_looks

    def objects(
        self, frame_index: int, bgr: NDArray[np.uint8], faces_found: bool = False
    ) -> list[DetectedObject]:
        appeared, self._faces_before = faces_found and not self._faces_before, faces_found
        if self._schedule.due(frame_index, faces_found):
            if self._without_faces.passes_over():
                return []
            found = detect_objects(frame_index, bgr, self.scale)
            self._without_faces.looked(bool(found))
            return found
        if appeared:
            # A face appeared (a new shot, or someone walked in): whose it is is known from
            # its first sample, not a second later.
            self._beside_faces.restart()
            self._for_people.wake()
        if not faces_found or not self._beside_faces.due(frame_index, False):
            return []
        if self._for_people.passes_over():
            return []
        self._person_looks += 1
        found = [o for o in detect_objects(frame_index, bgr, self.scale)
                 if o.label in (PERSON, *RIDES)]  # fmt: skip
        self._for_people.looked(any(o.label == PERSON for o in found))
        return found
