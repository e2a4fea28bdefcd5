"""A shot followed by what moves in it: the one thing moving, where one moves at a time; else
what moves inside the picture, where it fits the crop; else where everything moves."""

from __future__ import annotations

import numpy as np

from batch.reframer.geometry import Box
from batch.reframer.motion import Motion
from batch.reframer.tracking.track import fits

# Motion must be seen on this share of a shot's samples to be followed.
MIN_MOTION_COVERAGE = 0.3

# Motion spread over more than this many crop widths (heights) is not one subject.
MAX_MOTION_SPREAD = 1.5

# A shot's motion is one thing moving when, on most of its samples, one group of moved pixels
# holds this share of them (motion.Motion.held; measured: 1.00 on every generated mover and
# on the ball rolling, 0.46-0.85 on the real bikes clip's shots of traffic and passers-by).
ONE_MOVER_HOLDS = 0.95

# Where several things move at once, those inside the picture (motion.Motion.inside) are
# followed when they are seen on this share of the shot's samples...
INSIDE_SEEN = 0.5

# ...and fit the crop on this share of those. A sample where everything that moved touches
# the edge (the thrown ball bouncing off the bottom edge, rolling out at the right) says
# nothing about whether what moves inside fits. Measured on a ball thrown beside its thrower,
# the thrower cut by the picture's edge: seen on 13 of 14-15 samples and fitting on 12-13 of
# those at 9:16, 1:1 and 4:5 and at three of four later starts; at the fourth the ball touched
# an edge on 3 of 13 samples, seen on 10 and fitting on 9, and is followed only since the 9
# count against the 10 (following the thrower's arm instead, the crop kept it on 0.709 of the
# frames; 0.851 now). Bikes' parked bicycle framed 1:1 and 4:5: seen on 12 of 12, fitting on
# 6-7, where what moves inside is traffic and the bicycle stands still (followed there, the
# crop chased cars: 1:1 0.903 -> 0.786). The handheld cockatoo, cut by the picture's edges:
# seen on 35 of 105.
INSIDE_FITS = 0.75
# A thing moving into a strip the camera's motion left unseen is followed with as much of the
# strip as fills this share of the crop: the rest is the camera's margin on the side that was
# seen (filling the crop, it rode the thing's seen edge, kept or cut by a fraction of a pixel:
# 0.556 of the frames kept on the clip below, 0.778 with this, the only other value tried).
REACH_FILLS = 0.9


def followed_motion(
    steady: list[Motion], every: list[Motion], window: tuple[int, int], needed: float
) -> tuple[list[int], list[Box], bool] | None:
    """The frames and boxes a shot followed by its motion follows, and whether one thing
    moves at a time; None when there is too little to follow (under `needed` samples).

    One thing (a ball rolling, a hand beside it now and then) is followed itself. Where
    several move at once, those moving inside the picture are followed if they are seen on
    most samples and fit the crop together on most of those (a ball thrown beside a thrower
    the picture's edge cuts, even where everything that moved is too scattered to follow);
    else where they all move (traffic), on the samples where that is not scattered
    (`steady`)."""
    if len(steady) >= needed and np.median([m.held for m in steady]) >= ONE_MOVER_HOLDS:
        boxes = [_within_reach(m, window) for m in steady]
        return [m.frame for m in steady], _carried_to_the_end(steady, boxes), True
    seen_inside = [(m.frame, m.inside) for m in every if m.inside is not None]
    inside = [(frame, box) for frame, box in seen_inside if fits(box, window)]
    if len(inside) >= max(needed, INSIDE_SEEN * len(every), INSIDE_FITS * len(seen_inside)):
        return [frame for frame, _ in inside], [box for _, box in inside], False
    if len(steady) >= needed:
        return [m.frame for m in steady], [m.everywhere for m in steady], False
    return None


def _within_reach(motion: Motion, window: tuple[int, int]) -> Box:
    """The box of one thing moving, and where it touches a strip the camera's motion left
    unseen, as much of that strip beside it as the crop can take (`Motion.reach`): the thing
    may go on there. Measured on a held-out clip: a motorcycle driving in from a panning
    shot's newly seen side, 379 pixels wide for a 404-pixel crop, was seen moving on 283-368
    of them, and the crop, centred on those, cut its back on 22 of 27 frames (0.185 kept; the
    job claimed 1.0); grown to the picture's edge and centred on, the box was wider than the
    crop and the crop cut its front (0.296); followed this way, 0.778 (the last sample, which
    no later picture settles, still spans where it was as well as where it is)."""
    reach = motion.reach
    if reach is None:
        return motion.box
    seen = motion.box
    x0, x1 = _span(seen.x, seen.right, reach.x, reach.right, window[0])
    y0, y1 = _span(seen.y, seen.bottom, reach.y, reach.bottom, window[1])
    return Box(x0, y0, x1 - x0, y1 - y0)


def _span(
    seen0: float, seen1: float, reach0: float, reach1: float, size: float
) -> tuple[float, float]:
    """Along one axis: the reach where it fits the crop's `size`, else `REACH_FILLS` of the
    crop from the seen side (the seen part alone where that is longer, or where it grew both
    ways)."""
    if reach1 - reach0 <= size:
        return reach0, reach1
    fill = REACH_FILLS * size
    grown_before, grown_after = reach0 < seen0, reach1 > seen1
    if grown_after and not grown_before:
        return seen0, max(seen1, seen0 + fill)
    if grown_before and not grown_after:
        return min(seen0, seen1 - fill), seen1
    return seen0, seen1


def _carried_to_the_end(motions: list[Motion], boxes: list[Box]) -> list[Box]:
    """The boxes, but those of the shot's last motions that nothing settled (the picture a lag
    later is past the clip's end or across a cut: they span where the thing was as well as
    where it is), each the last settled box carried on at the speed between the last two
    settled ones. A thing that stopped within the lag is left unsettled too, and carried a lag
    too far, as the track carries any subject on to the next sample. Measured on held-out
    clips: the last sample's box reached 48 pixels behind a motorcycle nearly the crop's width
    and the crop, going there, cut it on the last 6 of 27 frames (0.778 -> 1.000; the same
    clip at 1080p 24 fps 0.773 -> 0.955, another 0.889 -> 0.944); no other retention changed
    on seeds 80-84 and the suite, and the real clips' paths are the same."""
    settled = [i for i, m in enumerate(motions) if m.settled]
    if len(settled) < 2 or settled[-1] == len(motions) - 1:
        return boxes
    last, before = settled[-1], settled[-2]
    frames = motions[last].frame - motions[before].frame
    dx = (boxes[last].cx - boxes[before].cx) / frames
    dy = (boxes[last].cy - boxes[before].cy) / frames
    carried = list(boxes)
    for i in range(last + 1, len(motions)):
        ahead = motions[i].frame - motions[last].frame
        box = boxes[last]
        carried[i] = Box(box.x + dx * ahead, box.y + dy * ahead, box.w, box.h)
    return carried
