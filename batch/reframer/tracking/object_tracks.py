"""A shot's subject among the detected objects (a person, an animal, a vehicle): the object
tracks worthy of it, chosen by class weight, size and persistence and, where something in the
shot moves, only those that move with it (a parked car in a photograph must not steal the
subject); and the boxes that fill in where the detector did not look or missed it."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence

import numpy as np

from batch.reframer.geometry import Box
from batch.reframer.motion import Motion
from batch.reframer.objects import DetectedObject
from batch.reframer.shots import Shot
from batch.reframer.tracking.linking import family_of, link_sightings
from batch.reframer.tracking.motion_track import ONE_MOVER_HOLDS
from batch.reframer.tracking.track import Sighting, Track

# An object's sightings further apart than this are not smoothed together.
SMOOTH_WITHIN_SECONDS = 0.25

# An object track must be seen on this share of the shot's object looks (and at least twice)
# to be its subject: one or two hits are as often a texture or a photograph's detail.
MIN_OBJECT_COVERAGE = 0.3

# Where something in the shot moves, an object is its subject only if at least this share of
# its sightings where anything moved agree with the motion (where anything moved overlaps it).
MIN_MOTION_AGREEMENT = 0.5

# A moving thing carries an object on where the detector missed it only if its box's longer
# side is within this factor of the object's.
CARRY_SIZE_RATIO = 2.0

# A moving thing overlapping an object's box by more than this (IoU) is the object moving as
# a whole, and the box is centred on it (centred_by_motion); a part of it moving (a walking
# man's legs) is not. The only value tried.
CENTRE_ON_MOTION_OVERLAP = 0.5

# The strongest object track is the subject only if it outweighs this share of all the object
# tracks running beside it (`object_tracks`): several cars of similar weight are traffic, the
# scenery of the shot, not what it is about.
MIN_OBJECT_DOMINANCE = 0.5


def object_tracks(
    shot: Shot,
    objects: Sequence[DetectedObject],
    steady: bool,
    max_gap: int,
    step: int,
    object_step: int,
    moved: Sequence[Motion],
) -> tuple[list[Track], list[Track]]:
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
    tracks: list[Track] = []
    for family in sorted({family_of(o.label) for o in objects}):
        members = [o for o in objects if family_of(o.label) == family]
        for track in link_sightings(members, max(max_gap, 2 * object_step), object_step):
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
    moving: list[Track] = []
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


def _agreement(track: Track, moved: Sequence[Motion], step: int) -> tuple[float, float]:
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


def _holds(outer: Box, inner: Box) -> bool:
    return outer.x <= inner.cx <= outer.right and outer.y <= inner.cy <= outer.bottom


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


def centred_by_motion(frames: list[int], boxes: list[Box], motions: list[Motion]) -> list[Box]:
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


def followed_from(
    chosen: list[Track], objects: Sequence[DetectedObject], motions: Sequence[Motion]
) -> list[Sighting]:
    """The boxes optical flow carried the chosen tracks' detections by between the object
    detector's looks (pipeline.py), where the looks bear them out (past the first and last
    look, where flow goes on their way or the `motions` see the object stop). They only fill
    in where the subject was: which object is the subject is chosen on the looks alone
    (measured: counting them too, a parked car the flow held in place between looks became
    the subject of a real clip's shot, 0.968 -> 0.643 of its frames kept)."""
    carried: dict[tuple[int, Box], list[DetectedObject]] = {}
    for o in objects:
        if o.detected_at is not None and o.followed_from is not None:
            carried.setdefault((o.detected_at, o.followed_from), []).append(o)

    def run(look: Sighting, first: int, end: int) -> list[DetectedObject]:
        """The boxes flow carried `look` by on the frames first..end-1, away from it."""
        away = [o for o in carried.get((look.frame, look.box), []) if first <= o.frame < end]
        return sorted(away, key=lambda o: abs(o.frame - look.frame))

    moved_at = {m.frame: m.box for m in motions}
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
                elif boxes:
                    vouched.extend(_stopped_with_motion(boxes, start, other, moved_at))
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
    looks = _looks_speed(start, other)
    frames = run[-1].frame - start.frame
    flow = ((run[-1].box.cx - start.box.cx) / frames, (run[-1].box.cy - start.box.cy) / frames)
    speed = looks[0] ** 2 + looks[1] ** 2
    return speed < 1.0 or flow[0] * looks[0] + flow[1] * looks[1] >= 0.5 * speed


def _looks_speed(start: Sighting, other: Sighting) -> tuple[float, float]:
    """How fast the object's middle moved from the `other` look to the one at `start`
    (pixels a frame, across and down)."""
    frames = start.frame - other.frame
    return (start.box.cx - other.box.cx) / frames, (start.box.cy - other.box.cy) / frames


def _stopped_with_motion(
    run: list[DetectedObject], start: Sighting, other: Sighting, moved_at: dict[int, Box]
) -> list[DetectedObject]:
    """Of the boxes flow carried the object by from the look at `start`, a shot's first or
    last (in order away from it), that did not keep going the way it moved from the `other`
    look: those the motion seen on their frames bears out, its middle nearer theirs than to
    where the looks' speed would have carried the object (where nothing moved on a frame,
    the box is taken after one borne out). Empty unless the first with motion is. Otherwise
    the track carries the object on at the looks' speed (measured: two cats and a motorcycle
    stopping just after their shot's last look, flow and motion seeing them stop, were sent
    on 130-280 pixels past where they stood by the shot's end)."""
    speed = _looks_speed(start, other)
    taken: list[DetectedObject] = []
    for carried in run:
        moved = moved_at.get(carried.frame)
        if moved is None:
            if taken:
                taken.append(carried)
            continue
        ahead = carried.frame - start.frame
        going = (start.box.cx + speed[0] * ahead, start.box.cy + speed[1] * ahead)
        to_flow = np.hypot(moved.cx - carried.box.cx, moved.cy - carried.box.cy)
        to_going = np.hypot(moved.cx - going[0], moved.cy - going[1])
        if to_flow >= to_going:
            break
        taken.append(carried)
    return taken


def _overlap_in_time(a: Track, b: Track) -> bool:
    return a.sightings[0].frame <= b.last.frame and b.sightings[0].frame <= a.last.frame
