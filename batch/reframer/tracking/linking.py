"""Sightings linked from sample to sample into tracks (faces; objects of one family), and the
tracks that together carry a shot's subject: the strongest, then those seen only while none of
the chosen ones is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from batch.reframer.geometry import Box
from batch.reframer.objects import ANIMALS, VEHICLES, DetectedObject
from batch.reframer.tracking.track import Sighting, Track

# Two sightings on one frame are one face seen twice when this share of the smaller one lies
# inside the other.
SAME_FACE_OVERLAP = 0.7

# A followed box's origin is the detection whose box it matches this well (the same box, but
# for rounding between the analysis and the source pixels).
SAME_DETECTION_IOU = 0.9

# How far a sighting may be from where it was, or was heading, by the next look, in its
# sizes a look.
LOOK_REACH = 0.5

# A face seen once, its speed not known yet, may have gone further, as a fast one does (the
# benchmark's fastest class crosses the picture in under a second, 2-3 of a face's widths a
# look). Objects keep `LOOK_REACH`: linked further, a cat darting across a short shot, found
# late, became its subject over its motion (two clips: 1.000 -> 0.899 and 0.931 kept).
UNKNOWN_SPEED_REACH = 2.0

# Two sightings this close in size (the larger's width over the smaller's) may be one thing
# seen once and moved on; one far larger or smaller is another thing, near or not.
ALIKE_SIZE = 1.5

# A shorter face track carries the subject where no stronger one runs if it has this many
# sightings (one or two can be a texture that looks like a face).
MIN_LOOKS = 3


def _same_face(
    track: Track, face: Sighting, max_gap: int, step: int, reach_seen_once: float
) -> float:
    """How well `face` continues `track` (0 = not at all): overlap with its last box, or
    nearness to where it was heading (a fast subject moves more than its width between
    looks) or to where it last was (it may have stopped)."""
    last = track.last
    gap = face.frame - last.frame
    if gap > max_gap:
        return 0.0
    if _carried_from(last, face):
        return 1.0
    overlap: float = last.box.iou(face.box)
    cx, cy = last.box.cx, last.box.cy
    distance = abs(cx - face.box.cx) + abs(cy - face.box.cy)
    if len(track.sightings) >= 2:
        before = track.sightings[-2]
        elapsed = max(1, last.frame - before.frame)
        cx += (last.box.cx - before.box.cx) * gap / elapsed
        cy += (last.box.cy - before.box.cy) * gap / elapsed
        # Where it was heading, or where it was: a subject stops (measured: a person
        # crossing the picture in 0.6 s stopped between two looks 9 frames apart, found 690
        # pixels from where it was heading and 262 from where it was; its run was cut in three).
        distance = min(distance, abs(cx - face.box.cx) + abs(cy - face.box.cy))
    looks = max(1.0, gap / max(step, 1))
    # Seen once, its speed is not known yet: it may have gone further (measured: a face 48
    # pixels wide crossing the picture in 0.9 s, 90 pixels a sample, began a track of its own
    # on each of its nine samples, none long enough to be a subject).
    seen_once = len(track.sightings) == 1 and _alike(last, face)
    per_look = reach_seen_once if seen_once else LOOK_REACH
    reach = (1.0 + per_look * looks) * max(last.box.w, last.box.h, 1.0)
    near = max(0.0, 1.0 - distance / reach)
    return max(overlap, 0.5 * near)


def _alike(last: Sighting, face: Sighting) -> bool:
    """Whether two sightings are of a size (`ALIKE_SIZE`)."""
    small, large = sorted((last.box.w, face.box.w))
    return large <= ALIKE_SIZE * max(small, 1.0)


def _carried_from(last: Sighting, face: Sighting) -> bool:
    """Whether optical flow carried one of the two from the other's detection, or both from
    one detection: the same face, however far it moved in between (measured: a face crossing
    1.6-1.7 of its widths between samples, carried back one sample from its first detection,
    began a track of its own there, and so did its next two detections: the face's run was
    cut in four; a face swinging 25 pixels a frame, carried on from a detection where it
    turned, left its track there: the crop stayed behind for the shot's second half)."""
    last_origin, origin = _origin(last), _origin(face)
    return (
        last_origin is not None
        and origin is not None
        and last_origin[0] == origin[0]
        and last_origin[1].iou(origin[1]) >= SAME_DETECTION_IOU
    )


def _origin(sighting: Sighting) -> tuple[int, Box] | None:
    """The detection a sighting is (its frame and box) or was carried from by flow."""
    if sighting.detected_at is None:
        return sighting.frame, sighting.box
    if sighting.followed_from is None:
        return None
    return sighting.detected_at, sighting.followed_from


def link_sightings(
    faces: Sequence[Sighting], max_gap: int, step: int = 1, reach_seen_once: float = LOOK_REACH
) -> list[Track]:
    """Greedy frame-by-frame linking, most confident detections first. A sighting mostly
    inside a more confident one on the same frame is the same face seen twice (a detection
    and a box followed back from a later one where flow lost it in between; a cartoon's face
    found at two scales) and is dropped: as a track of its own it would take the face's next
    detections from its real track."""
    tracks: list[Track] = []
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
                (_same_face(track, face, max_gap, step, reach_seen_once), i)
                for i, track in enumerate(tracks)
                if i not in taken
            ]
            best = max(scored, default=(0.0, -1))
            if best[0] > 0.05:
                tracks[best[1]].sightings.append(face)
                taken.add(best[1])
            else:
                tracks.append(Track([face]))
                taken.add(len(tracks) - 1)
    return tracks


def subject_tracks(worthy: list[Track], shorter: list[Track]) -> list[Track]:
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


def _kind(track: Track) -> str:
    """A face track's kind is "face"; an object track's its family (linked apart, so a
    track's sightings are all of one)."""
    first = track.sightings[0]
    return family_of(first.label) if isinstance(first, DetectedObject) else "face"


def _runs_beside(track: Track, chosen: list[Track]) -> list[list[Sighting]]:
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


def family_of(label: str) -> str:
    """Classes the detector confuses with each other (a car for a truck, a bicycle for a
    motorcycle) are one object seen differently."""
    if label in VEHICLES:
        return "vehicle"
    return "animal" if label in ANIMALS else label
