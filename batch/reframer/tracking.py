"""Stage 6, tracking: the detections of one shot joined into the subject the camera keeps.

Faces are linked from sample to sample by overlap into tracks; the strongest track (long-lived,
large, confident) is the subject, and other faces join it where both fit in the crop. A shot
without a face falls back to a detected object (a person, an animal, a vehicle: chosen by class
weight, size and persistence, and, where something in the shot moves, only one that moves with
it: a parked car in a photograph must not steal the subject), then to the thing that moves (or
where several move at once, those inside the picture where they fit the crop, else their
extent), then to where the shot as a whole draws the eye
(salience), and a shot with none of these has no subject (the camera holds the centre). The
subject's box is then smoothed over time, because detector boxes wobble by a few pixels from
frame to frame and the camera should not.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from batch.reframer.faces import Face
from batch.reframer.geometry import Box
from batch.reframer.motion import Motion
from batch.reframer.objects import ANIMALS, PERSON, RIDES, VEHICLES, DetectedObject
from batch.reframer.salience import (
    SalienceLook,
    SalientRegion,
    salient_region,
    shot_region,
    still_salient,
)
from batch.reframer.shots import Shot

SubjectKind = Literal["face", "object", "motion", "salient", "none"]

# An object's sightings further apart than this are not smoothed together.
SMOOTH_WITHIN_SECONDS = 0.25
# A face missing from up to this many seconds of samples is still the same face.
MAX_GAP_SECONDS = 1.0
# Two sightings on one frame are one face seen twice when this share of the smaller one lies
# inside the other.
SAME_FACE_OVERLAP = 0.7
# A face track must cover this share of a shot's samples (or a second) to be its subject.
MIN_FACE_COVERAGE = 0.2
# Motion must be seen on this share of a shot's samples to be followed.
MIN_MOTION_COVERAGE = 0.3
# Motion spread over more than this many crop widths (heights) is not one subject.
MAX_MOTION_SPREAD = 1.5
# A shot whose samples see at least this share of the picture move (the median, a sample
# where nothing moved counting 0) is one where the picture itself moves: a handheld close-up.
# A region held in the picture is then no one thing, so a salient subject is judged against
# what each look saw, not the region held (measured: a real clip of a cockatoo filmed close
# up by hand, 0.17 and 0.24 in its two shots, claimed 1.0 with the crop on its face 0.50 of
# the frames; a bicycle parked behind traffic, 0.07, is rightly judged by the region held).
PICTURE_MOVES_SHARE = 0.15
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
# A face whose detections all lie within this share of its width of each other has not moved
# at all: a face in a picture in the picture (the detector takes a pattern in a photograph of
# stars for one, 0.82 on every sample, pixel for pixel still), as a poster's or a still
# photograph's. Where another face in the shot moves, that one is what the shot is about
# (measured: a random clip framed the pattern over a cameraman, whose face stops and goes).
FROZEN_SHARE = 0.02
# A shorter face track carries the subject where no stronger one runs if it has this many
# sightings (one or two can be a texture that looks like a face).
MIN_LOOKS = 3
# An object track must be seen on this share of the shot's object looks (and at least twice)
# to be its subject: one or two hits are as often a texture or a photograph's detail.
MIN_OBJECT_COVERAGE = 0.3
# Where something in the shot moves, an object is its subject only if at least this share of
# its sightings where anything moved agree with the motion (where anything moved overlaps it).
MIN_MOTION_AGREEMENT = 0.5
# A person look's box is carried along with the face it holds for at most this long either
# side of the look (people change pose; a box carried further is a guess).
PERSON_REACH_SECONDS = 1.0
# A person box holds a face when the face's centre lies inside it, in its upper half, and the
# face is at most this share of its width (a "person" no wider than the face is the face).
MAX_FACE_SHARE_OF_PERSON = 0.8
# A bicycle, motorcycle or horse overlapping a person this much (IoU) is what they ride.
MIN_RIDE_OVERLAP = 0.3
# A moving thing carries an object on where the detector missed it only if its box's longer
# side is within this factor of the object's.
CARRY_SIZE_RATIO = 2.0
# A moving thing overlapping an object's box by more than this (IoU) is the object moving as
# a whole, and the box is centred on it (_centred_by_motion); a part of it moving (a walking
# man's legs) is not. The only value tried.
CENTRE_ON_MOTION_OVERLAP = 0.5
# The strongest object track is the subject only if it outweighs this share of all the object
# tracks running beside it (`object_tracks`): several cars of similar weight are traffic, the
# scenery of the shot, not what it is about.
MIN_OBJECT_DOMINANCE = 0.5
# A followed box's origin is the detection whose box it matches this well (the same box, but
# for rounding between the analysis and the source pixels).
SAME_DETECTION_IOU = 0.9


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
class _Track:
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
    # For a face: every face chosen may be a pattern in a photograph (`_pictured`), and no
    # saliency look has yet said whether the eye goes there (`_seen_elsewhere`).
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


def _same_face(track: _Track, face: Sighting, max_gap: int, step: int) -> float:
    """How well `face` continues `track` (0 = not at all): overlap with its last box, or
    nearness to where it was heading (a fast subject moves more than its width between
    looks)."""
    last = track.last
    gap = face.frame - last.frame
    if gap > max_gap:
        return 0.0
    if _carried_from(last, face):
        return 1.0
    overlap: float = last.box.iou(face.box)
    cx, cy = last.box.cx, last.box.cy
    if len(track.sightings) >= 2:
        before = track.sightings[-2]
        elapsed = max(1, last.frame - before.frame)
        cx += (last.box.cx - before.box.cx) * gap / elapsed
        cy += (last.box.cy - before.box.cy) * gap / elapsed
    distance = abs(cx - face.box.cx) + abs(cy - face.box.cy)
    looks = max(1.0, gap / max(step, 1))
    reach = (1.0 + 0.5 * looks) * max(last.box.w, last.box.h, 1.0)
    near = max(0.0, 1.0 - distance / reach)
    return max(overlap, 0.5 * near)


def _carried_from(followed: Sighting, found: Sighting) -> bool:
    """Whether optical flow carried `followed` back from the detection `found`: the same
    face, however far it moved in between (measured: a face crossing 1.6-1.7 of its widths
    between samples, carried back one sample from its first detection, began a track of its
    own there, and so did its next two detections: the face's run was cut in four)."""
    origin = followed.followed_from
    return (
        origin is not None
        and found.detected_at is None
        and followed.detected_at == found.frame
        and origin.iou(found.box) >= SAME_DETECTION_IOU
    )


def link_faces(faces: Sequence[Sighting], max_gap: int, step: int = 1) -> list[_Track]:
    """Greedy frame-by-frame linking, most confident detections first. A sighting mostly
    inside a more confident one on the same frame is the same face seen twice (a detection
    and a box followed back from a later one where flow lost it in between; a cartoon's face
    found at two scales) and is dropped: as a track of its own it would take the face's next
    detections from its real track."""
    tracks: list[_Track] = []
    by_frame: dict[int, list[Sighting]] = {}
    for face in faces:
        by_frame.setdefault(face.frame, []).append(face)
    for frame in sorted(by_frame):
        taken: set[int] = set()
        placed: list[Box] = []
        for face in sorted(by_frame[frame], key=lambda f: -f.confidence):
            if any(face.box.overlap(box) >= SAME_FACE_OVERLAP for box in placed):
                continue
            placed.append(face.box)
            scored = [
                (_same_face(track, face, max_gap, step), i)
                for i, track in enumerate(tracks)
                if i not in taken
            ]
            best = max(scored, default=(0.0, -1))
            if best[0] > 0.05:
                tracks[best[1]].sightings.append(face)
                taken.add(best[1])
            else:
                tracks.append(_Track([face]))
                taken.add(len(tracks) - 1)
    return tracks


def _extended(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """One extra sample at each end, continuing the trend, so a subject moving steadily is
    not pulled inwards at the ends of its track by the smoothing."""
    return np.concatenate((2 * values[:1] - values[1:2], values, 2 * values[-1:] - values[-2:-1]))


def smooth_boxes(boxes: NDArray[np.float64]) -> NDArray[np.float64]:
    """Median of three (drops single-sample outliers), then a [1, 2, 1] blur."""
    if len(boxes) < 3:
        return boxes.copy()
    padded = _extended(boxes)
    median = np.median(np.stack((padded[:-2], padded[1:-1], padded[2:])), axis=0)
    padded = _extended(median)
    return np.asarray((padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4.0, dtype=np.float64)


def _as_array(boxes: list[Box]) -> NDArray[np.float64]:
    return np.array([[b.x, b.y, b.w, b.h] for b in boxes], dtype=np.float64).reshape(-1, 4)


def _track_from(
    shot: Shot,
    kind: SubjectKind,
    frames: list[int],
    boxes: list[Box],
    max_gap: int,
    step: int,
    sampled: NDArray[np.int64] | None = None,
    framed: list[Box] | None = None,
    smooth_gap: int | None = None,
) -> SubjectTrack:
    """The subject's track from its `boxes`; `framed` (for a face), the same frames' boxes
    around it and the people who fit beside it, for the camera to show where it can."""
    array = _as_array(boxes)
    indices = np.array(frames, dtype=np.int64)
    # Smoothed run by run: two sightings far apart in time (over `smooth_gap` frames where
    # given) are not one movement.
    near = max_gap if smooth_gap is None else min(max_gap, smooth_gap)
    runs = np.split(np.arange(len(indices)), np.nonzero(np.diff(indices) > near)[0] + 1)
    reach = max(0, step - 1)

    def smoothed(values: NDArray[np.float64]) -> NDArray[np.float64]:
        if not len(indices):
            return values
        return np.concatenate([smooth_boxes(values[run]) for run in runs])

    dense_framed = None
    if framed is not None:
        dense_framed = densify(shot, indices, smoothed(_as_array(framed)), max_gap, reach, sampled)
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


def _detections_apart(track: _Track) -> tuple[float, float, float, float]:
    """How far apart a face's detections lie (its centres' spread across and down) and its
    median width and height."""
    found = [f.box for f in track.detected]
    xs, ys = [b.cx for b in found], [b.cy for b in found]
    width = float(np.median([b.w for b in found]))
    height = float(np.median([b.h for b in found]))
    return max(xs) - min(xs), max(ys) - min(ys), width, height


def _stays_put(track: _Track) -> bool:
    """Whether a face's detections all lie within its own width and height of each other:
    then the boxes optical flow carried it by between them count towards its coverage (a
    face the detector only half recognises, a cartoon's or a turned head, found on a few
    samples and followed on the rest). Flow drifts with speed, so a face that moves further
    counts only the boxes a later detection vouches for (`_followed_and_found_again`)."""
    if track.looks < 2:
        return False
    across, down, width, height = _detections_apart(track)
    return across <= width and down <= height


def _frozen(track: _Track) -> bool:
    """Whether a face's detections (at least `MIN_LOOKS`) all sit within `FROZEN_SHARE` of its
    width of each other: it has not moved at all."""
    if track.looks < MIN_LOOKS:
        return False
    across, down, width, _ = _detections_apart(track)
    return max(across, down) <= FROZEN_SHARE * width


def _pictured(track: _Track) -> bool:
    """Whether a face track is found by the larger look only, stands still, and the face
    mesh saw a face on none of its detections: as likely a pattern in a photograph the
    larger look takes for a face (the hubble picture's, scoring 0.78-0.83 and found again at
    other sizes) as a face too small for the usual look. (Measured: the mesh scores the
    hubble pattern 0.0 and the coffee cup 0.14-0.18 where small real faces score 0.84-1.0,
    on the analysis picture.)"""
    detected = track.detected
    larger_only = all(isinstance(s, Face) and s.larger_only for s in detected)
    meshed = any(isinstance(s, Face) and s.meshed for s in detected)
    return larger_only and not meshed and _stays_put(track)


def _seen_elsewhere(faces: list[_Track], looks: Sequence[SalienceLook], still: bool) -> bool:
    """Whether the shot's saliency region stands out (`_stands_out`) and holds none of the
    faces. Then faces that may be a photograph's pattern give way to where the eye goes
    (measured on random clips: the hubble picture's pattern, found only by the larger look,
    took still shots of a ball, a cat and a motorcycle on it, 0.000-0.625 of the frames
    kept; the saliency model's region was on each of them, not on the pattern)."""
    region = shot_region(list(looks))
    if region is None or not _stands_out(region, looks, still):
        return False
    return not any(region.box.intersection(_median_box(track)) > 0 for track in faces)


def _median_box(track: _Track) -> Box:
    """The median of a track's detected boxes."""
    return Box(*np.median(_as_array([s.box for s in track.detected]), axis=0).tolist())


def _moves_elsewhere(track: _Track, motions: list[Motion], needed: float) -> bool:
    """Whether one thing moves in the shot, away from the face, on at least `needed`
    samples: then it, not a still face too small to be sure of, is the subject (measured on
    random clips: a ball rolling or a cat swinging over the hubble photograph lost the shot
    to its pattern, 0.517 and 0.527 of the frames kept)."""
    face = track.sightings[0].box
    away = [m for m in motions if m.held >= ONE_MOVER_HOLDS and m.box.iou(face) == 0.0]
    return len(away) >= needed


def _followed_and_found_again(track: _Track) -> int:
    """How many of a face's sightings optical flow carried it by after a detection and before
    a later one that found it where flow had taken it (within its size): the later
    detection vouches for the boxes between. A face only the once-a-second larger look finds
    (decode.LARGE_DETECTION_LONG_SIDE) has its other samples carried by flow; measured: a
    face 60 pixels wide crossing a 1280-pixel photograph, found three times in its 3 s shot,
    lost the shot to a face in the photograph behind that stood still (0.544 of the frames
    kept)."""
    count, run = 0, 0
    last_followed: Sighting | None = None
    for sighting in track.sightings:
        if sighting.detected_at is None:
            if last_followed is not None and _within_size(last_followed.box, sighting.box):
                count += run
            run, last_followed = 0, None
        elif sighting.frame > sighting.detected_at:
            run, last_followed = run + 1, sighting
    return count


def _within_size(followed: Box, found: Box) -> bool:
    side = max(found.w, found.h)
    return abs(followed.cx - found.cx) <= side and abs(followed.cy - found.cy) <= side


def _subject_tracks(worthy: list[_Track], shorter: list[_Track]) -> list[_Track]:
    """The strongest worthy track, then, in order of strength, the tracks (shorter ones too)
    seen only while none of the chosen ones is: the subject changes only when the current
    one is gone (it left the picture and someone, or it again, came in), and a track seen in
    a gap of a chosen one is the subject where linking lost it (a face that jumped further
    than a look's reach, then stood still: the chosen track linked across it).

    Of a track of the primary's kind seen beside a chosen one, the runs of at least
    `MIN_LOOKS` looks while none is count the same way: linking may have joined the
    subject's later sightings to another track of its kind (measured: a face swinging back
    at a turn of its path, nearer to where a photograph's false face stood still half a
    second before than to its own prediction: 0.880 of the frames kept -> 1.000). A track of
    another kind is another thing (a bicycle seen beside the walker's legs and after them:
    followed after them, the crop left the legs before they were gone)."""
    primary = max(worthy, key=lambda t: t.score)
    chosen = [primary]
    for track in sorted([*worthy, *shorter], key=lambda t: -t.score):
        if track is primary:
            continue
        runs = _runs_beside(track, chosen)
        if len(runs) == 1 and len(runs[0]) == len(track.sightings):
            chosen.append(track)
        elif _kind(track) == _kind(primary):
            parts = (replace(track, sightings=run) for run in runs)
            chosen.extend(part for part in parts if part.looks >= MIN_LOOKS)
    return chosen


def _kind(track: _Track) -> str:
    """A face track's kind is "face"; an object track's its family (linked apart, so a
    track's sightings are all of one)."""
    first = track.sightings[0]
    return _family(first.label) if isinstance(first, DetectedObject) else "face"


def _runs_beside(track: _Track, chosen: list[_Track]) -> list[list[Sighting]]:
    """The runs of the track's sightings with no sighting of a chosen track on or between
    their frames."""
    taken = np.unique([seen.frame for c in chosen for seen in c.sightings])
    runs: list[list[Sighting]] = []
    run: list[Sighting] = []
    for seen in track.sightings:
        before = run[-1].frame if run else seen.frame
        if run and np.any((taken >= before) & (taken <= seen.frame)):
            runs.append(run)
            run = []
        if not np.any(taken == seen.frame):
            run.append(seen)
    return [r for r in [*runs, run] if r]


def _family(label: str) -> str:
    """Classes the detector confuses with each other (a car for a truck, a bicycle for a
    motorcycle) are one object seen differently."""
    if label in VEHICLES:
        return "vehicle"
    return "animal" if label in ANIMALS else label


def _agreement(track: _Track, moved: Sequence[Motion], step: int) -> tuple[float, float]:
    """How the motion (where anything moved, within a sample of each sighting) agrees with the
    track: the share of its sightings it overlaps, of those where anything moved at all (a
    sighting where nothing did says nothing for or against it), and how closely it outlines
    them (mean overlap, IoU; 0 where nothing moved near). Motion spread wider than the crop
    counts too: legs swinging wide are still the walker moving (measured on bikes started a
    frame later, framed 9:16: judged against motion that fits the crop alone, the walker's
    legs agreed on 1 of 3 looks, and the crop left them: 0.844 of the frames kept; 0.942)."""
    agreeing, judged, outline = 0, 0, 0.0
    for seen in track.sightings:
        near = [m for m in moved if abs(m.frame - seen.frame) <= step]
        judged += bool(near)
        if any(m.everywhere.iou(seen.box) > 0.1 or _holds(seen.box, m.everywhere) for m in near):
            agreeing += 1
        outline += max((m.everywhere.iou(seen.box) for m in near), default=0.0)
    return agreeing / max(1, judged), outline / max(1, len(track.sightings))


def _fits(box: Box, window: tuple[int, int], times: float = 1.0) -> bool:
    """Whether `box` fits in `times` the crop `window`."""
    return box.w <= times * window[0] and box.h <= times * window[1]


def _followed_motion(
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
    inside = [(frame, box) for frame, box in seen_inside if _fits(box, window)]
    if len(inside) >= max(needed, INSIDE_SEEN * len(every), INSIDE_FITS * len(seen_inside)):
        return [frame for frame, _ in inside], [box for _, box in inside], False
    if len(steady) >= needed:
        return [m.frame for m in steady], [m.everywhere for m in steady], False
    return None


def _holds(outer: Box, inner: Box) -> bool:
    return outer.x <= inner.cx <= outer.right and outer.y <= inner.cy <= outer.bottom


def object_tracks(
    shot: Shot,
    objects: Sequence[DetectedObject],
    steady: bool,
    max_gap: int,
    step: int,
    object_step: int,
    moved: Sequence[Motion],
) -> tuple[list[_Track], list[_Track]]:
    """The object tracks that may be the shot's subject (persistent; moving with the motion
    where the shot has some to follow) and shorter ones that may carry it where they run.

    `steady` tells whether the shot has motion to follow (enough samples where it fits the
    crop): only then must an object move with the motion. `object_step` is the number of
    frames between two looks of the object detector; `moved` every sample where anything
    moved, to follow or not, which the objects are judged against: a sighting where nothing
    moved says nothing for or against the object. Measured: a cat that stops and goes, found
    on all 11 of its looks, had motion near only 4 of them (it was seen only while the cat
    went), and the crop followed the moving region instead (0.50 of the frames kept; 1.00
    now). Judging only where motion to follow was seen let a parked car take a street shot
    from the cyclists (bikes framed 1:1: 0.922 -> 0.597)."""
    looks = max(1, -(-shot.frames // object_step))
    needed = max(2.0, MIN_OBJECT_COVERAGE * looks)
    tracks: list[_Track] = []
    for family in sorted({_family(o.label) for o in objects}):
        members = [o for o in objects if _family(o.label) == family]
        for track in link_faces(members, max(max_gap, 2 * object_step), object_step):
            track.weight = max(o.weight for o in track.sightings if isinstance(o, DetectedObject))
            tracks.append(track)
    # Where the shot has motion to judge by, the tracks of two looks or more that moved with it
    # at least once: beside the worthy ones, what the strongest must outweigh
    # (MIN_OBJECT_DOMINANCE), though seen or moving with it too seldom to be the subject
    # themselves. Cars passing one after another are traffic whichever of them the detector
    # finds on most looks (measured on bikes framed 1:1: a car found on 3 looks, beside one
    # found on 2 and one moving with the motion on 1 of its 3, took the parked bicycle's shot
    # once the false motion at the picture's edge was gone, motion._SEEN_WHOLLY: 0.955 ->
    # 0.630 of the frames kept).
    moving: list[_Track] = []
    if steady:
        agreeing = []
        for track in tracks:
            share, outline = _agreement(track, moved, step)
            # The object the motion outlines, not a large one it merely crosses (a person
            # walking past a parked lorry moves inside the lorry's box too).
            track.weight *= 0.5 + outline
            if share >= MIN_MOTION_AGREEMENT:
                agreeing.append(track)
            if share > 0 and track.looks >= 2:
                moving.append(track)
        tracks = agreeing
    worthy = [t for t in tracks if t.looks >= needed or (looks <= 2 and t.looks)]
    shorter = [t for t in tracks if t not in worthy and t.looks >= 2]
    if worthy:
        best = max(worthy, key=lambda t: t.score)
        rivals = [*worthy, *(t for t in moving if t not in worthy)]
        beside = [t for t in rivals if _overlap_in_time(t, best)]
        if best.score < MIN_OBJECT_DOMINANCE * sum(t.score for t in beside):
            return [], []
    return worthy, shorter


def carried_by_motion(
    frames: list[int], boxes: list[Box], motions: list[Motion], object_step: int
) -> tuple[list[int], list[Box]]:
    """An object's sightings, and where the detector missed it (no sighting within a look of
    the sample), the moving thing that carries on from it: outwards from each sighting, a
    chain of moving things each overlapping the box before it and of a like size, ending at
    the first that is not. The detector misses an object now and then (a cat crossing a
    photograph was found on 6 of its 10 looks, then on none for 2 s while it kept moving);
    its motion is seen on every sample."""
    sighted = dict(zip(frames, boxes, strict=True))
    if not sighted:
        return frames, boxes
    found = np.array(frames)
    missed = {m.frame: m.box for m in motions if np.abs(found - m.frame).min() > object_step}
    carried: dict[int, Box] = {}
    for direction in (1, -1):
        last: Box | None = None
        for frame in sorted([*sighted, *missed], key=lambda f: direction * f):
            if frame in sighted:
                last = sighted[frame]
            elif last is not None and _carries_on(last, missed[frame]):
                last = carried[frame] = missed[frame]
            else:
                last = None
    if not carried:
        return frames, boxes
    joined = sorted([*zip(frames, boxes, strict=True), *carried.items()], key=lambda p: p[0])
    return [f for f, _ in joined], [b for _, b in joined]


def _centred_by_motion(frames: list[int], boxes: list[Box], motions: list[Motion]) -> list[Box]:
    """Each box, at its size, moved to the middle of the one thing moving on its frame, where
    that thing is all of the motion, settled where it is now (motion.where_now: within 3
    pixels of a moving cat's or motorcycle's middle, where the detector's box was 5-21 off),
    of a like size and overlapping the box by `CENTRE_ON_MOTION_OVERLAP`."""
    moving = {m.frame: m.box for m in motions if m.settled and m.held >= ONE_MOVER_HOLDS}
    centred = []
    for frame, box in zip(frames, boxes, strict=True):
        moved = moving.get(frame)
        if (
            moved is not None
            and _carries_on(box, moved)
            and moved.iou(box) > CENTRE_ON_MOTION_OVERLAP
        ):
            box = Box(moved.cx - box.w / 2, moved.cy - box.h / 2, box.w, box.h)
        centred.append(box)
    return centred


def _carries_on(before: Box, moved: Box) -> bool:
    """Whether a moving thing carries on from a box: overlapping it, of a like size."""
    ratio = max(moved.w, moved.h) / max(before.w, before.h, 1e-9)
    like_size = 1 / CARRY_SIZE_RATIO <= ratio <= CARRY_SIZE_RATIO
    return like_size and (moved.iou(before) > 0.1 or _holds(moved, before))


def _followed_from(chosen: list[_Track], objects: Sequence[DetectedObject]) -> list[Sighting]:
    """The boxes optical flow carried the chosen tracks' detections by between the object
    detector's looks (pipeline.py), where the looks bear them out. They only fill in where
    the subject was: which object is the subject is chosen on the looks alone (measured:
    counting them too, a parked car the flow held in place between looks became the subject
    of a real clip's shot, 0.968 -> 0.643 of its frames kept)."""
    carried: dict[tuple[int, Box], list[DetectedObject]] = {}
    for o in objects:
        if o.detected_at is not None and o.followed_from is not None:
            carried.setdefault((o.detected_at, o.followed_from), []).append(o)

    def run(look: Sighting, first: int, end: int) -> list[DetectedObject]:
        """The boxes flow carried `look` by on the frames first..end-1, away from it."""
        away = [o for o in carried.get((look.frame, look.box), []) if first <= o.frame < end]
        return sorted(away, key=lambda o: abs(o.frame - look.frame))

    vouched: list[DetectedObject] = []
    for track in chosen:
        found = sorted(track.sightings, key=lambda o: o.frame)
        for before, after in itertools.pairwise(found):
            for start, end in ((before, after), (after, before)):
                boxes = run(start, before.frame + 1, after.frame)
                if boxes and _found_where_heading(boxes, start, end):
                    vouched.extend(boxes)
        if len(found) >= 2:
            # Before the first look and after the last, no look bears flow out: it must at
            # least go the way the looks went.
            first, last = found[0], found[-1]
            for start, other, boxes in (
                (first, found[1], run(first, 0, first.frame)),
                (last, found[-2], run(last, last.frame + 1, sys.maxsize)),
            ):
                if boxes and _keeps_going(boxes, start, other):
                    vouched.extend(boxes)
    # Carried forward from one look and back from the next onto the same frame: the box from
    # the nearer look.
    nearest: dict[int, Sighting] = {}
    for box in sorted(vouched, key=lambda o: -_frames_from_look(o)):
        nearest[box.frame] = box
    return list(nearest.values())


def _frames_from_look(carried: DetectedObject) -> int:
    """How far flow carried a box from the look it started at (0 for a look)."""
    return 0 if carried.detected_at is None else abs(carried.frame - carried.detected_at)


def _found_where_heading(run: list[DetectedObject], start: Sighting, end: Sighting) -> bool:
    """Whether the look at `end` finds the object where the boxes flow carried it by from the
    look at `start` (in order away from it) were heading: within half its width and height of
    their last box moved on at their speed. Flow on a box that is mostly background (a
    person's legs walking by) holds it in place while the object moves on (measured on a real
    clip: boxes held 170 pixels behind the walker; taken, the shot lost 6 more of its 23
    frames)."""
    last = run[-1].box
    previous = run[-2] if len(run) >= 2 else start
    elapsed = max(1, abs(run[-1].frame - previous.frame))
    ahead = abs(end.frame - run[-1].frame) / elapsed
    cx = last.cx + (last.cx - previous.box.cx) * ahead
    cy = last.cy + (last.cy - previous.box.cy) * ahead
    return abs(cx - end.box.cx) <= 0.5 * end.box.w and abs(cy - end.box.cy) <= 0.5 * end.box.h


def _keeps_going(run: list[DetectedObject], start: Sighting, other: Sighting) -> bool:
    """Whether the boxes flow carried the object by from the look at `start` go on at least
    half as fast the way it moved between `other` look and that one (or the looks saw it
    stand still). Measured: a cat swinging back after a shot's last look kept 0.95 of its
    frames carried on at the looks' speed, 1.00 with flow's boxes."""
    frames = start.frame - other.frame
    looks = ((start.box.cx - other.box.cx) / frames, (start.box.cy - other.box.cy) / frames)
    frames = run[-1].frame - start.frame
    flow = ((run[-1].box.cx - start.box.cx) / frames, (run[-1].box.cy - start.box.cy) / frames)
    speed = looks[0] ** 2 + looks[1] ** 2
    return speed < 1.0 or flow[0] * looks[0] + flow[1] * looks[1] >= 0.5 * speed


def _overlap_in_time(a: _Track, b: _Track) -> bool:
    return a.sightings[0].frame <= b.last.frame and b.sightings[0].frame <= a.last.frame


def subject_of_shot(
    shot: Shot,
    faces: list[Face],
    motions: list[Motion],
    window: tuple[int, int],
    fps: float,
    step: int,
    objects: Sequence[DetectedObject] = (),
    object_step: int = 1,
    salience: Sequence[SalienceLook] = (),
    sampled: NDArray[np.int64] | None = None,
    motion_compared: NDArray[np.int64] | None = None,
) -> SubjectTrack:
    """The subject track of one shot from its detections (all inside the shot), in order:
    faces, objects, motion, where the shot draws the eye (salience), none.

    `step` is the number of frames between two candidate samples, `object_step` between two
    looks of the object detector; `sampled` the frames of the shot sampled (by default every
    `step`-th; fewer where the subject was calm, sample_rate.py); `motion_compared` those of
    them compared for motion (not those where a face was found; by default `sampled`): a
    moving subject carries on at its last speed up to the next of them, not to a sample whose
    motion nobody looked at.
    """
    candidates = max(1, -(-shot.frames // step))
    samples = candidates if sampled is None else max(1, len(sampled))
    max_gap = max(step, round(MAX_GAP_SECONDS * fps))
    tracks = link_faces(faces, max_gap, step)
    # The object detector's looks; the boxes flow carried objects by between looks only fill
    # in the object chosen (`_followed_from`).
    detections = [o for o in objects if o.detected_at is None]
    # A second's worth of samples, at the rate they were taken.
    needed = min(MIN_FACE_COVERAGE * samples, max(1.0, fps / step * samples / candidates))
    worthy = [
        t
        for t in tracks
        if t.looks >= max(2.0, needed)
        or (samples <= 2 and t.looks)
        or (t.looks >= MIN_LOOKS and _stays_put(t) and len(t.sightings) >= max(2.0, needed))
        or (t.looks >= MIN_LOOKS and t.looks + _followed_and_found_again(t) >= max(2.0, needed))
    ]
    movers = max(2.0, MIN_MOTION_COVERAGE * samples)
    worthy = [t for t in worthy if not (_pictured(t) and _moves_elsewhere(t, motions, movers))]
    # A face that never moved is the subject only where no worthy face moves.
    worthy = [t for t in worthy if not _frozen(t)] or worthy
    moved = bool(motions)
    doubtful = bool(worthy) and all(_pictured(t) for t in worthy)
    if doubtful and salience and _seen_elsewhere(worthy, salience, still=not moved):
        worthy = []
    if worthy:
        # Shorter tracks may carry the subject where the strong ones are absent.
        shorter = [t for t in tracks if t not in worthy and t.looks >= MIN_LOOKS]
        chosen = _subject_tracks(worthy, shorter)
        others = [t for t in worthy if all(t is not c for c in chosen)]
        frames, boxes, framed = [], [], []
        for face in sorted((f for t in chosen for f in t.sightings), key=lambda f: f.frame):
            box = face.box
            # Show other people too where they fit beside the subject (the camera's wish; a
            # crop that keeps the subject and cuts them has still kept the subject).
            for other in others:
                for candidate in other.sightings:
                    if candidate.frame == face.frame:
                        joined = box.union(candidate.box)
                        if _fits(joined, window, 0.8):
                            box = joined
            frames.append(face.frame)
            boxes.append(face.box)
            framed.append(box)
        track = _track_from(shot, "face", frames, boxes, max_gap, step, sampled, framed=framed)
        # The viewer's subject is the person (the cyclist with the bicycle), not only the face:
        # the camera keeps it where it fits (camera.corridors) and the job judges it too.
        people = [o for o in detections if o.label in (PERSON, *RIDES)]
        dense_person = person_boxes(track, people, step, fps)
        return replace(track, dense_person=dense_person, unconfirmed=doubtful and not salience)
    needed = max(1.0, MIN_MOTION_COVERAGE * samples)
    # Motion spread far wider than the crop is scattered (traffic, foliage, a shaking camera),
    # not a subject to follow.
    steady = [m for m in motions if _fits(m.everywhere, window, MAX_MOTION_SPREAD)]
    worthy_objects, shorter_objects = object_tracks(
        shot,
        detections,
        len(steady) >= needed,
        max_gap,
        step,
        object_step,
        motions,
    )
    if worthy_objects:
        chosen = _subject_tracks(worthy_objects, shorter_objects)
        seen = sorted(
            [*(o for t in chosen for o in t.sightings), *_followed_from(chosen, objects)],
            key=lambda o: o.frame,
        )
        frames, boxes = carried_by_motion(
            [o.frame for o in seen], [o.box for o in seen], steady, object_step
        )
        boxes = _centred_by_motion(frames, boxes, steady)
        # Looks a third of a second apart are not smoothed together: a median of three cut
        # a turn between them (measured on six clips of a cat swinging across a photograph:
        # 0.42-0.85 of the frames kept; two of them 0.92 and 0.96 with this; with the boxes
        # flow carried it by between looks too, five 1.00 and one 0.93).
        smooth_gap = round(SMOOTH_WITHIN_SECONDS * fps)
        return _track_from(
            shot, "object", frames, boxes, max_gap, object_step, smooth_gap=smooth_gap
        )
    followed = _followed_motion(steady, motions, window, needed)
    if followed is not None:
        frames, boxes, one_mover = followed
        looked = sampled if motion_compared is None else motion_compared
        track = _track_from(shot, "motion", frames, boxes, max_gap, step, looked)
        return replace(track, several_movers=not one_mover)
    compared = samples if motion_compared is None else max(1, len(motion_compared))
    salient = salient_track(shot, salience, _picture_moves(motions, compared), still=not moved)
    if salient is not None:
        return salient
    empty = _track_from(shot, "none", [], [], max_gap, step)
    if moved and salience:
        # Something moved, yet nothing stands out over the whole shot: the crop is judged
        # against what each look found most salient, the best guess of what the shot is
        # about (measured: counting such a shot as lost claimed 0.85 on a real clip whose
        # truth is 0.99; the shot, a lorry's roof from above, has no subject).
        standing_out = [salient_region(look.grid, look.cell).box for look in salience]
        judged = _nearest_look(shot, salience, _as_array(standing_out))
        return replace(empty, dense_raw=judged, unfollowed_motion=True)
    return replace(empty, unfollowed_motion=moved)


def salient_track(
    shot: Shot, looks: Sequence[SalienceLook], picture_moves: bool = False, still: bool = False
) -> SubjectTrack | None:
    """Where the shot as a whole draws the eye, if its mean saliency map has one clear region
    (`_stands_out`), else None. The camera gets that region's box on every frame (a still
    subject: the crop holds still). The self-measurement gets, on each frame, what the
    nearest look saw: that region where the look still finds it salient, else the look's own
    region, so a crop that misses what a look saw counts as not keeping it. Where the picture
    itself moves, always the look's own region: the region held is then no one thing, and
    the model's pull to the picture's middle finds it salient anyway."""
    region = shot_region(list(looks))
    if region is None or not _stands_out(region, looks, still):
        return None
    frames = np.array([look.frame for look in looks], dtype=np.int64)
    seen = [
        region.box
        if not picture_moves and still_salient(look, region.box)
        else salient_region(look.grid, look.cell).box
        for look in looks
    ]
    held = np.tile(_as_array([region.box]), (len(frames), 1))
    raw = _as_array(seen)
    dense = np.tile(held[0], (shot.frames, 1))
    judged = _nearest_look(shot, looks, raw)
    return SubjectTrack(
        shot, "salient", frames, held, raw, dense, judged, picture_moves=picture_moves
    )


def _stands_out(region: SalientRegion, looks: Sequence[SalienceLook], still: bool) -> bool:
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


def _picture_moves(motions: list[Motion], compared: int) -> bool:
    """Whether the median share of the picture that moved, over the `compared` samples (those
    without motion counting 0), reaches `PICTURE_MOVES_SHARE`."""
    shares = sorted(m.share for m in motions)
    shares = [0.0] * max(0, compared - len(shares)) + shares
    return bool(shares) and float(np.median(shares)) >= PICTURE_MOVES_SHARE


def _nearest_look(
    shot: Shot, looks: Sequence[SalienceLook], boxes: NDArray[np.float64]
) -> NDArray[np.float64]:
    """On each frame of the shot, the box (a row of `boxes`, one a look) the look nearest
    to it saw."""
    local = np.array([look.frame for look in looks], dtype=np.int64) - shot.start
    midpoints = (local[1:] + local[:-1]) / 2
    return boxes[np.searchsorted(midpoints, np.arange(shot.frames))]


def _holds_face(person: Box, face: Box) -> bool:
    return (
        person.x <= face.cx <= person.right
        and person.y <= face.cy <= person.y + person.h / 2
        and face.w <= MAX_FACE_SHARE_OF_PERSON * person.w
    )


def person_boxes(
    track: SubjectTrack, people: Sequence[DetectedObject], step: int, fps: float
) -> NDArray[np.float64]:
    """On every frame of a face track's shot, the box of the person the face belongs to: from
    the nearest look (within `PERSON_REACH_SECONDS`) that found a person holding the face, moved
    along with the face since (NaN where no look found one, or the face is not known)."""
    dense = np.full((track.shot.frames, 4), np.nan)
    faces = track.dense_raw
    anchors: list[tuple[int, NDArray[np.float64]]] = []
    rides = [o for o in people if o.label != PERSON]
    for person in (p for p in people if p.label == PERSON):
        local = person.frame - track.shot.start
        if not 0 <= local < track.shot.frames or np.isnan(faces[local, 0]):
            continue
        x, y, w, h = faces[local]
        face = Box(float(x), float(y), float(w), float(h))
        if _holds_face(person.box, face):
            # The person's box relative to the face's centre, and its size.
            box = person.box
            for ride in rides:
                if ride.frame == person.frame and ride.box.iou(person.box) >= MIN_RIDE_OVERLAP:
                    box = box.union(ride.box)
            anchors.append((local, np.array([box.x - face.cx, box.y - face.cy, box.w, box.h])))
    if not anchors:
        return dense
    reach = max(step, round(PERSON_REACH_SECONDS * fps))
    at = np.array([a[0] for a in anchors])
    for frame in np.flatnonzero(~np.isnan(faces[:, 0])):
        nearest = int(np.argmin(np.abs(at - frame)))
        if abs(int(at[nearest]) - int(frame)) > reach:
            continue
        offset = anchors[nearest][1]
        cx, cy = faces[frame, 0] + faces[frame, 2] / 2, faces[frame, 1] + faces[frame, 3] / 2
        dense[frame] = (cx + offset[0], cy + offset[1], offset[2], offset[3])
    return dense
