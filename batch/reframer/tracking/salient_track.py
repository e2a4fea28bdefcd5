"""A shot followed by where it draws the eye (the saliency looks), for shots where no detector
finds a subject and nothing moves that can be followed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from batch.reframer.motion import Motion
from batch.reframer.salience import (
    SalienceLook,
    SalientRegion,
    salient_region,
    shot_region,
    still_salient,
)
from batch.reframer.shots import Shot
from batch.reframer.tracking.track import SubjectTrack, as_array

# A shot whose samples see at least this share of the picture move (the median, a sample
# where nothing moved counting 0) is one where the picture itself moves: a handheld close-up.
# A region held in the picture is then no one thing, so a salient subject is judged against
# what each look saw, not the region held (measured: a real clip of a cockatoo filmed close
# up by hand, 0.17 and 0.24 in its two shots, claimed 1.0 with the crop on its face 0.50 of
# the frames; a bicycle parked behind traffic, 0.07, is rightly judged by the region held).
PICTURE_MOVES_SHARE = 0.15


def salient_track(
    shot: Shot, looks: Sequence[SalienceLook], picture_moves: bool = False, still: bool = False
) -> SubjectTrack | None:
    """Where the shot as a whole draws the eye, if its mean saliency map has one clear region
    (`stands_out`), else None. The camera gets that region's box on every frame (a still
    subject: the crop holds still). The self-measurement gets, on each frame, what the
    nearest look saw: that region where the look still finds it salient, else the look's own
    region, so a crop that misses what a look saw counts as not keeping it. Where the picture
    itself moves, always the look's own region: the region held is then no one thing, and
    the model's pull to the picture's middle finds it salient anyway."""
    region = shot_region(list(looks))
    if region is None or not stands_out(region, looks, still):
        return None
    frames = np.array([look.frame for look in looks], dtype=np.int64)
    seen = [
        region.box
        if not picture_moves and still_salient(look, region.box)
        else salient_region(look.grid, look.cell).box
        for look in looks
    ]
    held = np.tile(as_array([region.box]), (len(frames), 1))
    raw = as_array(seen)
    dense = np.tile(held[0], (shot.frames, 1))
    judged = nearest_look(shot, looks, raw)
    return SubjectTrack(
        shot, "salient", frames, held, raw, dense, judged, picture_moves=picture_moves
    )


def stands_out(region: SalientRegion, looks: Sequence[SalienceLook], still: bool) -> bool:
    """Whether the shot's region is what it is about: concentrated (salience.py), or, in a
    `still` shot (nothing moved on any sample), peaked and found salient by every look, even
    beside rival bright spots. A still shot shows every look the same picture, and its peak
    is then the best guess there is (measured on held-out seeds 31-58: of the 5 still shots
    with a subject no detector found, all peaked with rivals, held on their peak 3 were kept
    whole where the centre kept none of their frames; the other 2, a ball beside the coffee
    cup the model prefers, were lost either way)."""
    if region.concentrated:
        return True
    return still and region.peaked and all(still_salient(look, region.box) for look in looks)


def picture_moves(motions: list[Motion], compared: int) -> bool:
    """Whether the median share of the picture that moved, over the `compared` samples (those
    without motion counting 0), reaches `PICTURE_MOVES_SHARE`."""
    shares = sorted(m.share for m in motions)
    shares = [0.0] * max(0, compared - len(shares)) + shares
    return bool(shares) and float(np.median(shares)) >= PICTURE_MOVES_SHARE


def nearest_look(
    shot: Shot, looks: Sequence[SalienceLook], boxes: NDArray[np.float64]
) -> NDArray[np.float64]:
    """On each frame of the shot, the box (a row of `boxes`, one a look) the look nearest
    to it saw."""
    local = np.array([look.frame for look in looks], dtype=np.int64) - shot.start
    midpoints = (local[1:] + local[:-1]) / 2
    return boxes[np.searchsorted(midpoints, np.arange(shot.frames))]
