"""Stage 6, tracking: the detections of one shot joined into the subject the camera keeps.

Faces are linked from sample to sample by overlap into tracks; the strongest track (long-lived,
large, confident) is the subject, and other faces join it where both fit in the crop. A shot
without a face falls back to a detected object (a person, an animal, a vehicle: chosen by class
weight, size and persistence, and, where something in the shot moves, only one that moves with
it: a parked car in a photograph must not steal the subject), then to the thing that moves (or
where several move at once, those inside the picture where they fit the crop, else their
extent), then to where the shot as a whole draws the eye (salience), and a shot with none of
these has no subject (the camera holds the centre). The subject's box is then smoothed over
time, because detector boxes wobble by a few pixels from frame to frame and the camera should
not.

    subject.py        the policy: which of these a shot's subject is (subject_of_shot)
    track.py          SubjectTrack, the track it comes out as, dense on every frame; smoothing
    linking.py        sightings linked into tracks; the tracks that carry the subject together
    face_tracks.py    what a face track tells of itself (still, frozen, a photograph's pattern)
    object_tracks.py  the objects worthy of being the subject, and what fills in between looks
    motion_track.py   what moves, followed where no face or object is the subject
    salient_track.py  where the shot draws the eye, where nothing else is found
    people.py         the person a subject's face belongs to
"""

from batch.reframer.tracking.linking import MIN_LOOKS
from batch.reframer.tracking.people import person_boxes
from batch.reframer.tracking.subject import subject_of_shot
from batch.reframer.tracking.track import SubjectKind, SubjectTrack, densify, smooth_boxes

__all__ = [
    "MIN_LOOKS",
    "SubjectKind",
    "SubjectTrack",
    "densify",
    "person_boxes",
    "smooth_boxes",
    "subject_of_shot",
]
