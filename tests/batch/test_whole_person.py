"""A face's whole person is the subject: the object detector's person holding the face, or
the one thing moving around it, is carried along with the face (tracking.person_boxes), the
camera keeps it where it fits (camera.plan_shot) and the job's retention judges it
(quality.retention)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from skimage import data

from batch.reframer import camera, quality
from batch.reframer.faces import Face
from batch.reframer.geometry import Box
from batch.reframer.motion import Motion
from batch.reframer.objects import DetectedObject, ObjectSampler
from batch.reframer.shots import Shot
from batch.reframer.tracking import SubjectTrack, subject_of_shot

FPS = 25.0
STEP = 2
WINDOW = (152, 272)
SOURCE = (640, 272)
SHOT = Shot(0, 50)


def _face_moving(speed: float, left: float = 300.0) -> list[Face]:
    """A face 20 pixels wide moving right by `speed` pixels a frame, seen on every sample."""
    return [
        Face(frame, Box(left + speed * frame, 60, 20, 26), 0.9)
        for frame in range(0, SHOT.end, STEP)
    ]


def _subject(
    faces: list[Face], objects: list[DetectedObject], motions: list[Motion] | None = None
) -> SubjectTrack:
    return subject_of_shot(SHOT, faces, motions or [], WINDOW, FPS, STEP, objects, 8)


def test_the_person_holding_the_face_is_carried_along_with_it_between_looks() -> None:
    faces = _face_moving(2.0)
    # DetectedObject once, at the first frame: a person around the face (x 290..420); and someone
    # standing elsewhere, who is not whose face this is.
    person = DetectedObject(0, Box(290, 40, 130, 230), 0.8, "person")
    other = DetectedObject(0, Box(500, 40, 100, 230), 0.8, "person")

    track = _subject(faces, [person, other])

    assert track.dense_person is not None
    # 20 frames later the face moved 40 pixels: so did the person, at its looked size.
    assert np.allclose(track.dense_person[20], [330, 40, 130, 230])
    # Further than a second (25 frames) from the look, the person's box is not guessed.
    assert not np.isnan(track.dense_person[:26, 0]).any()
    assert np.isnan(track.dense_person[26:, 0]).all()


def _held_at_start(objects: list[DetectedObject]) -> NDArray[np.float64]:
    """The box a still face at x 330..350 belongs to on the shot's first frame."""
    track = _subject(_face_moving(0.0, left=330.0), objects)
    assert track.dense_person is not None
    held: NDArray[np.float64] = track.dense_person[0]
    return held


def test_a_bicycle_under_its_rider_is_part_of_the_subject() -> None:
    rider = DetectedObject(0, Box(300, 10, 100, 250), 0.8, "person")
    bicycle = DetectedObject(0, Box(310, 130, 130, 140), 0.7, "bicycle")
    parked = DetectedObject(0, Box(520, 130, 110, 140), 0.7, "bicycle")

    # The rider and the bicycle under them; the parked one is left out.
    assert np.allclose(_held_at_start([rider, bicycle, parked]), [300, 10, 140, 260])


def test_a_ride_holding_the_face_stands_for_its_rider_where_no_person_is_found() -> None:
    # The detector found the motorcycle but not its rider: the face is in its upper half,
    # and the whole motorcycle is what the viewer sees with it. One parked further on, and
    # one with the face in its lower half (someone behind it, not on it), are left out.
    motorcycle = DetectedObject(0, Box(300, 40, 140, 200), 0.7, "motorcycle")
    parked = DetectedObject(0, Box(520, 40, 100, 200), 0.7, "motorcycle")
    behind = DetectedObject(0, Box(300, 10, 140, 80), 0.7, "motorcycle")

    assert np.allclose(_held_at_start([motorcycle, parked]), [300, 40, 140, 200])
    assert np.isnan(_held_at_start([behind, parked])).all()
    # A person holding the face, where one is found, is the holder (with what it rides).
    rider = DetectedObject(0, Box(310, 20, 100, 180), 0.8, "person")
    assert np.allclose(_held_at_start([motorcycle, rider]), [300, 20, 140, 220])


def _moving_around(
    faces: list[Face], box: Box, frames: range, held: float = 1.0, settled: bool = True
) -> list[Motion]:
    """Motion found on `frames`, `box` moving with the face from where it is at the first."""
    at = {face.frame: face.box for face in faces}
    return [
        Motion(
            frame,
            Box(box.x + at[frame].x - at[frames[0]].x, box.y, box.w, box.h),
            0.05,
            held=held,
            settled=settled,
        )
        for frame in frames
    ]


def test_the_one_thing_moving_around_a_face_holds_it_where_no_person_is_found() -> None:
    # A footballer mid-kick the object detector misses: his face moves right 2 pixels a frame
    # (x 320..340 at frame 10) and all of him (x 250..380 there) with it, seen on two samples.
    faces = _face_moving(2.0)
    him = Box(250, 40, 130, 200)

    track = _subject(faces, [], _moving_around(faces, him, range(10, 14, 2)))

    assert track.dense_person is not None
    # Carried along with the face from the nearest sample, a second either way at most.
    assert np.allclose(track.dense_person[0], [230, 40, 130, 200])
    assert np.allclose(track.dense_person[30], [290, 40, 130, 200])
    assert np.isnan(track.dense_person[40:, 0]).all()


def test_motion_that_is_not_one_thing_holding_the_face_holds_nothing() -> None:
    faces = _face_moving(2.0)
    samples = range(10, 14, 2)
    not_holders = {
        "several things moving": _moving_around(faces, Box(250, 40, 130, 200), samples, held=0.6),
        "not settled where it is": _moving_around(
            faces, Box(250, 40, 130, 200), samples, settled=False
        ),
        "wider than the crop": _moving_around(faces, Box(200, 40, 200, 200), samples),
        "a head, hardly wider than the face": _moving_around(faces, Box(315, 40, 40, 200), samples),
        "beside the face": _moving_around(faces, Box(400, 40, 100, 200), samples),
        "the face in its lower half": _moving_around(faces, Box(250, 0, 130, 80), samples),
        "the face half outside it": _moving_around(faces, Box(250, 70, 130, 200), samples),
    }
    for why, motions in not_holders.items():
        track = _subject(faces, [], motions)
        assert track.dense_person is not None
        assert np.isnan(track.dense_person[:, 0]).all(), why


def test_the_person_a_look_found_is_joined_with_what_moves_around_the_face() -> None:
    # The person box leaves out his boot (x 250..350); what moved reaches it (x 255..380).
    faces = _face_moving(0.0)
    person = DetectedObject(10, Box(250, 30, 100, 220), 0.8, "person")

    track = _subject(faces, [person], _moving_around(faces, Box(255, 40, 125, 200), range(10, 11)))

    assert track.dense_person is not None
    assert np.allclose(track.dense_person[10], [250, 30, 130, 220])


def _still_face_track(person: NDArray[np.float64] | None) -> SubjectTrack:
    """A still face at x 370..390 whose person reaches far to its right (x 360..500)."""
    frames = np.arange(SHOT.end)
    face = np.tile([370.0, 60.0, 20.0, 26.0], (SHOT.end, 1))
    return SubjectTrack(SHOT, "face", frames, face, face, face, face, dense_person=person)


def _inside(box: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (box[0] >= x) & (box[0] + box[2] <= x + WINDOW[0])


def test_the_camera_keeps_the_whole_person_where_it_fits_the_crop() -> None:
    person = np.array([360.0, 20.0, 140.0, 250.0])
    with_person = camera.plan_shot(
        _still_face_track(np.tile(person, (SHOT.end, 1))), SOURCE, WINDOW, FPS
    )
    face_only = camera.plan_shot(_still_face_track(None), SOURCE, WINDOW, FPS)

    assert _inside(person, with_person.x).all()
    assert with_person.mode == "steady"
    # Framing the face alone, the crop centres it and cuts the person's far side.
    assert not _inside(person, face_only.x).any()


def test_a_person_wider_than_the_crop_leaves_the_face_framing_alone() -> None:
    wide = np.tile([250.0, 20.0, 300.0, 250.0], (SHOT.end, 1))
    with_wide = camera.plan_shot(_still_face_track(wide), SOURCE, WINDOW, FPS)
    face_only = camera.plan_shot(_still_face_track(None), SOURCE, WINDOW, FPS)

    assert np.array_equal(with_wide.x, face_only.x)


def test_a_person_a_little_wider_than_the_crop_has_the_crop_inside_them() -> None:
    # A cyclist with the bicycle under them, 155 pixels wide for a 152-pixel crop (x 360..515),
    # the face a little left of their middle: framed on the face alone, the crop would cut off
    # the front wheel.
    frames = np.arange(SHOT.end)
    face = np.tile([415.0, 30.0, 20.0, 26.0], (SHOT.end, 1))
    rider = np.tile([360.0, 20.0, 155.0, 250.0], (SHOT.end, 1))

    def planned(person: NDArray[np.float64] | None) -> camera.ShotPath:
        track = SubjectTrack(SHOT, "face", frames, face, face, face, face, dense_person=person)
        return camera.plan_shot(track, SOURCE, WINDOW, FPS)

    with_rider, face_only = planned(rider), planned(None)

    assert with_rider.mode == "steady"
    assert np.all((with_rider.x >= 360) & (with_rider.x + WINDOW[0] <= 515))
    assert np.all(face_only.x < 360)


def test_a_face_kept_while_its_person_is_cut_counts_as_not_kept() -> None:
    x = np.full(SHOT.end, 300.0)  # the crop: x 300..452, the face 370..390 inside it
    y = np.zeros(SHOT.end)
    cut = np.tile([360.0, 20.0, 140.0, 250.0], (SHOT.end, 1))  # reaches x 500
    whole = np.tile([340.0, 20.0, 100.0, 250.0], (SHOT.end, 1))

    assert quality.retention([_still_face_track(None)], x, y, WINDOW, SOURCE)[0] == 1.0
    assert quality.retention([_still_face_track(cut)], x, y, WINDOW, SOURCE)[0] == 0.0
    assert quality.retention([_still_face_track(whole)], x, y, WINDOW, SOURCE)[0] == 1.0


def test_people_are_looked_for_beside_faces_once_a_second_and_when_a_face_appears() -> None:
    astronaut = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    sampler = ObjectSampler(1.0, fps=10.0, step=1)

    with_faces = [sampler.objects(i, astronaut, faces_found=True) for i in range(25)]
    looked = [i for i, found in enumerate(with_faces) if found]
    # The first sample with a face, then once a second (every 10 samples); people only.
    assert looked == [0, 10, 20]
    assert {o.label for found in with_faces for o in found} == {"person"}

    # Samples without a face are looked at for any object (the usual schedule)...
    sampler.objects(25, astronaut, faces_found=False)
    # ...and a face appearing again is looked at at once, not a second later.
    assert sampler.objects(26, astronaut, faces_found=True)


def test_faces_with_nobody_around_them_are_looked_at_for_people_less_often() -> None:
    """A face alone (a portrait, a face in a photograph): after two looks found nobody, one
    look in four is taken, until somebody is found again."""
    empty = np.full((270, 480, 3), 128, np.uint8)
    astronaut = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    sampler = ObjectSampler(1.0, fps=10.0, step=1)

    assert _looked(sampler, empty, range(0, 60), faces_found=True) == [0, 10, 50]
    # Somebody found: once a second again.
    assert _looked(sampler, astronaut, range(60, 120), faces_found=True) == [90, 100, 110]


def test_a_face_whose_person_was_never_found_is_framed_as_a_face_alone() -> None:
    nobody = np.full((SHOT.end, 4), np.nan)
    for width in (20.0, 100.0, 150.0):
        face = np.tile([300.0, 60.0, width, 1.3 * width], (SHOT.end, 1))
        frames = np.arange(SHOT.end)
        alone = SubjectTrack(SHOT, "face", frames, face, face, face, face)
        unfound = SubjectTrack(SHOT, "face", frames, face, face, face, face, dense_person=nobody)

        planned = camera.plan_shot(unfound, SOURCE, WINDOW, FPS)
        expected = camera.plan_shot(alone, SOURCE, WINDOW, FPS)
        assert np.array_equal(planned.x, expected.x)
        assert np.array_equal(planned.y, expected.y)


def test_looks_without_faces_that_keep_finding_nothing_are_taken_every_other_time() -> None:
    """A shot about a ball or a landscape: after two looks found nothing the shot could be
    about, every other look is taken, until something is found (3 looks a second again)."""
    empty = np.full((270, 480, 3), 128, np.uint8)
    astronaut = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    sampler = ObjectSampler(1.0, fps=9.0, step=1)  # a look every third sample

    assert _looked(sampler, empty, range(0, 18), faces_found=False) == [0, 3, 9, 15]
    # A person arrives: found at the next look taken, then every look is taken again.
    assert _looked(sampler, astronaut, range(18, 30), faces_found=False) == [21, 24, 27]


def _looked(
    sampler: ObjectSampler, picture: NDArray[np.uint8], samples: range, faces_found: bool
) -> list[int]:
    """The samples the object detector looked at, fed `picture` on each."""
    taken = []
    for i in samples:
        before = sampler.detected
        sampler.objects(i, picture, faces_found=faces_found)
        if sampler.detected > before:
            taken.append(i)
    return taken


def test_people_beside_the_face_are_shown_where_they_can_be_but_never_whipped_after() -> None:
    # The speaker stands still; someone beside them is at their right for the first half of
    # the shot and at their left for the second (both fit the crop each time: the framed
    # box). Only the speaker must stay in the crop.
    frames = np.arange(SHOT.end)
    face = np.tile([300.0, 60.0, 20.0, 26.0], (SHOT.end, 1))
    framed = face.copy()
    framed[:25] = [300.0, 60.0, 120.0, 26.0]  # the other at x 400..420
    framed[25:] = [180.0, 60.0, 140.0, 26.0]  # then at x 180..200

    def planned(
        subject: NDArray[np.float64], beside: NDArray[np.float64] | None
    ) -> camera.ShotPath:
        track = SubjectTrack(SHOT, "face", frames, subject, subject, subject, subject,
                             dense_framed=beside)  # fmt: skip
        return camera.plan_shot(track, SOURCE, WINDOW, FPS)

    shown = planned(face, framed)
    whipped = planned(framed, None)  # both kept at any cost

    # The speaker stays in; the camera eases across to show the other again (at most 15
    # pixels a frame) where keeping both at any cost jumps 88 pixels in one frame.
    assert _inside(face[0], shown.x).all()
    assert _inside(framed[0], shown.x[:10]).all()
    assert _inside(framed[-1], shown.x[-10:]).all()
    assert np.abs(np.diff(shown.x)).max() <= 15.0
    assert np.abs(np.diff(whipped.x)).max() > 80.0
