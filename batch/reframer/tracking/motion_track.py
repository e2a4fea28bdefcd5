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
        return [m.frame for m in steady], [m.box for m in steady], True
    seen_inside = [(m.frame, m.inside) for m in every if m.inside is not None]
    inside = [(frame, box) for frame, box in seen_inside if fits(box, window)]
    if len(inside) >= max(needed, INSIDE_SEEN * len(every), INSIDE_FITS * len(seen_inside)):
        return [frame for frame, _ in inside], [box for _, box in inside], False
    if len(steady) >= needed:
        return [m.frame for m in steady], [m.everywhere for m in steady], False
    return None
