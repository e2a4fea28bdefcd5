"""When a sparse detector looks: the object detector and the saliency model run on a few of the
sampled frames only, by one rule."""

from __future__ import annotations


class LookSchedule:
    """About `looks_per_second` looks a second among samples fed in order, never on a sample
    where faces were found (the look waits for the next sample): a shot with a face is about
    the face, and these detectors decide shots without one. On footage full of faces they then
    cost next to nothing. (The object detector's looks for the people faces belong to use a
    schedule of their own, fed only the samples with faces, each one a sample it may look at.)"""

    def __init__(self, samples_per_second: float, looks_per_second: float) -> None:
        # Samples between two looks.
        self.every = max(1, round(samples_per_second / looks_per_second))
        self.looks = 0
        self._since = self.every

    def due(self, faces_found: bool) -> bool:
        """Whether to look at this sample (counted when so)."""
        self._since += 1
        if self._since < self.every or faces_found:
            return False
        self._since = 0
        self.looks += 1
        return True

    def restart(self) -> None:
        """Look at the next sample that may be looked at, whatever the count."""
        self._since = self.every
