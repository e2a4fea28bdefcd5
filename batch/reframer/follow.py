"""Stage 5b, following: a subject carried from one sampled frame to the next by optical flow,
so it still has a box where the detector misses it (a turned, blurred or blocky face).

Median flow (Kalal, Mikolajczyk & Matas 2010): a grid of points inside the box is tracked
forward with pyramidal Lucas-Kanade and back again; the points that return to where they
started (the reliable half) move the box by their median displacement and scale it by the
median change of their pairwise distances. A box whose points do not come back, that leaves
the picture, or that nobody has detected for a while and has moved away from its detection is
dropped rather than guessed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from batch.reframer.geometry import Box

Gray = NDArray[np.uint8]

# Points on a GRID x GRID lattice inside the box are tracked.
GRID = 10
# Lucas-Kanade window (pixels of the analysis frame) and pyramid depth: with 3 levels a
# displacement of about 60 pixels between two samples is still found.
LK_WINDOW = 15
LK_LEVELS = 3
# At least this many points must come back to where they started...
MIN_RELIABLE_POINTS = 8
# ...and the median point within this share of the box's larger side (forward-backward
# error; Kalal et al. give up past 10 pixels) for the move to be trusted: blurred fur or
# the background inside the box send many points astray, the reliable half still agrees.
MAX_MEDIAN_ERROR_SHARE = 0.1
# Between two samples a box grows or shrinks by at most this factor.
MAX_SCALE_STEP = 1.25
# A box this close to the picture's edge (a share of the picture's side) holds only the part
# of its subject inside the picture...
EDGE_SHARE = 0.01
# ...where the picture changes along that edge beside it: the mean absolute luma change over
# the outermost EDGE_STRIP pixels exceeds EDGE_CHANGE (0-255). A subject crossing the edge
# changes them; one just inside the picture leaves the background there as it was (measured:
# a motorcycle entering and one leaving, 26.6-47.4; one found 12 source pixels in from the
# edge, 0.0, and its box grew from the edge while it drove away from it, cutting it).
EDGE_STRIP = 2
EDGE_CHANGE = 10.0

_LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)


def gray(bgr: NDArray[np.uint8]) -> Gray:
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _grid(box: Box) -> NDArray[np.float32]:
    # Inset by a tenth: points on the box's edge mostly sit on the background.
    xs = np.linspace(box.x + 0.1 * box.w, box.right - 0.1 * box.w, GRID)
    ys = np.linspace(box.y + 0.1 * box.h, box.bottom - 0.1 * box.h, GRID)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack((gx.ravel(), gy.ravel()), axis=1).astype(np.float32).reshape(-1, 1, 2)


def _lucas_kanade(
    before: Gray, after: Gray, points: NDArray[np.float32]
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Where `points` of `before` are in `after`, and which of them were found."""
    moved, status, _error = cv2.calcOpticalFlowPyrLK(
        before,
        after,
        points,
        None,
        winSize=(LK_WINDOW, LK_WINDOW),
        maxLevel=LK_LEVELS,
        criteria=_LK_CRITERIA,
    )
    return np.asarray(moved, np.float32), np.asarray(status).ravel() == 1


def median_flow(before: Gray, after: Gray, box: Box) -> Box | None:
    """Where `box` (pixels of `before`) is in `after`, or None when the flow is unreliable."""
    height, width = before.shape
    if box.w < 4 or box.h < 4:
        return None
    start = _grid(box)
    ahead, found = _lucas_kanade(before, after, start)
    back, returned = _lucas_kanade(after, before, ahead)
    valid = found & returned
    if valid.sum() < MIN_RELIABLE_POINTS:
        return None
    error = np.linalg.norm((start - back).reshape(-1, 2), axis=1)
    median_error = float(np.median(error[valid]))
    if median_error > MAX_MEDIAN_ERROR_SHARE * max(box.w, box.h):
        return None
    reliable = valid & (error <= median_error)
    if reliable.sum() < MIN_RELIABLE_POINTS:
        return None
    origin, moved = start.reshape(-1, 2)[reliable], ahead.reshape(-1, 2)[reliable]
    dx, dy = np.median(moved - origin, axis=0)
    first, second = np.triu_indices(len(origin), 1)
    spread_before = np.linalg.norm(origin[first] - origin[second], axis=1)
    spread_after = np.linalg.norm(moved[first] - moved[second], axis=1)
    usable = spread_before > 1.0
    scale = float(np.median(spread_after[usable] / spread_before[usable])) if usable.any() else 1.0
    scale = min(max(scale, 1 / MAX_SCALE_STEP), MAX_SCALE_STEP)
    cx, cy = box.cx + float(dx), box.cy + float(dy)
    if not (0 <= cx < width and 0 <= cy < height):
        return None
    w, h = box.w * scale, box.h * scale
    # Clipped to the picture, as detections are; mostly outside it, the subject has left.
    left, top = max(cx - w / 2, 0.0), max(cy - h / 2, 0.0)
    right, bottom = min(cx + w / 2, float(width)), min(cy + h / 2, float(height))
    if (right - left) * (bottom - top) < 0.5 * w * h:
        return None
    # A subject coming in over the picture's edge shows more of itself, its far side still at
    # the edge: the box grows there rather than moving off it (measured: a motorcycle driving
    # in from the left was followed 40-76 pixels clear of the edge it still touched, and the
    # crop cut it there).
    near_x, near_y = EDGE_SHARE * width, EDGE_SHARE * height
    rows = slice(int(max(box.y, 0)), int(min(box.bottom, height)) + 1)
    columns = slice(int(max(box.x, 0)), int(min(box.right, width)) + 1)
    strip = EDGE_STRIP
    if box.x <= near_x and _changed(before, after, (rows, slice(0, strip))):
        left = 0.0
    if box.y <= near_y and _changed(before, after, (slice(0, strip), columns)):
        top = 0.0
    if box.right >= width - near_x and _changed(before, after, (rows, slice(width - strip, width))):
        right = float(width)
    if box.bottom >= height - near_y and _changed(
        before, after, (slice(height - strip, height), columns)
    ):
        bottom = float(height)
    return Box(left, top, right - left, bottom - top)


def _changed(before: Gray, after: Gray, part: tuple[slice, slice]) -> bool:
    """Whether the picture changed in `part` (rows, columns) from `before` to `after`."""
    change = cv2.absdiff(before[part], after[part])
    return bool(change.size) and float(change.mean()) > EDGE_CHANGE


@dataclass(frozen=True)
class Followed:
    """A box carried by optical flow: the frame, where it is there (analysis pixels), the
    frame it was detected on (before or after), how confident that detection was, and the
    box detected there."""

    frame: int
    box: Box
    detected_at: int
    confidence: float
    detected: Box

    @property
    def in_place(self) -> bool:
        """Still within its own width and height of where it was detected."""
        return (
            abs(self.box.cx - self.detected.cx) <= self.detected.w
            and abs(self.box.cy - self.detected.cy) <= self.detected.h
        )


def _same(a: Box, b: Box) -> bool:
    near = abs(a.cx - b.cx) + abs(a.cy - b.cy) <= 0.5 * max(a.w, a.h, b.w, b.h)
    return a.iou(b) >= 0.2 or near


class Follower:
    """Fed the sampled frames in order with what was detected on each (analysis pixels);
    answers the boxes followed from earlier detections that nothing detected this time, and,
    for a subject detected for the first time, where it was on the last few samples before
    (the detector often finds a subject a little after it is there).

    At most `limit` boxes are followed at once (the largest), each for at most `max_frames`
    after its last detection (past that a flow-only box has drifted more often than not)
    unless it is still in place: a subject that stays where it was detected (a face the
    detector only half recognises, a cartoon's) is followed for as long as the flow holds,
    and a box that drifts that far from its detection is dropped then. A subject found late
    is followed back through the samples at most `back_frames` before.
    """

    def __init__(self, max_frames: int, back_frames: int, limit: int = 6) -> None:
        self.max_frames = max_frames
        self.back_frames = back_frames
        self.limit = limit
        # The recent samples (frame, picture), oldest first; the last one is always kept.
        self._recent: deque[tuple[int, Gray]] = deque()
        self._followed: list[Followed] = []
        # Boxes carried forward by optical flow so far (`median_flow` runs).
        self.flows = 0

    def update(
        self, frame: int, picture: Gray, detected: list[tuple[Box, float]]
    ) -> list[Followed]:
        if self._recent and self._recent[-1][1].shape != picture.shape:
            self._recent.clear()
        while len(self._recent) > 1 and self._recent[0][0] < frame - self.back_frames:
            self._recent.popleft()
        before = self._recent[-1][1] if self._recent else None
        moved: list[Followed] = []
        # Boxes detected again where they were: the detection replaces them, no flow needed
        # (most samples of a shot with a face; the flow is the dear part).
        found_again: list[Box] = []
        if before is not None:
            for item in self._followed:
                if frame - item.detected_at > self.max_frames and not item.in_place:
                    continue
                if any(_same(item.box, box) for box, _c in detected):
                    found_again.append(item.box)
                    continue
                self.flows += 1
                box = median_flow(before, picture, item.box)
                if box is not None:
                    moved.append(replace(item, frame=frame, box=box))
        missed = [m for m in moved if not any(_same(m.box, box) for box, _c in detected)]
        fresh = [Followed(frame, box, frame, confidence, box) for box, confidence in detected]
        kept = sorted([*fresh, *missed], key=lambda f: -f.box.area)[: self.limit]
        seen = [*found_again, *(m.box for m in moved)]
        earlier = [
            found
            for item in fresh
            if before is not None and not any(_same(item.box, box) for box in seen)
            for found in self._backwards(picture, item)
        ]
        self._recent.append((frame, picture))
        self._followed = kept
        return [m for m in missed if any(m is k for k in kept)] + earlier

    @property
    def following(self) -> list[Followed]:
        """The boxes being followed (or just detected) as of the last sample."""
        return list(self._followed)

    def clear(self) -> None:
        """Follow nothing and forget the samples: the next one is not compared with them."""
        self._recent.clear()
        self._followed = []

    def _backwards(self, picture: Gray, item: Followed) -> list[Followed]:
        """A newly detected box followed back through the recent samples, newest first."""
        found: list[Followed] = []
        box, later = item.box, picture
        for frame, earlier in reversed(self._recent):
            if frame < item.frame - self.back_frames:
                break
            moved = median_flow(later, earlier, box)
            if moved is None:
                break
            found.append(replace(item, frame=frame, box=moved))
            box, later = moved, earlier
        return found
