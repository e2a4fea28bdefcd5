"""The person a subject's face belongs to (the cyclist with the bicycle; where no person box
holds the face, the bicycle, motorcycle or horse that does; where one thing moves around the
face, all of it), on every frame of its shot: what the viewer sees as the subject, which the
camera keeps where it fits and the job judges too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from batch.reframer.geometry import Box
from batch.reframer.motion import Motion
from batch.reframer.objects import PERSON, DetectedObject
from batch.reframer.tracking.motion_track import ONE_MOVER_HOLDS
from batch.reframer.tracking.track import SubjectTrack, fits

# A person look's box is carried along with the face it holds for at most this long either
# side of the look (people change pose; a box carried further is a guess).
PERSON_REACH_SECONDS = 1.0

# A person box holds a face when the face's centre lies inside it, in its upper half, and the
# face is at most this share of its width (a "person" no wider than the face is the face).
MAX_FACE_SHARE_OF_PERSON = 0.8

# A bicycle, motorcycle or horse overlapping a person this much (IoU) is what they ride.
MIN_RIDE_OVERLAP = 0.3

# What moves around a face holds it when at least this share of the face is inside it...
FACE_INSIDE_MOVER = 0.9
# ...and the face is at most this share of its width: a body, not a head moving with a hand
# beside it (on Megamind a head and a hand made a box 2.04 face widths wide, and the crop,
# keeping it, cut his ears on 8 more frames; at 2.5 widths the real clips lost 4 frames, on
# Big Buck Bunny started a frame later, and no other).
MAX_FACE_SHARE_OF_MOVER = 0.4


def person_boxes(
    track: SubjectTrack,
    people: Sequence[DetectedObject],
    step: int,
    fps: float,
    motions: Sequence[Motion],
    window: tuple[int, int],
) -> NDArray[np.float64]:
    """On every frame of a face track's shot, the box of the person the face belongs to: from
    the nearest look (within `PERSON_REACH_SECONDS`) that found a person (or else a ride)
    holding the face, or a sample where one thing moving holds it (`_moving_holders`; joined
    with the person a look found on that sample), moved along with the face since (NaN where
    none was found, or the face is not known)."""
    faces = track.dense_raw
    anchors = _looked_holders(track, people)
    for local, box in _moving_holders(track, motions, window):
        # A person found on the same sample is joined with what moved around the face.
        same = [i for i, (at, _box) in enumerate(anchors) if abs(at - local) <= step // 2]
        for i in same:
            box = box.union(_box_at(anchors[i][1], faces[local]))
        anchors = [anchor for i, anchor in enumerate(anchors) if i not in same]
        anchors.append((local, _offset(box, faces[local])))
    return _carried_with_the_face(track, anchors, max(step, round(PERSON_REACH_SECONDS * fps)))


def _looked_holders(
    track: SubjectTrack, people: Sequence[DetectedObject]
) -> list[tuple[int, NDArray[np.float64]]]:
    """The frames (in the shot) where a look found a person, or else a ride, holding the face,
    and that holder's box relative to the face (`_offset`)."""
    faces = track.dense_raw
    anchors: list[tuple[int, NDArray[np.float64]]] = []
    rides = [o for o in people if o.label != PERSON]
    # People first; on a look where none holds the face, a ride that does (its rider's
    # person box missed: the whole ride is what the viewer sees with that face).
    for holder in sorted(people, key=lambda o: o.label != PERSON):
        local = holder.frame - track.shot.start
        if not 0 <= local < track.shot.frames or np.isnan(faces[local, 0]):
            continue
        if holder.label != PERSON and any(at == local for at, _box in anchors):
            continue
        if _holds_face(holder.box, _face(faces[local])):
            # The holder's box relative to the face's centre, and its size.
            box = holder.box
            for ride in rides if holder.label == PERSON else ():
                if ride.frame == holder.frame and ride.box.iou(holder.box) >= MIN_RIDE_OVERLAP:
                    box = box.union(ride.box)
            anchors.append((local, _offset(box, faces[local])))
    return anchors


def _moving_holders(
    track: SubjectTrack, motions: Sequence[Motion], window: tuple[int, int]
) -> Iterator[tuple[int, Box]]:
    """The frames (in the shot) where one thing moves around the face and holds it as a person
    box would, and its box: what moves with a face is what the viewer sees with it (measured
    on clips of pictures the thresholds were never tuned on: a footballer mid-kick whose arm
    and boot the person box leaves out, or whom no look finds, and a squirrel whose face is
    all the face detector sees). Only a box settled where the thing is now (not also where it
    was), that one thing holds (`ONE_MOVER_HOLDS`), that fits the crop, with the face inside
    it (`FACE_INSIDE_MOVER`: a cartoon rabbit's ears moving above his face held its centre,
    and the crop cut his face for them) and far wider than the face
    (`MAX_FACE_SHARE_OF_MOVER`)."""
    faces = track.dense_raw
    for motion in motions:
        local = motion.frame - track.shot.start
        if not 0 <= local < track.shot.frames or np.isnan(faces[local, 0]):
            continue
        face = _face(faces[local])
        alone = motion.settled and motion.held >= ONE_MOVER_HOLDS and fits(motion.box, window)
        inside = motion.box.intersection(face) >= FACE_INSIDE_MOVER * face.area
        wide = face.w <= MAX_FACE_SHARE_OF_MOVER * motion.box.w
        if alone and inside and wide and _holds_face(motion.box, face):
            yield local, motion.box


def _carried_with_the_face(
    track: SubjectTrack, anchors: list[tuple[int, NDArray[np.float64]]], reach: int
) -> NDArray[np.float64]:
    """On every frame where the face is known, the holder of the nearest anchor at most
    `reach` frames away, moved along with the face (NaN elsewhere)."""
    dense = np.full((track.shot.frames, 4), np.nan)
    if not anchors:
        return dense
    faces = track.dense_raw
    at = np.array([a[0] for a in anchors])
    for frame in np.flatnonzero(~np.isnan(faces[:, 0])):
        nearest = int(np.argmin(np.abs(at - frame)))
        if abs(int(at[nearest]) - int(frame)) > reach:
            continue
        box = _box_at(anchors[nearest][1], faces[frame])
        dense[frame] = (box.x, box.y, box.w, box.h)
    return dense


def _face(row: NDArray[np.float64]) -> Box:
    return Box(float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def _offset(box: Box, face: NDArray[np.float64]) -> NDArray[np.float64]:
    """A holder's box relative to the centre of the face (x, y, w, h) it holds."""
    cx, cy = face[0] + face[2] / 2, face[1] + face[3] / 2
    return np.array([box.x - cx, box.y - cy, box.w, box.h])


def _box_at(offset: NDArray[np.float64], face: NDArray[np.float64]) -> Box:
    """The holder's box (`_offset`) around the face (x, y, w, h)."""
    cx, cy = face[0] + face[2] / 2, face[1] + face[3] / 2
    return Box(float(cx + offset[0]), float(cy + offset[1]), float(offset[2]), float(offset[3]))


def _holds_face(person: Box, face: Box) -> bool:
    return (
        person.x <= face.cx <= person.right
        and person.y <= face.cy <= person.y + person.h / 2
        and face.w <= MAX_FACE_SHARE_OF_PERSON * person.w
    )
