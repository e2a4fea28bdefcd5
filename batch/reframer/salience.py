"""Stage 4c, salience: where a picture draws the eye, for shots with no face and no object.

A shot of a bicycle behind a fence, a plate of food, a sign: no face and nothing the COCO
detector knows, and often nothing moves but the traffic behind. A visual saliency model
predicts where people look; as AutoFlip does, it is the last signal before holding the
centre. It is looked at sparsely (twice a second, and never on samples with a face the
usual look found) and only in shots that would otherwise have no subject, or whose only faces
may be a photograph's pattern (tracking/face_tracks.py), once tracking knows them.

The model is UNISAL (Droste, Jiao & Noble, ECCV 2020) in image mode, exported to ONNX,
vendored in `models/` (Apache-2.0, see models/NOTICE) and run by ONNX Runtime on one thread:
nothing is downloaded at run time. Its output is a log-softmax over a 416x256 picture.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from batch.reframer import decode
from batch.reframer.geometry import Box
from batch.reframer.look_schedule import LookSchedule
from batch.reframer.probe import MediaInfo

# Its weights are in "unisal.onnx.data" beside it, which ONNX Runtime finds by that name.
MODEL_PATH = Path(__file__).with_name("models") / "unisal.onnx"
# The model's fixed input (width, height) and its normalisation (ImageNet's).
INPUT_SIZE = (416, 256)
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)
# Maps are kept pooled to this grid (columns, rows): a look weighs 26 kB, not 400.
GRID = (104, 64)

# The salient region: the connected cells at least this share of the map's peak, around it.
REGION_LEVEL = 0.5
# A map is concentrated (it says what the picture is about) when its region is at least this
# many times denser than an even spread would make it...
MIN_CONCENTRATION = 3.0
# ...and holds at least this share of everything above the level: two or three blobs of
# similar strength are a picture without one subject.
MIN_DOMINANCE = 0.6
# ...and says more than the model's answer for an empty picture (its centre prior, the map of
# a mid-grey one): at least this much information (Kullback-Leibler divergence, in nats; a
# black frame scores 0.05, textures and real shots 0.18 to 0.8).
MIN_INFORMATION = 0.1
# The subject's box is the region's core, the cells at least this share of the peak: a
# region at half the peak often spreads from the subject over what passes behind it.
FOCUS_LEVEL = 0.8


@dataclass(frozen=True)
class SalienceLook:
    """The saliency map of one sampled frame, pooled to `GRID` and summing to 1, and the size
    of one grid cell in source pixels."""

    frame: int
    grid: NDArray[np.float32]
    cell: tuple[float, float]


@dataclass(frozen=True)
class SalientRegion:
    """The core of the region around a map's peak, in source pixels, and how clearly the
    region stands out."""

    box: Box
    # The region's share of the map's mass divided by its share of the picture (1: no
    # better than an even spread).
    concentration: float
    # Its share of the mass of all the regions above the level.
    dominance: float
    # How far the map is from the model's answer for an empty picture (nats).
    information: float

    @property
    def peaked(self) -> bool:
        """Dense enough, and more than the model's answer for an empty picture, whatever
        else stands out beside it."""
        return self.concentration >= MIN_CONCENTRATION and self.information >= MIN_INFORMATION

    @property
    def concentrated(self) -> bool:
        return self.peaked and self.dominance >= MIN_DOMINANCE


def _around_peak(
    grid: NDArray[np.float32], level: float
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """The cells at least `level` of the peak, and the connected part of them holding it."""
    above = grid >= level * float(grid.max())
    # Imported here: 0.1 s of CPU, and only shots left to salience are ever measured.
    from scipy import ndimage  # type: ignore[import-untyped]

    labels, _ = ndimage.label(above)
    peak = np.unravel_index(int(np.argmax(grid)), grid.shape)
    return above, np.asarray(labels == labels[peak])


def salient_region(
    grid: NDArray[np.float32],
    cell: tuple[float, float],
    prior: NDArray[np.float32] | None = None,
) -> SalientRegion:
    """How the region around the peak (cells at least `REGION_LEVEL` of it) stands out, and
    the box of its core (`FOCUS_LEVEL`), with `cell` the grid cell's size in source pixels.
    `prior` is the model's map of an empty picture (by default, as the model draws it)."""
    total = float(grid.sum())
    if total <= 0:
        whole = Box(0, 0, grid.shape[1] * cell[0], grid.shape[0] * cell[1])
        return SalientRegion(whole, 1.0, 0.0, 0.0)
    share = grid / total
    expected = empty_picture_map() if prior is None else prior
    information = float(np.sum(share * np.log((share + 1e-12) / (expected + 1e-12))))
    above, region = _around_peak(grid, REGION_LEVEL)
    mass = float(grid[region].sum())
    concentration = (mass / total) / (int(region.sum()) / grid.size)
    dominance = mass / float(grid[above].sum())
    rows, columns = np.nonzero(_around_peak(grid, FOCUS_LEVEL)[1])
    box = Box(
        float(columns.min()) * cell[0],
        float(rows.min()) * cell[1],
        float(columns.max() - columns.min() + 1) * cell[0],
        float(rows.max() - rows.min() + 1) * cell[1],
    )
    return SalientRegion(box, concentration, dominance, information)


def still_salient(look: SalienceLook, box: Box) -> bool:
    """Does this look still see `box` (source pixels) as salient: its map reaches, inside the
    box, at least `REGION_LEVEL` of the map's peak?"""
    left, top = int(box.x / look.cell[0]), int(box.y / look.cell[1])
    right = max(left + 1, round(box.right / look.cell[0]))
    bottom = max(top + 1, round(box.bottom / look.cell[1]))
    inside = look.grid[top:bottom, left:right]
    return inside.size > 0 and float(inside.max()) >= REGION_LEVEL * float(look.grid.max())


def shot_region(looks: list[SalienceLook]) -> SalientRegion | None:
    """The region of a shot's mean map (what the shot as a whole draws the eye to)."""
    if not looks:
        return None
    mean = np.stack([look.grid for look in looks]).mean(axis=0).astype(np.float32)
    return salient_region(mean, looks[0].cell)


class _Model:
    """The ONNX Runtime session, loaded once per process and used by one thread at a time."""

    def __init__(self) -> None:
        import onnxruntime  # type: ignore[import-untyped]

        options = onnxruntime.SessionOptions()
        # One thread: the machine's cores go to the decode and the render.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session: Any = onnxruntime.InferenceSession(
            str(MODEL_PATH), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._lock = threading.Lock()

    def run(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        with self._lock:
            return np.asarray(self._session.run(None, {self._input: batch})[0], np.float32)


@cache
def _model() -> _Model:
    return _Model()


def saliency_map(bgr: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Where one BGR picture draws the eye: the model's 256x416 map, summing to 1."""
    rgb = cv2.resize(
        np.ascontiguousarray(bgr[:, :, ::-1]), INPUT_SIZE, interpolation=cv2.INTER_AREA
    )
    normalised = (rgb.astype(np.float32) / 255.0 - _MEAN) / _STD
    batch = np.ascontiguousarray(normalised.transpose(2, 0, 1)[None, None])
    probability = np.exp(_model().run(batch).reshape(INPUT_SIZE[1], INPUT_SIZE[0]))
    return (probability / max(float(probability.sum()), 1e-12)).astype(np.float32)


def look(frame_index: int, bgr: NDArray[np.uint8], scale: float) -> SalienceLook:
    """The pooled map of one analysis frame; `scale` maps its pixels to source pixels."""
    resized = cv2.resize(saliency_map(bgr), GRID, interpolation=cv2.INTER_AREA)
    pooled = np.asarray(resized / max(float(resized.sum()), 1e-12), dtype=np.float32)
    height, width = bgr.shape[:2]
    return SalienceLook(frame_index, pooled, (width * scale / GRID[0], height * scale / GRID[1]))


@cache
def empty_picture_map() -> NDArray[np.float32]:
    """The pooled map of a mid-grey picture: where the model looks when there is nothing to
    see (its learnt centre bias)."""
    return look(0, np.full((INPUT_SIZE[1], INPUT_SIZE[0], 3), 128, np.uint8), 1.0).grid


# Salience is looked at this many times a second (the model costs about 80 ms of CPU a look):
# what passes behind a still subject (traffic) draws the eye on some looks, and the shot's
# mean map needs a few looks to tell it from what stays (measured: at one look a second,
# a two-second shot of a parked bicycle was framed on the passing cars).
LOOKS_PER_SECOND = 2.0


class SalienceLooker:
    """Saliency on every few sampled frames, skipping samples where faces were found (by the
    usual look: one only the larger look finds may be a pattern, pipeline.py), as for the
    object detector (look_schedule.py), and only in the shots it decides.

    The analysis pass notes which samples are due a look (`note`); the looks are taken once
    tracking knows which shots no face, object or motion decides (`looks_in`), on those
    shots' frames decoded again. Most shots have one of those and cost no look; memory stays
    bounded as no frame is kept."""

    def __init__(self, info: MediaInfo, layout: decode.AnalysisGeometry) -> None:
        self._info, self._layout = info, layout
        self._schedule = LookSchedule(info.fps, layout.step, LOOKS_PER_SECOND)
        self._due: list[decode.FrameRef] = []
        self.looked = 0

    def note(self, frame: decode.AnalysisFrame, faces_found: bool = False) -> None:
        """Feed every sampled frame, in order."""
        if self._schedule.due(frame.index, faces_found):
            self._due.append(decode.FrameRef(frame.index, frame.pts))

    def looks_in(self, spans: Sequence[tuple[int, int]]) -> list[list[SalienceLook]]:
        """The looks due in each span of frames (start, end excluded; in order, apart)."""
        runs = [[ref for ref in self._due if start <= ref.index < end] for start, end in spans]
        looks: list[list[SalienceLook]] = [[] for _ in spans]
        which = {ref.index: i for i, run in enumerate(runs) for ref in run}
        scale = self._layout.detection_scale
        for index, bgr in decode.colour_frames_again(self._info, self._layout, runs):
            looks[which[index]].append(look(index, bgr, scale))
            self.looked += 1
        return looks
