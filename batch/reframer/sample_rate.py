"""Stage 2b, the sampling rate: it follows the subject's motion.

Candidate samples come every `step` frames (decode.SAMPLES_PER_SECOND, 10 a second). Every
other one is always taken; the ones between are optional (decode.analysis_frames) and passed
over while the shot is calm: the picture has not changed much since the last sample (no cut,
no pan), and over the last two samples either the same faces moved less than a fifth of their
size per candidate interval, or, with no face, what changed in the picture moved that little
(or nothing changed). A calm subject is then looked at 5 times a second, a fast one 10: at 5
a second everywhere, the quality suite's fast class kept its subject in 72% of frames instead
of 100%; where the subject is calm, a straight line between two looks 0.2 s apart is as good
as one 0.1 s apart, and a sample passed over costs no colour frame, face look, following or
motion measure.

Decided on the thread that detects faces, from what it found in frame order, so a job's
result does not depend on how the threads ran.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from batch.reframer.faces import FULL_SEARCH_ABOVE_CHANGE, Face, changed_blocks, picture_change
from batch.reframer.geometry import Box

# What a calm subject moves at most per candidate interval, as a share of its larger side (a
# face crossing the frame in 5 s moves about a tenth of its size)...
CALM_MOVE_SHARE = 0.2
# ...and as a share of the picture's width (crossing it in 5 s).
CALM_MOVE_OF_PICTURE = 0.02
# The picture changed less than this since the last sample (faces.picture_change's scale;
# past it the face detector searches the whole frame again: a cut, a pan).
CALM_BELOW_CHANGE = FULL_SEARCH_ABOVE_CHANGE


@dataclass(frozen=True)
class _Sample:
    frame: int
    faces: list[Box]
    # With no face: whether the thumbnail was compared with the sample before's, and what
    # changed since (a box in thumbnail pixels; None when nothing did).
    compared: bool = False
    changed: Box | None = None


class SampleRate:
    """Fed the samples taken, in order, with the faces found on each; answers whether an
    optional sample is taken."""

    def __init__(self, step: int, source_width: int) -> None:
        self.step = step
        self.source_width = source_width
        self._recent: deque[_Sample] = deque(maxlen=2)
        self._luma: NDArray[np.int16] | None = None
        self.passed = 0

    def take(self, luma: NDArray[np.uint8]) -> bool:
        """Whether to take an optional sample with this thumbnail (counted when passed over)."""
        current = luma.astype(np.int16)
        if self._comparable(current) and self._calm(current.shape[1]):
            assert self._luma is not None
            if picture_change(self._luma, current) < CALM_BELOW_CHANGE:
                self.passed += 1
                return False
        return True

    def note(self, frame: int, faces: list[Face], luma: NDArray[np.uint8]) -> None:
        """The faces found on a sample taken."""
        current = luma.astype(np.int16)
        sample = _Sample(frame, [face.box for face in faces])
        if not faces and self._comparable(current):
            assert self._luma is not None
            sample = replace(sample, compared=True, changed=changed_blocks(self._luma, current))
        self._recent.append(sample)
        self._luma = current

    def _comparable(self, luma: NDArray[np.int16]) -> bool:
        return self._luma is not None and self._luma.shape == luma.shape

    def _calm(self, thumbnail_width: int) -> bool:
        if len(self._recent) < 2:
            return False
        before, after = self._recent
        intervals = max(1.0, (after.frame - before.frame) / self.step)
        if after.faces:
            if len(after.faces) != len(before.faces):
                return False
            return all(
                _calm_move(_moved(f, before.faces), f, intervals, self.source_width)
                for f in after.faces
            )
        if not (before.compared and after.compared):
            return False
        if before.changed is None or after.changed is None:
            # Nothing changed over one of the two intervals: a still picture, or something
            # that starts moving (the next sample looks again, 0.2 s later at most).
            return before.changed is after.changed
        shift = float(
            np.hypot(after.changed.cx - before.changed.cx, after.changed.cy - before.changed.cy)
        )
        return _calm_move(shift, after.changed, intervals, thumbnail_width)


def _calm_move(distance: float, box: Box, intervals: float, picture_width: float) -> bool:
    """Whether a subject `box` that moved `distance` over `intervals` candidate intervals
    moved calmly (all in the pixels of a picture `picture_width` wide)."""
    per_interval = distance / intervals
    return per_interval <= min(
        CALM_MOVE_SHARE * max(box.w, box.h), CALM_MOVE_OF_PICTURE * picture_width
    )


def _moved(face: Box, earlier: list[Box]) -> float:
    """How far `face` is from the nearest of `earlier` (centre to centre)."""
    return min(float(np.hypot(face.cx - e.cx, face.cy - e.cy)) for e in earlier)
