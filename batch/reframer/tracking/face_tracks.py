"""What a face track tells of itself: whether it stayed put or never moved at all, whether it
may be a pattern in a photograph rather than a face, and how many of the boxes optical flow
carried it by a later detection vouches for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from batch.reframer.faces import Face
from batch.reframer.geometry import Box
from batch.reframer.motion import Motion
from batch.reframer.salience import SalienceLook, shot_region
from batch.reframer.tracking.linking import MIN_LOOKS
from batch.reframer.tracking.motion_track import ONE_MOVER_HOLDS
from batch.reframer.tracking.salient_track import stands_out
from batch.reframer.tracking.track import Sighting, Track, as_array

# A face track must cover this share of a shot's samples (or a second) to be its subject.
MIN_FACE_COVERAGE = 0.2

# A face whose detections all lie within this share of its width of each other has not moved
# at all: a face in a picture in the picture (the detector takes a pattern in a photograph of
# stars for one, 0.82 on every sample, pixel for pixel still), as a poster's or a still
# photograph's. Where another face in the shot moves, that one is what the shot is about
# (measured: a random clip framed the pattern over a cameraman, whose face stops and goes).
FROZEN_SHARE = 0.02


def _detections_apart(track: Track) -> tuple[float, float, float, float]:
    """How far apart a face's detections lie (its centres' spread across and down) and its
    median width and height."""
    found = [f.box for f in track.detected]
    xs, ys = [b.cx for b in found], [b.cy for b in found]
    width = float(np.median([b.w for b in found]))
    height = float(np.median([b.h for b in found]))
    return max(xs) - min(xs), max(ys) - min(ys), width, height


def stays_put(track: Track) -> bool:
    """Whether a face's detections all lie within its own width and height of each other:
    then the boxes optical flow carried it by between them count towards its coverage (a
    face the detector only half recognises, a cartoon's or a turned head, found on a few
    samples and followed on the rest). Flow drifts with speed, so a face that moves further
    counts only the boxes a later detection vouches for (`followed_and_found_again`)."""
    if track.looks < 2:
        return False
    across, down, width, height = _detections_apart(track)
    return across <= width and down <= height


def frozen(track: Track) -> bool:
    """Whether a face's detections (at least `MIN_LOOKS`) all sit within `FROZEN_SHARE` of its
    width of each other: it has not moved at all."""
    if track.looks < MIN_LOOKS:
        return False
    across, down, width, _ = _detections_apart(track)
    return max(across, down) <= FROZEN_SHARE * width


def pictured(track: Track) -> bool:
    """Whether a face track is found by the larger look only, stands still, and the face
    mesh saw a face on none of its detections: as likely a pattern in a photograph the
    larger look takes for a face (the hubble picture's, scoring 0.78-0.83 and found again at
    other sizes) as a face too small for the usual look. (Measured: the mesh scores the
    hubble pattern 0.0 and the coffee cup 0.14-0.18 where small real faces score 0.84-1.0,
    on the analysis picture.)"""
    detected = track.detected
    larger_only = all(isinstance(s, Face) and s.larger_only for s in detected)
    meshed = any(isinstance(s, Face) and s.meshed for s in detected)
    return larger_only and not meshed and stays_put(track)


def seen_elsewhere(faces: list[Track], looks: Sequence[SalienceLook], still: bool) -> bool:
    """Whether the shot's saliency region stands out (`stands_out`) and holds none of the
    faces. Then faces that may be a photograph's pattern give way to where the eye goes
    (measured on random clips: the hubble picture's pattern, found only by the larger look,
    took still shots of a ball, a cat and a motorcycle on it, 0.000-0.625 of the frames
    kept; the saliency model's region was on each of them, not on the pattern)."""
    region = shot_region(list(looks))
    if region is None or not stands_out(region, looks, still):
        return False
    return not any(region.box.intersection(_median_box(track)) > 0 for track in faces)


def _median_box(track: Track) -> Box:
    """The median of a track's detected boxes."""
    return Box(*np.median(as_array([s.box for s in track.detected]), axis=0).tolist())


def moves_elsewhere(track: Track, motions: list[Motion], needed: float) -> bool:
    """Whether one thing moves in the shot, away from the face, on at least `needed`
    samples: then it, not a still face too small to be sure of, is the subject (measured on
    random clips: a ball rolling or a cat swinging over the hubble photograph lost the shot
    to its pattern, 0.517 and 0.527 of the frames kept)."""
    face = track.sightings[0].box
    away = [m for m in motions if m.held >= ONE_MOVER_HOLDS and m.box.iou(face) == 0.0]
    return len(away) >= needed


def as_due(track: Track) -> Track:
    """The track as the looks due anyway would have seen it, to judge what it is: what looks
    taken only to chase a lost face found (faces.CHASE_SAMPLES), and the boxes flow carried
    from that, count as carried by flow from the due detection before (dropped where none
    came before), as without the chase. Measured: counted as detections, a false face on a
    motorcycle, found again by three chasing looks, took its shot from the motorcycle (0.956
    of the frames kept -> 0.222); dropped, a face found once a second lost its shot to where
    the eye goes (0.957 -> 0.940)."""
    chased = {s.frame for s in track.detected if isinstance(s, Face) and s.chased}
    sightings: list[Sighting] = []
    due: Sighting | None = None
    for sighting in track.sightings:
        chasing = isinstance(sighting, Face) and (sighting.chased or sighting.detected_at in chased)
        if not chasing:
            sightings.append(sighting)
            if sighting.detected_at is None:
                due = sighting
        elif due is not None and isinstance(sighting, Face):
            sightings.append(
                replace(sighting, detected_at=due.frame, followed_from=due.box, chased=False)
            )
    return Track(sightings, track.weight)


def followed_and_found_again(track: Track) -> int:
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
