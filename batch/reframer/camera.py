"""Stage 7, camera: per shot a camera mode and a smoothed crop path.

For every frame the subject allows a range of crop positions (a corridor): those that keep its
box, with some breathing room, fully inside the crop and its centre in the middle band of the
crop (soft), and those that keep the box inside with a small margin (hard). Frames where the
subject is not known leave the camera free. The camera then behaves like a calm operator
would, trying in order:

- steady: one position fits every frame of the shot, so the crop does not move at all;
- panning: one constant-speed move fits every frame (the slowest such move is taken);
- tracking: the L1-optimal path (see `l1_path`): inside the hard corridor, as little outside
  the soft one as is worth it, in held, constant-speed and constant-acceleration pieces.

The two axes are solved alike; the shot's mode is the busier of the two. Shots are planned
independently, so the crop only ever jumps at a cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from batch.reframer.tracking import SubjectTrack

if TYPE_CHECKING:
    # Imported where the L1 path is solved: scipy.optimize and scipy.sparse take 0.3 s of CPU
    # to import, and only shots the camera tracks need them (a held or panned one does not).
    from scipy import sparse  # type: ignore[import-untyped]

CameraMode = Literal["steady", "panning", "tracking"]
FloatArray = NDArray[np.float64]

_MODE_ORDER: dict[CameraMode, int] = {"steady": 0, "panning": 1, "tracking": 2}

# The subject's centre may sit anywhere in the middle 40% of the crop without moving the camera.
CENTRE_BAND = 0.2
# ...and one larger than the crop within this share of it from the middle (inside it).
TOO_BIG_HOLD = 0.05
# ...but a detector's box is often looser than what it holds (measured: a cat 393 pixels
# wide boxed 407-423, a motorcycle 399 wide boxed 399-423): one up to this share of the crop
# wider than it on each side may hold a subject that fits, kept only by a crop centred on
# the box, so a moving crop is drawn there (a crop let off the middle as far as such a box
# allowed, 6 pixels, lagged a cat crossing fast and cut it on 8 of its 27 frames).
LOOSE_BOX = 0.05
# Breathing room around a subject, as a share of its box (left, top, right, bottom): a face
# gets headroom above and shoulders below.
FACE_PADDING = (0.3, 0.5, 0.3, 0.8)
MOTION_PADDING = (0.05, 0.05, 0.05, 0.05)
# The share of the box kept as a margin even by the hard corridor, where it fits.
HARD_MARGIN = 0.25
# The soft corridor keeps this share of the box further from its edges, where it is wide
# enough: a detected box is often smaller than the subject (a blocky or low-resolution
# face), and a path that rides the padded box's edge cuts off what the box missed.
COMFORT_MARGIN = 0.15
# A detector's box on a still subject moves by a pixel or two from look to look (measured: a
# still cat 355 pixels wide, its box's centre within 2.6 pixels). Where a subject nearly as
# large as the crop leaves the soft corridor a point, the camera tracked that jitter (the
# crop moved 2.2 pixels in a still shot); one position that fits every frame's corridor
# within this share of the box, inside the hard corridor, is held still instead.
STILL_WITHIN = 0.01
# Tracking, the L1-optimal path: weights of the path's first, second and third differences
# (at 30 fps; Grundmann et al.'s 10, 1, 100) and of a pixel outside the soft corridor for a
# frame. A pixel of camera travel costs as much as being a pixel off for a third of a second.
L1_WEIGHTS = (10.0, 1.0, 100.0)
L1_OUTSIDE_WEIGHT = 3.0
# Longer shots are solved on every k-th frame: the problem stays small.
L1_MAX_SAMPLES = 1500


@dataclass(frozen=True)
class ShotPath:
    """Top-left corner of the crop window for every frame of one shot."""

    mode: CameraMode
    x: FloatArray
    y: FloatArray


@dataclass(frozen=True)
class Corridor:
    """Allowed crop positions per frame on one axis: `soft` with breathing room, `hard` the
    bare minimum that still keeps the subject fully inside."""

    soft_low: FloatArray
    soft_high: FloatArray
    hard_low: FloatArray
    hard_high: FloatArray
    preferred: float
    # Per frame, the bounds a position held through the whole shot must keep (None: the soft
    # corridor): the soft corridor missed by the detector's jitter on the subject's box.
    still_low: FloatArray | None = None
    still_high: FloatArray | None = None


def _axis_corridor(
    start: FloatArray,
    size: FloatArray,
    pad_before: float,
    pad_after: float,
    window: int,
    limit: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Soft and hard (low, high) bounds of the crop's leading edge at the sampled frames."""
    centre = start + size / 2
    centred = centre - window / 2
    band = CENTRE_BAND * window
    hard_low, hard_high = start + size - window, start.copy()
    # A little room for the detector's error where the box leaves it: a crop riding the
    # box's very edge loses the subject to a few pixels of error.
    margin = HARD_MARGIN * size
    fits_margin = hard_low + margin <= hard_high - margin
    hard_low = np.where(fits_margin, hard_low + margin, hard_low)
    hard_high = np.where(fits_margin, hard_high - margin, hard_high)
    padded_low = start + size * (1 + pad_after) - window
    padded_high = start - size * pad_before
    # Too big to fit with room: fall back to the bare box; too big even so: centre on it.
    fits_padded = padded_low <= padded_high
    soft_low = np.where(fits_padded, padded_low, hard_low)
    soft_high = np.where(fits_padded, padded_high, hard_high)
    soft_low = np.maximum(soft_low, centred - band)
    soft_high = np.minimum(soft_high, centred + band)
    # The band and asymmetric padding can disagree for large subjects: meet halfway.
    empty = soft_low > soft_high
    soft_low[empty] = soft_high[empty] = (soft_low[empty] + soft_high[empty]) / 2
    middle, comfort = (soft_low + soft_high) / 2, COMFORT_MARGIN * size
    soft_low = np.minimum(soft_low + comfort, middle)
    soft_high = np.maximum(soft_high - comfort, middle)
    # A subject larger than the crop is kept while its centre is in it: the crop centres on
    # it, and may move off its middle only as far as it stays inside the subject (a
    # detector's box jitters by a few pixels: measured, a still motorcycle wider than the crop
    # made the camera drift 3 pixels), by at most TOO_BIG_HOLD of the crop; the hard bound as
    # far, at most CENTRE_BAND. (One just wider than the crop is one just narrower at the
    # next look, kept only whole: a free 5% band lost a cat as wide as the crop on 55% of the
    # frames.)
    too_big = hard_low > hard_high
    for (low, high), share, slack in (
        ((soft_low, soft_high), TOO_BIG_HOLD, LOOSE_BOX * window),
        ((hard_low, hard_high), CENTRE_BAND, 0.0),
    ):
        room = _too_big_room(size, window, share, slack)[too_big]
        low[too_big] = centred[too_big] - room
        high[too_big] = centred[too_big] + room
        # Keep the window inside the picture.
        np.clip(low, 0, limit, out=low)
        np.clip(high, 0, limit, out=high)
    # A subject reaching past the picture's edge (coming in or going out) is framed against
    # that edge: no crop shows more of it, and one off the edge cuts what is left (measured: a
    # motorcycle driving out on the left, its box carried past the edge wider than the crop,
    # was judged by its centre and cut on its last 5 frames).
    before, after = start < 0, start + size > limit + window
    for bound in (soft_low, soft_high, hard_low, hard_high):
        bound[before & ~after] = 0.0
        bound[after & ~before] = float(limit)
    return soft_low, soft_high, hard_low, hard_high


def _too_big_room(size: FloatArray, window: int, share: float, slack: float = 0.0) -> FloatArray:
    """How far a crop may stand off the middle of a box wider than it: as far as it stays
    inside the box, less `slack`, and at most `share` of the crop."""
    excess = np.maximum(size - window, 0.0) / 2
    return np.asarray(np.minimum(np.maximum(excess - slack, 0.0), share * window), np.float64)


def corridors(
    track: SubjectTrack, source: tuple[int, int], window: tuple[int, int]
) -> tuple[Corridor, Corridor] | None:
    """Per-frame corridors for x and y over the shot, or None when there is no subject.

    Frames where the subject is not known leave the camera free (the whole picture)."""
    known = ~np.isnan(track.dense[:, 0])
    if track.kind == "none" or not known.any():
        return None
    padding = FACE_PADDING if track.kind == "face" else MOTION_PADDING
    # The subject must stay in (hard); the people beside it are shown where they can be (soft).
    framed = track.dense if track.dense_framed is None else track.dense_framed
    result = []
    for axis in (0, 1):
        limit = source[axis] - window[axis]
        pad_before, pad_after = padding[axis], padding[axis + 2]
        start, size = track.dense[known, axis], track.dense[known, axis + 2]
        bounds = _axis_corridor(start, size, pad_before, pad_after, window[axis], limit)
        if framed is not track.dense:
            start, size = framed[known, axis], framed[known, axis + 2]
            wish = _axis_corridor(start, size, pad_before, pad_after, window[axis], limit)
            hard_low, hard_high = bounds[2], bounds[3]
            bounds = (np.clip(wish[0], hard_low, hard_high), np.clip(wish[1], hard_low, hard_high),
                      hard_low, hard_high)  # fmt: skip
        soft_low, hard_low = np.zeros(len(known)), np.zeros(len(known))
        soft_high, hard_high = np.full(len(known), float(limit)), np.full(len(known), float(limit))
        for full, part in zip((soft_low, soft_high, hard_low, hard_high), bounds, strict=True):
            full[known] = part
        if track.dense_person is not None:
            _keep_person(track.dense_person, axis, window[axis], source[axis],
                         (soft_low, soft_high, hard_low, hard_high))  # fmt: skip
        centred = np.clip(start + size / 2 - window[axis] / 2, 0, limit)
        preferred = float(np.median(centred))
        still = _still_bounds(track.dense[:, axis], track.dense[:, axis + 2], window[axis],
                              source[axis], (soft_low, soft_high, hard_low, hard_high))  # fmt: skip
        result.append(Corridor(soft_low, soft_high, hard_low, hard_high, preferred, *still))
    return result[0], result[1]


def _still_bounds(
    start: FloatArray,
    size: FloatArray,
    window: int,
    picture: int,
    bounds: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """Where a crop held still through the shot may stand on each frame: the soft corridor
    missed by up to the box's jitter, inside the hard corridor. A subject wider than the crop
    inside the picture is kept by its centre, with room to spare: there the hard corridor
    (the crop inside the box) may be missed by the jitter too (measured: a still motorcycle
    634 pixels wide in a 608-pixel crop, its box drifting 26 pixels, was panned by a pixel:
    one position inside the box on every frame missed by 0.08 pixels)."""
    soft_low, soft_high, hard_low, hard_high = bounds
    known = ~np.isnan(start)
    jitter = np.zeros(len(start))
    jitter[known] = STILL_WITHIN * size[known]
    inside = known & (np.nan_to_num(start) >= 0) & (np.nan_to_num(start + size) <= picture)
    wider = inside & (np.nan_to_num(size) > window)
    hard_low = np.where(wider, np.maximum(hard_low - jitter, 0.0), hard_low)
    hard_high = np.where(wider, np.minimum(hard_high + jitter, picture - window), hard_high)
    # Held still, such a subject keeps its whole hold (`TOO_BIG_HOLD`), loose box or not.
    centred = np.nan_to_num(start + size / 2) - window / 2
    hold = _too_big_room(np.nan_to_num(size), window, TOO_BIG_HOLD)
    soft_low = np.where(wider, np.minimum(soft_low, centred - hold), soft_low)
    soft_high = np.where(wider, np.maximum(soft_high, centred + hold), soft_high)
    return np.maximum(soft_low - jitter, hard_low), np.minimum(soft_high + jitter, hard_high)


def _keep_person(
    people: FloatArray,
    axis: int,
    window: int,
    picture: int,
    bounds: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
) -> None:
    """Narrow a face's corridors (in place) so the crop keeps the whole person it belongs to,
    on the frames where the person is known and fits the crop: a hard bound (the face's own
    margin gives way where both cannot hold), and the soft corridor inside it. Where the
    person is wider than the crop, the soft corridor keeps the crop inside the person (it
    shows as much of them as it can, their middle in it) where the face's allows that."""
    soft_low, soft_high, hard_low, hard_high = bounds
    start = np.clip(people[:, axis], 0, picture)
    end = np.clip(people[:, axis] + people[:, axis + 2], 0, picture)
    known = ~np.isnan(people[:, axis])
    fits = known & (end - start <= window)
    low, high = (end - window)[fits], start[fits]
    tight_low, tight_high = np.maximum(hard_low[fits], low), np.minimum(hard_high[fits], high)
    clash = tight_low > tight_high
    hard_low[fits] = np.where(clash, low, tight_low)
    hard_high[fits] = np.where(clash, high, tight_high)
    soft_low[fits] = np.clip(soft_low[fits], hard_low[fits], hard_high[fits])
    soft_high[fits] = np.clip(soft_high[fits], hard_low[fits], hard_high[fits])
    wider = known & ~fits
    inner_low = np.maximum(soft_low[wider], start[wider])
    inner_high = np.minimum(soft_high[wider], (end - window)[wider])
    room = inner_low <= inner_high
    soft_low[wider] = np.where(room, inner_low, soft_low[wider])
    soft_high[wider] = np.where(room, inner_high, soft_high[wider])


def _spread(slope: float, t: FloatArray, low: FloatArray, high: FloatArray) -> float:
    """How far the corridor is from admitting a line of this slope (<= 0: it admits one)."""
    return float(np.max(low - slope * t) - np.min(high - slope * t))


def slowest_pan(low: FloatArray, high: FloatArray) -> float | None:
    """The smallest |slope| of a straight path inside [low, high], or None if none fits.

    The spread is a convex function of the slope, so a golden-section search finds its
    minimum and a bisection the feasible slope nearest zero.
    """
    t = np.arange(len(low), dtype=np.float64)
    if _spread(0.0, t, low, high) <= 0:
        return 0.0
    reach = 2.0 * (float(np.max(high) - np.min(low)) + 1.0) / max(len(low) - 1, 1)
    a, b = -reach, reach
    ratio = (5**0.5 - 1) / 2
    for _ in range(80):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if _spread(c, t, low, high) < _spread(d, t, low, high):
            b = d
        else:
            a = c
    best = (a + b) / 2
    if _spread(best, t, low, high) > 1e-6:
        return None
    inner, outer = best, 0.0
    for _ in range(60):
        middle = (inner + outer) / 2
        if _spread(middle, t, low, high) <= 1e-6:
            inner = middle
        else:
            outer = middle
    return inner


def _difference(n: int, order: int) -> sparse.csr_matrix:
    """The n-order finite-difference operator on a path of n samples."""
    from scipy import sparse

    matrix = sparse.identity(n, format="csr")
    for _ in range(order):
        matrix = (matrix[1:] - matrix[:-1]).tocsr()
    return matrix


def _held(corridor: Corridor) -> FloatArray:
    """The preferred position held still, inside the hard corridor."""
    held = np.full(len(corridor.soft_low), corridor.preferred)
    return np.asarray(np.clip(held, corridor.hard_low, corridor.hard_high), dtype=np.float64)


def l1_path(corridor: Corridor, fps: float) -> FloatArray:
    """The L1-optimal camera path through the corridor (Grundmann, Kwatra & Essa 2011).

    Minimises the weighted L1 norms of the path's first, second and third differences plus
    the distance it strays outside the soft corridor, with the hard corridor (the subject
    fully inside) as bounds. L1 makes most differences exactly zero, so the path comes out as
    held, constant-speed and constant-acceleration pieces, as a calm operator would film; it
    is solved offline over the whole shot, so the camera starts moving before the subject
    forces it. Long shots are solved on every k-th frame and joined by straight lines.
    """
    from scipy import sparse
    from scipy.optimize import linprog  # type: ignore[import-untyped]

    n = len(corridor.soft_low)
    stride = max(1, -(-n // L1_MAX_SAMPLES))
    picks = np.unique(np.append(np.arange(0, n, stride), n - 1))
    m = len(picks)
    if m < 4:
        return _held(corridor)
    # Over each picked sample's stretch, the tightest bounds of the frames it stands for.
    edges = np.append(picks[:-1] + (np.diff(picks) + 1) // 2, n)
    starts = np.append(0, edges[:-1])
    hard_low = np.maximum.reduceat(corridor.hard_low, starts)
    hard_high = np.minimum.reduceat(corridor.hard_high, starts)
    hard_high = np.maximum(hard_high, hard_low)
    soft_low = np.maximum.reduceat(corridor.soft_low, starts)
    soft_high = np.minimum.reduceat(corridor.soft_high, starts)
    rate = fps / stride
    weights = (
        L1_WEIGHTS[0],
        L1_WEIGHTS[1] * rate / 30.0,
        L1_WEIGHTS[2] * (rate / 30.0) ** 2,
    )
    outside = L1_OUTSIDE_WEIGHT * 30.0 / rate
    # Variables: the path p (m), then |D1 p|, |D2 p|, |D3 p| bounds e1, e2, e3, then the
    # distance outside the soft corridor s (m).
    blocks = [_difference(m, order) for order in (1, 2, 3)]
    sizes = [m, m - 1, m - 2, m - 3, m]
    offsets = np.cumsum([0, *sizes])
    total = int(offsets[-1])
    cost = np.zeros(total)
    for order, weight in enumerate(weights, start=1):
        cost[offsets[order] : offsets[order + 1]] = weight
    cost[offsets[4] :] = outside
    rows = []
    limits = []
    for order, block in enumerate(blocks, start=1):
        count = block.shape[0]
        slack = sparse.csr_matrix(
            (np.ones(count), (np.arange(count), offsets[order] + np.arange(count))),
            shape=(count, total),
        )
        path_part = sparse.hstack([block, sparse.csr_matrix((count, total - m))]).tocsr()
        rows += [path_part - slack, -path_part - slack]
        limits += [np.zeros(count), np.zeros(count)]
    identity = sparse.hstack([sparse.identity(m), sparse.csr_matrix((m, total - m))]).tocsr()
    soft = sparse.csr_matrix(
        (np.ones(m), (np.arange(m), offsets[4] + np.arange(m))), shape=(m, total)
    )
    rows += [-identity - soft, identity - soft]
    limits += [-soft_low, soft_high]
    bounds: list[tuple[float, float | None]] = [
        (float(lo), float(hi)) for lo, hi in zip(hard_low, hard_high, strict=True)
    ]
    bounds += [(0.0, None)] * (total - m)
    solved = linprog(
        cost,
        A_ub=sparse.vstack(rows).tocsc(),
        b_ub=np.concatenate(limits),
        bounds=bounds,
        method="highs",
    )
    if not solved.success:
        # Cannot happen with consistent bounds; hold the preferred position if it does.
        return _held(corridor)
    # Solver noise (1e-9 px) must not turn a held piece into a one-pixel flicker on rounding.
    path = np.round(np.asarray(solved.x[:m], dtype=np.float64), 3)
    return np.asarray(np.interp(np.arange(n), picks, path), dtype=np.float64)


def _one_position_fits(
    low: FloatArray | None, high: FloatArray | None
) -> tuple[FloatArray, FloatArray] | None:
    """`low` and `high` where one position lies between them on every frame, else None."""
    if low is None or high is None or np.max(low) > np.min(high):
        return None
    return low, high


def plan_axis(corridor: Corridor, fps: float) -> tuple[CameraMode, FloatArray]:
    low, high = corridor.soft_low, corridor.soft_high
    n = len(low)
    slope = slowest_pan(low, high)
    # A position within the box's jitter on every frame is held, not panned from: a pan that
    # fits the jitter follows noise (measured: 7 of 688 shots panned 0.4-1.9 pixels, one of
    # them a still shot; held, every one keeps the same frames).
    still = _one_position_fits(corridor.still_low, corridor.still_high)
    if slope != 0.0 and still is not None:
        slope, (low, high) = 0.0, still
    if slope is not None:
        t = np.arange(n, dtype=np.float64)
        first, last = float(np.max(low - slope * t)), float(np.min(high - slope * t))
        # Among the fitting lines of that slope, the one closest to centring the subject.
        offset = float(np.clip(corridor.preferred - slope * (n - 1) / 2, first, last))
        mode: CameraMode = "steady" if slope == 0.0 else "panning"
        return mode, offset + slope * t
    return "tracking", l1_path(corridor, fps)


def plan_shot(
    track: SubjectTrack, source: tuple[int, int], window: tuple[int, int], fps: float
) -> ShotPath:
    n = track.shot.frames
    found = corridors(track, source, window)
    if found is None:
        # Nothing to follow: hold the centre.
        centre_x, centre_y = (source[0] - window[0]) / 2, (source[1] - window[1]) / 2
        return ShotPath("steady", np.full(n, centre_x), np.full(n, centre_y))
    (mode_x, x), (mode_y, y) = plan_axis(found[0], fps), plan_axis(found[1], fps)
    mode = max(mode_x, mode_y, key=lambda m: _MODE_ORDER[m])
    return ShotPath(mode, x, y)
