"""A shot's subject, the one policy that picks it from the shot's detections, in order: faces,
objects, motion, where the shot draws the eye (salience), none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from batch.reframer.faces import Face
from batch.reframer.motion import Motion
from batch.reframer.objects import PERSON, RIDES, DetectedObject
from batch.reframer.salience import SalienceLook, salient_region
from batch.reframer.shots import Shot
from batch.reframer.tracking.face_tracks import (
    MIN_FACE_COVERAGE,
    as_due,
    followed_and_found_again,
    frozen,
    moves_elsewhere,
    pictured,
    seen_elsewhere,
    stays_put,
)
from batch.reframer.tracking.linking import (
    MIN_LOOKS,
    UNKNOWN_SPEED_REACH,
    link_sightings,
    subject_tracks,
)
from batch.reframer.tracking.motion_track import (
    MAX_MOTION_SPREAD,
    MIN_MOTION_COVERAGE,
    followed_motion,
)
from batch.reframer.tracking.object_tracks import (
    SMOOTH_WITHIN_SECONDS,
    carried_by_motion,
    centred_by_motion,
    followed_from,
    object_tracks,
)
from batch.reframer.tracking.people import person_boxes
from batch.reframer.tracking.salient_track import nearest_look, picture_moves, salient_track
from batch.reframer.tracking.track import SubjectTrack, Track, as_array, fits, track_from

# A face missing from up to this many seconds of samples is still the same face.
MAX_GAP_SECONDS = 1.0


def _worthy(track: Track, needed: float, samples: int) -> bool:
    """Whether a face track was seen long enough to be a subject: detected on `needed`
    samples, or on fewer with the boxes flow carried it by between them vouched for."""
    looks = track.looks
    return (
        looks >= max(2.0, needed)
        or (samples <= 2 and looks > 0)
        or (looks >= MIN_LOOKS and stays_put(track) and len(track.sightings) >= max(2.0, needed))
        or (looks >= MIN_LOOKS and looks + followed_and_found_again(track) >= max(2.0, needed))
    )


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
    them compared for the subject (not those beside faces, `Motion.beside_faces`; by default
    `sampled`): a moving subject carries on at its last speed up to the next of them, not to a
    sample whose motion nobody looked at. Motion beside faces only tells how far what holds a
    face reaches (`person_boxes`).
    """
    every_motion, motions = motions, [m for m in motions if not m.beside_faces]
    candidates = max(1, -(-shot.frames // step))
    samples = candidates if sampled is None else max(1, len(sampled))
    max_gap = max(step, round(MAX_GAP_SECONDS * fps))
    tracks = link_sightings(faces, max_gap, step, UNKNOWN_SPEED_REACH)
    # The object detector's looks; the boxes flow carried objects by between looks only fill
    # in the object chosen (`followed_from`).
    detections = [o for o in objects if o.detected_at is None]
    # A second's worth of samples, at the rate they were taken.
    needed = min(MIN_FACE_COVERAGE * samples, max(1.0, fps / step * samples / candidates))
    # Each track as the looks due anyway saw it: chasing looks say where a face went, not
    # what it is (face_tracks.as_due).
    due = {id(t): as_due(t) for t in tracks}
    worthy = [t for t in tracks if _worthy(due[id(t)], needed, samples)]
    movers = max(2.0, MIN_MOTION_COVERAGE * samples)
    worthy = [
        t for t in worthy if not (pictured(due[id(t)]) and moves_elsewhere(t, motions, movers))
    ]
    # A face that never moved is the subject only where no worthy face moves.
    worthy = [t for t in worthy if not frozen(due[id(t)])] or worthy
    moved = bool(motions)
    doubtful = bool(worthy) and all(pictured(due[id(t)]) for t in worthy)
    if doubtful and salience and seen_elsewhere(worthy, salience, still=not moved):
        worthy = []
    if worthy:
        # Shorter tracks may carry the subject where the strong ones are absent.
        shorter = [t for t in tracks if t not in worthy and t.looks >= MIN_LOOKS]
        chosen = subject_tracks(worthy, shorter)
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
                        if fits(joined, window, 0.8):
                            box = joined
            frames.append(face.frame)
            boxes.append(face.box)
            framed.append(box)
        track = track_from(shot, "face", frames, boxes, max_gap, step, sampled, framed=framed)
        # The viewer's subject is the person (the cyclist with the bicycle), not only the face:
        # the camera keeps it where it fits (camera.corridors) and the job judges it too.
        people = [o for o in detections if o.label in (PERSON, *RIDES)]
        dense_person = person_boxes(track, people, step, fps, every_motion, window)
        return replace(track, dense_person=dense_person, unconfirmed=doubtful and not salience)
    needed = max(1.0, MIN_MOTION_COVERAGE * samples)
    # Motion spread far wider than the crop is scattered (traffic, foliage, a shaking camera),
    # not a subject to follow.
    steady = [m for m in motions if fits(m.everywhere, window, MAX_MOTION_SPREAD)]
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
        chosen = subject_tracks(worthy_objects, shorter_objects)
        seen = sorted(
            [*(o for t in chosen for o in t.sightings), *followed_from(chosen, objects, steady)],
            key=lambda o: o.frame,
        )
        frames, boxes = carried_by_motion(
            [o.frame for o in seen], [o.box for o in seen], steady, object_step
        )
        boxes = centred_by_motion(frames, boxes, steady)
        # Looks a third of a second apart are not smoothed together: a median of three cut
        # a turn between them (measured on six clips of a cat swinging across a photograph:
        # 0.42-0.85 of the frames kept; two of them 0.92 and 0.96 with this; with the boxes
        # flow carried it by between looks too, five 1.00 and one 0.93). Nor is a turn
        # blurred: the blur pulled a cat swinging in a crop 23 pixels wider than it up to 17
        # pixels short of its turns (cut on 31 of 90 frames; 16 with this). No blur at all
        # cut it on 9, but cost bikes' cyclist 1-3 frames on 5 of its 7 runs: flow carries
        # his box behind him as he speeds up, and the blur leans ahead on such a path.
        smooth_gap = round(SMOOTH_WITHIN_SECONDS * fps)
        return track_from(shot, "object", frames, boxes, max_gap, object_step,
                          smooth_gap=smooth_gap, keep_turns=True)  # fmt: skip
    followed = followed_motion(steady, motions, window, needed)
    if followed is not None:
        frames, boxes, one_mover = followed
        looked = sampled if motion_compared is None else motion_compared
        track = track_from(shot, "motion", frames, boxes, max_gap, step, looked)
        return replace(track, several_movers=not one_mover)
    compared = samples if motion_compared is None else max(1, len(motion_compared))
    salient = salient_track(shot, salience, picture_moves(motions, compared), still=not moved)
    if salient is not None:
        return salient
    empty = track_from(shot, "none", [], [], max_gap, step)
    if moved and salience:
        # Something moved, yet nothing stands out over the whole shot: the crop is judged
        # against what each look found most salient, the best guess of what the shot is
        # about (measured: counting such a shot as lost claimed 0.85 on a real clip whose
        # truth is 0.99; the shot, a lorry's roof from above, has no subject).
        standing_out = [salient_region(look.grid, look.cell).box for look in salience]
        judged = nearest_look(shot, salience, as_array(standing_out))
        return replace(empty, dense_raw=judged, unfollowed_motion=True)
    return replace(empty, unfollowed_motion=moved)
