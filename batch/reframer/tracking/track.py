"""A subject's track: its box on the sampled frames where it is known, smoothed for the camera
(detector boxes wobble by a few pixels from frame to frame, and the camera should not) and as
detected, and on every frame of its shot (`densify`); and the tracks sightings are linked into
on the way there (`Track`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from batch.reframer.geometry import Box
from batch.reframer.shots import Shot

SubjectKind = Literal["face", "object", "motion", "salient", "none"]

# A sample whose box's centre lies furthest one way of the two samples either side, by at
# least this share of the box's size beyond each of the samples two away, is at a turn (a
# cat swinging back and forth), where a blur would cut the corner (`smooth_boxes`).
TURN_SHARE = 0.05


class Sighting(Protocol):
    """A face or an object seen on one frame."""

    @property
    def frame(self) -> int: ...
    @property
    def box(self) -> Box: ...
    @property
    def confidence(self) -> float: ...
    @property
    def detected_at(self) -> int | None: ...
    @property
    def followed_from(self) -> Box | None: ...


@dataclass
class Track:
    """One thing seen on sample after sample (a face, an object), in order of its frames: what
    linking builds and the subject is chosen among."""

    sightings: list[Sighting] = field(default_factory=list)
    # How much the track's kind counts (objects.CLASS_WEIGHTS; faces 1).
    weight: float = 1.0

    @property
    def last(self) -> Sighting:
        return self.sightings[-1]

    @property
    def detected(self) -> list[Sighting]:
        """The track's detections (followed boxes only carry a detection on)."""
        return [s for s in self.sightings if s.detected_at is None]

    @property
    def looks(self) -> int:
        """Detections in the track."""
        return len(self.detected)

    @property
    def score(self) -> float:
        """Its strength: confidence times size, summed over its sightings, by its kind's weight."""
        return self.weight * float(
            sum(face.confidence * math.sqrt(face.box.area) for face in self.sightings)
        )


@dataclass(frozen=True)
class SubjectTrack:
    """The subject of one shot: its box (x, y, w, h) on the sampled frames where it is known,
    smoothed for the camera (`boxes`) and as detected (`raw_boxes`); and on every frame of the
    shot (`dense`, `dense_raw`: rows of NaN where the subject is not known), interpolated
    between samples no further apart than the tracking gap."""

    shot: Shot
    kind: SubjectKind
    frames: NDArray[np.int64]
    boxes: NDArray[np.float64]
    raw_boxes: NDArray[np.float64]
    dense: NDArray[np.float64]
    dense_raw: NDArray[np.float64]
    # No subject, yet something moved: too scattered or too brief to follow. Whatever the
    # shot is about may be out of the crop (unlike a shot where nothing moves at all); the
    # self-measurement then judges the crop against what stood out on each saliency look
    # (`dense_raw`, with `dense` empty: the camera has no subject).
    unfollowed_motion: bool = False
    # For a face: on every frame, the person it belongs to where a look of the object
    # detector found one holding it (NaN elsewhere): what the viewer sees as the subject.
    dense_person: NDArray[np.float64] | None = None
    # For a face with other people who fit beside it: the box around them all, smoothed, on
    # every frame. The camera shows them where it can; it must keep the subject (`dense`).
    dense_framed: NDArray[np.float64] | None = None
    # For motion: several things moved at once, and the track is where they all moved (or
    # those inside the picture), not one of them known to be the subject (the
    # self-measurement says its figure is a guess).
    several_movers: bool = False
    # For salience: the picture itself moves (`PICTURE_MOVES_SHARE`), so the crop held on
    # where the eye goes on average is judged against what each look saw (`dense_raw`), and
    # the self-measurement says so, as for `unfollowed_motion`.
    picture_moves: bool = False
    # For a face: every face chosen may be a pattern in a photograph (`pictured`), and no
    # saliency look has yet said whether the eye goes there (`seen_elsewhere`).
    unconfirmed: bool = False


def densify(
    shot: Shot,
    frames: NDArray[np.int64],
    boxes: NDArray[np.float64],
    max_gap: int,
    reach: int,
    sampled: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:
    """A box on every frame of the shot: straight-line motion between samples at most
    `max_gap` frames apart, held for `reach` frames past the first and last sample of each run
    (the subject was there between two looks), NaN elsewhere. Given the frames `sampled` in
    the shot, a run is held up to the next of them instead (the shot's end if none): a sample
    passed over was not looked at."""
    dense = np.full((shot.frames, 4), np.nan)
    if len(frames) == 0:
        return dense
    local = frames - shot.start
    breaks = np.nonzero(np.diff(local) > max_gap)[0] + 1
    for run in np.split(np.arange(len(local)), breaks):
        first, last = int(local[run[0]]), int(local[run[-1]])
        hold = reach
        if sampled is not None:
            later = sampled[sampled > frames[run[-1]]]
            hold = (int(later[0]) - shot.start if len(later) else shot.frames) - 1 - last
        start, end = max(0, first - reach), min(shot.frames, last + hold + 1)
        span = np.arange(start, end)
        for column in range(4):
            dense[start:end, column] = np.interp(span, local[run], boxes[run, column])
        if len(run) >= 2:
            # Past the last look the subject keeps going as it went between the last two.
            tail = np.arange(last + 1, end)
            speed = (boxes[run[-1]] - boxes[run[-2]]) / max(1, local[run[-1]] - local[run[-2]])
            # ...at its last size: a shrinking box extrapolated would turn inside out.
            speed[2:] = 0.0
            dense[tail] = boxes[run[-1]] + np.outer(tail - last, speed)
    return dense


def _extended(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """One extra sample at each end, continuing the trend, so a subject moving steadily is
    not pulled inwards at the ends of its track by the smoothing."""
    return np.concatenate((2 * values[:1] - values[1:2], values, 2 * values[-1:] - values[-2:-1]))


def smooth_boxes(boxes: NDArray[np.float64], keep_turns: bool = False) -> NDArray[np.float64]:
    """Median of three (drops single-sample outliers), then a [1, 2, 1] blur; with
    `keep_turns`, no blur within two samples of a turn on its axis (`turns`)."""
    if len(boxes) < 3:
        return boxes.copy()
    padded = _extended(boxes)
    median = np.median(np.stack((padded[:-2], padded[1:-1], padded[2:])), axis=0)
    padded = _extended(median)
    blurred = np.asarray((padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4.0, dtype=np.float64)
    if keep_turns:
        near = turns(median)
        blurred[near] = median[near]
    return blurred


def turns(boxes: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Per sample and column (x, y, w, h): is the sample within two samples of a turn on that
    column's axis (`TURN_SHARE`)?"""
    near = np.zeros(boxes.shape, dtype=bool)
    for axis in (0, 1):
        centre = boxes[:, axis] + boxes[:, axis + 2] / 2
        for i in range(2, len(boxes) - 2):
            least = TURN_SHARE * boxes[i, axis + 2]
            ends = centre[[i - 2, i + 2]] - centre[i]
            around = centre[i - 2 : i + 3]
            furthest = centre[i] == around.max() or centre[i] == around.min()
            if furthest and bool(np.all(np.abs(ends) >= least)) and ends[0] * ends[1] > 0:
                near[i - 2 : i + 3, [axis, axis + 2]] = True
    return near


def as_array(boxes: list[Box]) -> NDArray[np.float64]:
    return np.array([[b.x, b.y, b.w, b.h] for b in boxes], dtype=np.float64).reshape(-1, 4)


def track_from(
    shot: Shot,
    kind: SubjectKind,
    frames: list[int],
    boxes: list[Box],
    max_gap: int,
    step: int,
    sampled: NDArray[np.int64] | None = None,
    framed: list[Box] | None = None,
    smooth_gap: int | None = None,
    keep_turns: bool = False,
) -> SubjectTrack:
    """The subject's track from its `boxes`; `framed` (for a face), the same frames' boxes
    around it and the people who fit beside it, for the camera to show where it can;
    `keep_turns`, smoothed without cutting the corner at a turn (`smooth_boxes`)."""
    array = as_array(boxes)
    indices = np.array(frames, dtype=np.int64)
    # Smoothed run by run: two sightings far apart in time (over `smooth_gap` frames where
    # given) are not one movement.
    near = max_gap if smooth_gap is None else min(max_gap, smooth_gap)
    runs = np.split(np.arange(len(indices)), np.nonzero(np.diff(indices) > near)[0] + 1)
    reach = max(0, step - 1)

    def smoothed(values: NDArray[np.float64]) -> NDArray[np.float64]:
        if not len(indices):
            return values
        return np.concatenate([smooth_boxes(values[run], keep_turns) for run in runs])

    dense_framed = None
    if framed is not None:
        dense_framed = densify(shot, indices, smoothed(as_array(framed)), max_gap, reach, sampled)
    smooth = smoothed(array)
    return SubjectTrack(
        shot,
        kind,
        indices,
        smooth,
        array,
        densify(shot, indices, smooth, max_gap, reach, sampled),
        densify(shot, indices, array, max_gap, reach, sampled),
        dense_framed=dense_framed,
    )


def fits(box: Box, window: tuple[int, int], times: float = 1.0) -> bool:
    """Whether `box` fits in `times` the crop `window`."""
    return box.w <= times * window[0] and box.h <= times * window[1]
