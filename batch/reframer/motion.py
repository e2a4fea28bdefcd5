"""Stage 5, saliency (motion): where things move, for shots without faces.

Each sampled frame is compared with the sample before (about a tenth of a second earlier; two
tenths where a calm shot's samples are passed over, sample_rate.py), after undoing the
camera's own motion, so a panning or zooming camera does not light up the whole picture.
The camera's motion is the similarity transform (shift, zoom, roll) that most points of a
grid agree on (optical flow, then RANSAC): a large textured subject moves differently from
the background but covers fewer of the grid's points (measured: phase correlation locked on a
furry cat crossing a panning shot and took the whole background for the subject). What still
differs is thresholded and grouped into the things that moved. A thing lights up where it
was a lag before as well as where it is; the picture a lag later tells them apart (where it
is now differs from that one too), so a sample's motion is settled a lag later (measured on a
motorcycle 399 pixels wide crossing a photograph in a second: the box trailed it by 60-80
pixels, and the job claimed 0.983 of the frames kept where the crop kept 0.050; settled, 0-20
pixels behind, 0.133 kept, claiming 0.780). Each sample reports the one that carries on from
the thing chosen a sample before (else the largest), the share of the motion it holds, the
robust extent of all of it, and that of what moved inside the picture (none of it cut by the
picture's edge): tracking follows the one thing where a shot has one mover at a time; where
several move at once, what moved inside where it fits the crop (a ball thrown beside its
thrower), else the extent of all of it (traffic). Measured on a ball rolling before a hand
that tilts its board: the extent spanned hand and ball, 200-450 pixels wide for a 26-pixel
ball, and the crop kept the ball on 94% of the frames; the ball itself, 98%. A thing touching
the strip a pan brought into view, which the picture compared with did not show, may go on
into it unseen: its motion says how far it could reach (`Motion.reach`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from batch.reframer.decode import AnalysisFrame
from batch.reframer.follow import gray
from batch.reframer.geometry import Box

# A pixel "moved" when it changed by more than this (0..255) after alignment...
MIN_PIXEL_CHANGE = 18.0
# ...and a frame has a moving subject when this share of it moved, but not more than the
# upper share (beyond that it is a lighting change or shake, not a subject).
MIN_MOVING_SHARE = 0.002
MAX_MOVING_SHARE = 0.5
LAG_SECONDS = 0.1
# Motion is measured on pictures this long (blurred first: fine texture shifted by a fraction
# of a pixel differs everywhere).
MOTION_LONG_SIDE = 240
# The camera's motion is estimated from a grid of this many points across and down.
GRID = (24, 14)
# The camera moved only when at least this share of the grid agrees on the move: on a flat
# background the only points that can be followed are on the subject (measured: a cat on a
# plain wall was taken for a camera following it, and its motion undone).
MIN_AGREEING_SHARE = 0.3
# Pixels next to the border of the aligned picture are left out: they are interpolated.
BORDER = 3
# A camera motion moving no corner of the picture this far (pixels) is no motion at all
# (measured: a ball rolling before a still camera, retention at 9:16 0.765 -> 0.937; bikes
# framed 1:1 0.935 -> 0.903, the traffic behind its parked bicycle now moving cleanly enough
# to be the subject; with 1.0 pixel, 0.610).
STILL_BELOW_PIXELS = 0.5
# Moved pixels this close (pixels of the motion picture) are one moving thing (measured on
# the rolling ball: 2, 4 and 8 gave the same crops).
GROUP_GAP = 4
# The group near where the subject last moved carries it on unless one this many times its
# size moves elsewhere, when it moved there at most this many comparison lags before
# (measured on the rolling ball framed 4:5: 1.000 with 4 or more, 0.957 with 2, and 0.957
# without carrying on, always the largest).
CARRY_ON_UNLESS_LARGER = 4.0
CARRY_ON_WITHIN_LAGS = 3
# Of what moved inside the picture, a group with under this share of the largest one's solid
# pixels (those left by an opening, 3x3: an outline a pixel or two thick has none) is a
# fragment: the outline of something standing just off the edge, not a thing moving.
# Measured on a ball thrown beside its thrower: with fragments, what moved inside spanned the
# ball and the thrower's outline on 4 of 13 samples, and the crop kept the ball on 59-71% of
# the frames at three of five starts; without, 89-100% at every start. Sizes counted on solid
# pixels, the job's claim there came within 0.004 of the truth (was 0.127: where the ball was
# cut by the bottom edge, the outline outweighed its blobs); with the opening alone and no
# share, within 0.035.
FRAGMENT_BELOW = 0.25
# A thing compared with the picture a lag before is where it is now and where it only was
# (two places, for a fast one); the part of it that differs from the picture a lag later too
# is where it is now (where_now), when that is at least this share of it (the only value
# tried: a thing that stops within the lag, or one whose new place overlaps its old one
# nearly whole, leaves less, and its box is kept as found).
NOW_AT_LEAST = 0.2

Gray = NDArray[np.uint8]
Region = tuple[float, float, float, float]
# Widths in pixels at the picture's left, top, right and bottom edges.
Strips = tuple[int, int, int, int]
# Grows a mask by GROUP_GAP on every side: what it then reaches is within the gap.
_WITHIN_GAP = np.ones((2 * GROUP_GAP + 1, 2 * GROUP_GAP + 1), np.uint8)
# The share of an aligned pixel that must come from inside the picture aligned for it to be
# compared. Telling "outside" by a negative border value let a pixel partly from outside pass
# as seen: with -1, one a third from outside (a camera move of a third of a pixel left the
# edge column a third darker, taken for a thing moving: a ball's box swept to the picture's
# edge); with -10,000, one a hundredth from outside (a camera roll of a ten-thousandth of a
# radian: the bottom row).
_SEEN_WHOLLY = 0.999
_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)


@dataclass(frozen=True)
class Motion:
    frame: int
    # What moved: the one thing the subject is (moving_region).
    box: Box
    # Share of the picture that moved: how strong the signal is.
    share: float
    # Where anything moved (the robust extent of every moved pixel); the box when not given.
    spread: Box | None = None
    # The share of the moved pixels the box holds.
    held: float = 1.0
    # Where the things that moved inside the picture moved (none of them cut by its edge).
    inside: Box | None = None
    # Whether the box is where the thing is now, told by the picture a lag later (where_now),
    # not also where it only was.
    settled: bool = False
    # Where the box touches a strip of the picture the camera's motion left unseen (the side
    # a pan brings into view): the box grown across the strip to the picture's edge, as far
    # as the thing may go on unseen (`_toward_unseen`). None elsewhere.
    reach: Box | None = None
    # Measured on a sample in a run of faces (`pipeline._Analysis.motion_beside_faces`): the
    # shot is about them, so this motion does not decide its subject; it only tells how far
    # what holds a face reaches (tracking.people).
    beside_faces: bool = False

    @property
    def everywhere(self) -> Box:
        return self.box if self.spread is None else self.spread


@dataclass(frozen=True)
class Moved:
    """What `moving_region` found, in pixels of the pictures compared."""

    box: Region
    share: float
    spread: Region
    held: float
    inside: Region | None
    # The chosen thing's moved pixels.
    pixels: NDArray[np.bool_]
    # The strips of the pictures compared that the camera's motion left unseen.
    unseen: Strips = (0, 0, 0, 0)


def camera_motion(previous: Gray, current: Gray) -> NDArray[np.float32]:
    """The 2x3 similarity transform that maps `previous` onto `current` for most of the
    picture (identity when too little of the picture agrees on one)."""
    rows, cols = current.shape
    xs, ys = np.meshgrid(
        np.linspace(BORDER, cols - 1 - BORDER, GRID[0]),
        np.linspace(BORDER, rows - 1 - BORDER, GRID[1]),
    )
    points = np.stack((xs.ravel(), ys.ravel()), axis=1).astype(np.float32).reshape(-1, 1, 2)
    moved, status, _error = cv2.calcOpticalFlowPyrLK(
        previous, current, points, None, winSize=(15, 15), maxLevel=3
    )
    found = np.asarray(status).ravel() == 1
    if found.sum() < 6:
        return _IDENTITY
    transform, inliers = cv2.estimateAffinePartial2D(
        points[found], np.asarray(moved)[found], method=cv2.RANSAC, ransacReprojThreshold=1.0
    )
    if transform is None or int(np.sum(inliers)) < MIN_AGREEING_SHARE * len(points):
        return _IDENTITY
    transform = np.asarray(transform, dtype=np.float32)
    corners = np.array([[0, 0, 1], [cols, 0, 1], [0, rows, 1], [cols, rows, 1]], np.float32)
    shift = corners @ (transform - _IDENTITY).T
    if float(np.abs(shift).max()) < STILL_BELOW_PIXELS:
        # A camera on a tripod: what the grid "agrees on" is compression noise, and undoing
        # it would blur every sharp edge of the picture into motion.
        return _IDENTITY
    return transform


def moving_region(
    previous: Gray, current: Gray, last: Region | None = None, earlier: Gray | None = None
) -> Moved | None:
    """What moved once the camera's motion is undone: the box (x, y, w, h, in pixels of the
    pictures) of the thing that moved (where several did, the one near `last`, where the
    subject moved a sample before, else the largest), the share of the picture that moved,
    and the robust extent of all of it. `earlier`, a picture as far before `previous` as it
    is before `current`, tells where a thing is now from where it only was (_inside_extent)."""
    changed = _changed(previous, current)
    if changed is None:
        return None
    moved, valid = changed
    share = float(moved.sum()) / float(valid.sum())
    if not MIN_MOVING_SHARE <= share <= MAX_MOVING_SHARE:
        return None
    groups = _groups(moved)
    pixels, held = _chosen_group(moved, groups, last)
    inside = _inside_extent(moved, valid, groups, None if earlier is None else (earlier, current))
    unseen = _unseen_strips(valid)
    return Moved(_robust_extent(pixels), share, _robust_extent(moved), held, inside, pixels, unseen)


def where_now(pixels: NDArray[np.bool_], current: Gray, later: Gray) -> Region | None:
    """The extent of a thing's moved `pixels` (`current` against the picture a lag before)
    that also differ from the picture a lag `later`: where it is now, not where it only was.
    None when too few do (it barely moves on, or `later` is across a cut and differs
    everywhere, which leaves all of them: the same as not asking)."""
    now = _now(pixels, current, later)
    return None if now is None else _robust_extent(now)


def _now(pixels: NDArray[np.bool_], current: Gray, later: Gray) -> NDArray[np.bool_] | None:
    """The moved `pixels` where the thing is now (where_now), or None."""
    changed = _changed(later, current)
    if changed is None:
        return None
    differs, seen = changed
    now = pixels & (differs | ~seen)
    if now.sum() < NOW_AT_LEAST * pixels.sum():
        return None
    return now


def _changed(previous: Gray, current: Gray) -> tuple[NDArray[np.bool_], NDArray[np.bool_]] | None:
    """The pixels of `current` that differ from `previous` once the camera's motion is
    undone, and those both pictures see (None when they share under a quarter)."""
    rows, cols = current.shape
    transform = camera_motion(previous, current)
    aligned = cv2.warpAffine(
        previous.astype(np.float32), transform, (cols, rows), flags=cv2.INTER_LINEAR
    )
    # Compare only where both pictures see the scene: where the aligned picture holds nothing
    # interpolated from outside the one aligned (`_SEEN_WHOLLY`).
    coverage = cv2.warpAffine(
        np.ones((rows, cols), np.float32), transform, (cols, rows), flags=cv2.INTER_LINEAR
    )
    wholly = (coverage >= _SEEN_WHOLLY).astype(np.uint8)
    seen = cv2.erode(wholly, np.ones((3, 3), np.uint8), iterations=BORDER)
    valid = seen.astype(bool)
    if valid.sum() < rows * cols // 4:
        return None
    change = np.abs(current.astype(np.float32) - aligned)
    threshold = max(MIN_PIXEL_CHANGE, 3.0 * float(np.median(change[valid])))
    return (change > threshold) & valid, valid


def _groups(moved: NDArray[np.bool_]) -> tuple[int, NDArray[np.int32], NDArray[np.int32]]:
    """Moved pixels within `GROUP_GAP` of each other labelled as one thing: the number of
    labels, the label of each pixel (0 where nothing moved) and each label's box grown by
    the gap (`cv2.connectedComponentsWithStats`)."""
    joined = cv2.dilate(moved.astype(np.uint8), _WITHIN_GAP)
    count, labels, stats, _centres = cv2.connectedComponentsWithStats(joined)
    return count, np.where(moved, labels, 0).astype(np.int32), np.asarray(stats, np.int32)


def _chosen_group(
    moved: NDArray[np.bool_],
    groups: tuple[int, NDArray[np.int32], NDArray[np.int32]],
    last: Region | None,
) -> tuple[NDArray[np.bool_], float]:
    """One group of moved pixels, and the share of them it holds: the largest near `last` (a
    sample before) if it is not dwarfed by one elsewhere, else the largest."""
    count, labels, stats = groups
    sizes = np.bincount(labels.ravel(), minlength=count)
    sizes[0] = 0
    chosen = int(np.argmax(sizes))
    if last is not None:
        # The groups' boxes come grown by the gap: touching means within it.
        near = [g for g in range(1, count) if sizes[g] and _touches(_region(stats[g]), last)]
        if near:
            best = max(near, key=lambda g: int(sizes[g]))
            if sizes[chosen] <= CARRY_ON_UNLESS_LARGER * sizes[best]:
                chosen = best
    held = float(sizes[chosen]) / float(sizes.sum())
    return labels == chosen, held


def _inside_extent(
    moved: NDArray[np.bool_],
    valid: NDArray[np.bool_],
    groups: tuple[int, NDArray[np.int32], NDArray[np.int32]],
    earlier_and_current: tuple[Gray, Gray] | None = None,
) -> Region | None:
    """The robust extent of the groups that touch neither the picture's edge nor the part of
    it the camera's motion left unseen (something cut by the edge, a thrower mostly out of the
    picture, a car coming in, is less likely the subject than what moves inside), but for
    fragments beside the largest of them (`FRAGMENT_BELOW`). Given the picture a lag before
    the one compared with, a group at the edge only where it was counts as inside
    (`_gone_from_edge`)."""
    _count, labels, _stats = groups
    # Within the gap of the edge is touching it, as within the gap of each other is one thing.
    edge = cv2.dilate((~valid).astype(np.uint8), _WITHIN_GAP).astype(bool)
    edge[:GROUP_GAP, :] = edge[-GROUP_GAP:, :] = True
    edge[:, :GROUP_GAP] = edge[:, -GROUP_GAP:] = True
    cut = np.unique(labels[edge & moved])
    if len(cut) and earlier_and_current is not None:
        cut = np.setdiff1d(cut, _gone_from_edge(labels, edge, moved, earlier_and_current))
    sizes = np.bincount(labels[_solid(moved)], minlength=int(labels.max()) + 1)
    sizes[0] = 0
    sizes[cut] = 0
    if not sizes.any():
        return None
    kept = np.nonzero(sizes >= FRAGMENT_BELOW * sizes.max())[0]
    return _robust_extent(np.isin(labels, kept))


def _gone_from_edge(
    labels: NDArray[np.int32],
    edge: NDArray[np.bool_],
    moved: NDArray[np.bool_],
    earlier_and_current: tuple[Gray, Gray],
) -> NDArray[np.intp]:
    """The groups touching the edge only where they were, not where they are: a ball back
    inside after bouncing off the edge. Where a thing is now, the current picture differs
    from the earlier one as well as from the one compared with; where it only was, from the
    one compared with only. A group is gone from the edge when solid pixels of it changed
    since both (it is somewhere now) and none of those lie at the edge: where the thing's
    two earlier places overlap, blur leaves a pixel or two changed since both, never solid.
    A group with none (a thrower swaying back to where he stood) is judged by the edge as
    before (measured on the thrown ball: letting those go too, the thrower's body joined
    what moved inside and the job's claim at one later start went 0.085 off the truth)."""
    since_earlier = _changed(*earlier_and_current)
    if since_earlier is None:
        return np.zeros(0, np.intp)
    changed, seen = since_earlier
    # Unseen on the earlier picture counts as changed.
    now = _solid(moved & (changed | ~seen))
    count = int(labels.max()) + 1
    somewhere = np.bincount(labels[now], minlength=count)
    at_edge = np.bincount(labels[now & edge], minlength=count)
    gone = (somewhere > 0) & (at_edge == 0)
    gone[0] = False
    return np.nonzero(gone)[0]


def _unseen_strips(valid: NDArray[np.bool_]) -> Strips:
    """How many whole columns (rows) at each edge of the picture are not compared: the strip
    a pan (or a zoom) brought into view, which the picture compared with did not show."""
    unseen = ~valid
    columns = np.asarray(unseen.all(axis=0), dtype=bool)
    rows = np.asarray(unseen.all(axis=1), dtype=bool)
    return (_leading(columns), _leading(rows), _leading(columns[::-1]), _leading(rows[::-1]))


def _leading(flags: NDArray[np.bool_]) -> int:
    """How many of `flags` are set before the first that is not."""
    return len(flags) if bool(flags.all()) else int(np.argmin(flags))


def _toward_unseen(extent: Region, pixels: NDArray[np.bool_], unseen: Strips) -> Region | None:
    """The thing's `extent` (that of its `pixels`) grown to the picture's edge across each
    unseen strip its pixels touch (within `BORDER`): what moved there is not seen, so the
    thing may go on into it. None where they touch none."""
    height, width = pixels.shape
    ys, xs = np.nonzero(pixels)
    left, top, right, bottom = unseen
    x, y, w, h = extent
    x1, y1 = x + w, y + h
    touching = (
        left > 0 and int(xs.min()) < left + BORDER,
        top > 0 and int(ys.min()) < top + BORDER,
        right > 0 and int(xs.max()) >= width - right - BORDER,
        bottom > 0 and int(ys.max()) >= height - bottom - BORDER,
    )
    if not any(touching):
        return None
    x, y = (0.0 if touching[0] else x), (0.0 if touching[1] else y)
    x1, y1 = (float(width) if touching[2] else x1), (float(height) if touching[3] else y1)
    return (x, y, x1 - x, y1 - y)


def _solid(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The mask but its outlines and specks a pixel or two thick (a 3x3 opening)."""
    opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return opened.astype(bool)


def _robust_extent(moved: NDArray[np.bool_]) -> Region:
    """The box of the moved pixels but the outermost 5% on each side (noise or shadows)."""
    ys, xs = np.nonzero(moved)
    left, right = np.percentile(xs, [5, 95])
    top, bottom = np.percentile(ys, [5, 95])
    return (float(left), float(top), float(right - left + 1), float(bottom - top + 1))


def _region(stats: NDArray[np.int32]) -> Region:
    """A connected component's box from its `cv2.connectedComponentsWithStats` row."""
    return (float(stats[0]), float(stats[1]), float(stats[2]), float(stats[3]))


def _touches(a: Region, b: Region) -> bool:
    return (
        a[0] <= b[0] + b[2] and b[0] <= a[0] + a[2] and a[1] <= b[1] + b[3] and b[1] <= a[1] + a[3]
    )


def _prepared(bgr: NDArray[np.uint8], size: tuple[int, int]) -> Gray:
    small = cv2.resize(gray(bgr), size, interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.GaussianBlur(small, (5, 5), 1.0), dtype=np.uint8)


@dataclass(frozen=True)
class _Unsettled:
    """A motion found, waiting for the picture a lag later to tell where its thing is now."""

    motion: Motion
    pixels: NDArray[np.bool_]
    picture: Gray
    to_source: float
    unseen: Strips


class MotionDetector:
    """Fed every analysis frame; finds motion on sampled frames (those with a colour picture,
    `scale` times smaller than the source: every `step`-th frame, or every other one of those
    while a shot is calm). A sample's motion is settled a lag later, when the picture then
    tells where the thing that moved is now (where_now); `finish` settles the last ones."""

    def __init__(self, fps: float, step: int, scale: float) -> None:
        samples = max(1, round(fps * LAG_SECONDS / step))
        # Frames between the two pictures compared.
        self.lag = samples * step
        self._samples = samples
        self.scale = scale
        # The pictures of the last two lags: the sample compared with, and the one before it.
        self._recent: deque[Gray] = deque(maxlen=2 * samples + 1)
        # Where the subject moved on the last comparison that found motion, and its frame.
        self._last: Region | None = None
        self._last_frame = 0
        # The sampled frames compared for a shot's subject (not `beside_faces`), in order.
        self.compared: list[int] = []
        # The motions found, in order of their frames, and those not yet settled.
        self.motions: list[Motion] = []
        self._unsettled: deque[_Unsettled] = deque()

    def add(self, frame: AnalysisFrame, beside_faces: bool = False) -> Motion | None:
        """The moving region on a sampled frame, if any, as found (it joins `motions` once
        settled). A sample `beside_faces` (`Motion.beside_faces`) is compared too, but is not
        among the frames `compared` for a shot's subject."""
        if frame.bgr is None:
            return None
        if not beside_faces:
            self.compared.append(frame.index)
        height, width = frame.bgr.shape[:2]
        shrink = min(1.0, MOTION_LONG_SIDE / max(height, width))
        size = (max(8, round(width * shrink)), max(8, round(height * shrink)))
        picture = _prepared(frame.bgr, size)
        self._recent.append(picture)
        while self._unsettled and self._unsettled[0].motion.frame + self.lag <= frame.index:
            self._settle(self._unsettled.popleft(), picture)
        if len(self._recent) <= self._samples:
            return None
        # The subject carries on only from a recent sighting (a few samples back).
        recent = frame.index - self._last_frame <= CARRY_ON_WITHIN_LAGS * self.lag
        found = moving_region(
            self._recent[-1 - self._samples],
            picture,
            self._last if recent else None,
            self._recent[0] if len(self._recent) == self._recent.maxlen else None,
        )
        if found is None:
            return None
        self._last, self._last_frame = found.box, frame.index
        to_source = self.scale * width / size[0]
        reach = _toward_unseen(found.box, found.pixels, found.unseen)
        motion = Motion(
            frame.index,
            Box(*found.box).scaled(to_source),
            found.share,
            Box(*found.spread).scaled(to_source),
            found.held,
            None if found.inside is None else Box(*found.inside).scaled(to_source),
            reach=None if reach is None else Box(*reach).scaled(to_source),
            beside_faces=beside_faces,
        )
        self._unsettled.append(_Unsettled(motion, found.pixels, picture, to_source, found.unseen))
        return motion

    def finish(self) -> None:
        """Settles the motions no later picture came for, as they were found."""
        while self._unsettled:
            self.motions.append(self._unsettled.popleft().motion)

    def _settle(self, unsettled: _Unsettled, later: Gray) -> None:
        motion = unsettled.motion
        now = _now(unsettled.pixels, unsettled.picture, later)
        if now is not None:
            scale = unsettled.to_source
            extent = _robust_extent(now)
            reach = _toward_unseen(extent, now, unsettled.unseen)
            motion = replace(
                motion,
                box=Box(*extent).scaled(scale),
                settled=True,
                reach=None if reach is None else Box(*reach).scaled(scale),
            )
        self.motions.append(motion)
