"""When a sparse detector looks: the object detector and the saliency model run on a few of the
sampled frames only, by one rule."""

from __future__ import annotations

import math


class LookSchedule:
    """About `looks_per_second` looks a second among samples fed in order, never on a sample
    where faces were found (the look waits for the next sample): a shot with a face is about
    the face, and these detectors decide shots without one. On footage full of faces they then
    cost next to nothing. (The object detector's looks for the people faces belong to use a
    schedule of their own, fed only the samples with faces, each one a sample it may look at.)

    Looks are spaced in frames, not in samples: samples come 5 or 10 times a second
    (sample_rate.py), looks as often either way."""

    def __init__(self, fps: float, step: int, looks_per_second: float) -> None:
        # Frames between two looks: a whole number of the `step` frames between samples.
        self.every = step * max(1, round(fps / step / looks_per_second))
        self.looks = 0
        self._last = -math.inf

    def due(self, frame: int, faces_found: bool) -> bool:
        """Whether to look at this sample (counted when so)."""
        if frame - self._last < self.every or faces_found:
            return False
        self._last = frame
        self.looks += 1
        return True

    def restart(self) -> None:
        """Look at the next sample that may be looked at, whatever the count."""
        self._last = -math.inf
