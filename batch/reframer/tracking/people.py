"""The person a subject's face belongs to (the cyclist with the bicycle; where no person box
holds the face, the bicycle, motorcycle or horse that does), on every frame of its shot: what
the viewer sees as the subject, which the camera keeps where it fits and the job judges too."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from batch.reframer.geometry import Box
from batch.reframer.objects import PERSON, DetectedObject
from batch.reframer.tracking.track import SubjectTrack

# A person look's box is carried along with the face it holds for at most this long either
# side of the look (people change pose; a box carried further is a guess).
PERSON_REACH_SECONDS = 1.0

# A person box holds a face when the face's centre lies inside it, in its upper half, and the
# face is at most this share of its width (a "person" no wider than the face is the face).
MAX_FACE_SHARE_OF_PERSON = 0.8

# A bicycle, motorcycle or horse overlapping a person this much (IoU) is what they ride.
MIN_RIDE_OVERLAP = 0.3


def person_boxes(
    track: SubjectTrack, people: Sequence[DetectedObject], step: int, fps: float
) -> NDArray[np.float64]:
    """On every frame of a face track's shot, the box of the person the face belongs to: from
    the nearest look (within `PERSON_REACH_SECONDS`) that found a person (or else a ride)
    holding the face, moved along with the face since (NaN where no look found one, or the face
    is not known)."""
    dense = np.full((track.shot.frames, 4), np.nan)
    faces = track.dense_raw
    anchors: list[tuple[int, NDArray[np.float64]]] = []
    rides = [o for o in people if o.label != PERSON]
    # People first; on a look where none holds the face, a ride that does (its rider's
    # person box missed: the whole ride is what the viewer sees with that face).
    for holder in sorted(people, key=lambda o: o.label != PERSON):
        local = holder.frame - track.shot.start
        if not 0 <= local < track.shot.frames or np.isnan(faces[local, 0]):
            continue
        if holder.label != PERSON and any(at == local for at, _offset in anchors):
            continue
        x, y, w, h = faces[local]
        face = Box(float(x), float(y), float(w), float(h))
        if _holds_face(holder.box, face):
            # The holder's box relative to the face's centre, and its size.
            box = holder.box
            for ride in rides if holder.label == PERSON else ():
                if ride.frame == holder.frame and ride.box.iou(holder.box) >= MIN_RIDE_OVERLAP:
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


def _holds_face(person: Box, face: Box) -> bool:
    return (
        person.x <= face.cx <= person.right
        and person.y <= face.cy <= person.y + person.h / 2
        and face.w <= MAX_FACE_SHARE_OF_PERSON * person.w
    )
