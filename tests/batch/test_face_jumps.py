"""A face's detections jumping further than a face moves between two samples witness a cut
(face_jumps.py), as does a face flow carried to the sample before one detected far from it,
or carried back to the sample after one from a later detection; moving fast, being followed
on from before the jump, or sharing the picture with another face does not. So does a face
landing far from where its speed was carrying it; swinging does not. Faces gone from
one sample to the next witness one too, unless they were at the picture's edge or the
samples are far apart. Faces found again where they were, at their size, say that the
picture around them did not cut."""

from __future__ import annotations

import math

from batch.reframer.face_jumps import face_jumps, face_stays, face_vanishings
from batch.reframer.faces import Face
from batch.reframer.geometry import Box

FPS = 30.0


def _face(
    frame: int, left: float, width: float = 60.0, followed: bool = False, from_: int = 0
) -> Face:
    return Face(frame, Box(left, 200, width, 1.2 * width), 0.9, from_ if followed else None)


def test_a_face_that_lands_three_widths_away_between_two_samples_is_a_jump() -> None:
    faces = [_face(0, 100), _face(3, 130), _face(6, 160), _face(9, 520), _face(12, 550)]

    assert face_jumps(faces, FPS) == [(6, 9)]


def test_a_face_crossing_fast_is_no_jump() -> None:
    # 1.5 widths a sample (a 60-pixel face crossing 1280 pixels in under a second).
    assert face_jumps([_face(3 * i, 90.0 * i) for i in range(12)], FPS) == []


def test_a_new_face_a_larger_one_away_is_measured_by_the_larger() -> None:
    # 200 pixels between centres: over two 60-pixel widths, under two 120-pixel ones.
    small, large = _face(0, 100), Face(3, Box(270, 170, 120, 144), 0.9)
    assert face_jumps([small, _face(3, 300)], FPS) == [(0, 3)]
    assert face_jumps([small, large], FPS) == []


def test_samples_a_calm_shot_takes_further_apart_ask_for_a_longer_jump() -> None:
    # 0.2 s apart (a calm shot sampled half as often): a face could cover three widths then.
    assert face_jumps([_face(0, 100), _face(6, 280)], FPS) == []
    assert face_jumps([_face(0, 100), _face(6, 340)], FPS) == [(0, 6)]


def test_a_face_flow_carried_to_the_sample_before_one_detected_far_away_is_a_jump() -> None:
    # The detector missed the face on its last samples (flow carried it); after the cut a
    # face is detected eight widths away.
    faces = [_face(0, 100), _face(3, 130, followed=True), _face(6, 160, followed=True)]

    assert face_jumps([*faces, _face(9, 640)], FPS) == [(6, 9)]
    assert face_jumps([*faces, _face(9, 190)], FPS) == []


def test_a_face_flow_carried_back_to_the_sample_after_one_detected_far_away_is_a_jump() -> None:
    # After the cut a small face is found only by the larger look, a second in, and carried
    # back to the cut by flow: the sample after it holds that face, eight widths away.
    before = [_face(0, 100), _face(3, 130)]
    after = [_face(frame, 640, followed=True, from_=30) for frame in (6, 9, 12)]

    assert face_jumps([*before, *after, _face(30, 640)], FPS) == [(3, 6)]


def test_a_face_landing_far_from_where_it_was_heading_swerved_and_is_a_jump() -> None:
    # Crossing to the left, 33 pixels a sample; after the cut another face, a width and a
    # half to the right of the last: under two widths from where the face was, over 1.75
    # from where it was heading. The new face then stands still: no swerve of its own.
    crossing = [_face(3 * i, 436 - 33 * i, width=64) for i in range(4)]
    after = [_face(12, 435, width=64), _face(15, 435, width=64)]

    assert face_jumps([*crossing, *after], FPS) == [(9, 12)]


def test_a_face_swinging_back_and_forth_or_jumping_once_does_not_swerve() -> None:
    # A full swing over 600 pixels every two seconds, looked at ten times a second.
    swinging = [_face(3 * i, 600 + 300 * math.sin(math.pi * i / 10)) for i in range(40)]
    assert face_jumps(swinging, FPS) == []
    # After a jump, the jump is no speed for the next sample to be judged by.
    jumping_once = [_face(0, 100), _face(3, 100), _face(6, 400), _face(9, 400)]
    assert face_jumps(jumping_once, FPS) == [(3, 6)]


def test_followed_faces_two_faces_and_samples_far_apart_witness_nothing() -> None:
    assert face_jumps([_face(0, 100), _face(3, 600, followed=True)], FPS) == []
    assert face_jumps([_face(0, 100), _face(0, 800), _face(3, 600)], FPS) == []
    assert face_jumps([_face(0, 100), _face(9, 600)], FPS) == []


PICTURE = (1280, 720)


def test_faces_gone_on_the_next_sample_inside_the_picture_are_a_vanishing() -> None:
    sampled = [0, 3, 6, 9, 12]
    # Detected, then followed by flow, then neither: the picture is another.
    faces = [_face(0, 400), _face(3, 420), _face(6, 440, followed=True)]

    assert face_vanishings(faces, sampled, FPS, PICTURE) == [(6, 9)]


def test_a_face_walking_out_of_the_picture_is_no_vanishing() -> None:
    sampled = [0, 3, 6, 9]
    # 20 pixels from the left edge: under half of its 60-pixel width.
    faces = [_face(0, 80), _face(3, 50), _face(6, 20)]

    assert face_vanishings(faces, sampled, FPS, PICTURE) == []


def test_faces_found_again_or_samples_far_apart_witness_no_vanishing() -> None:
    faces = [_face(0, 400), _face(3, 420, followed=True), _face(9, 460)]

    # Every sample has a face.
    assert face_vanishings(faces, [0, 3, 9], FPS, PICTURE) == []
    # The sample after the last face is 0.2 s later (samples passed over while calm).
    assert face_vanishings(faces[:2], [0, 3, 9], FPS, PICTURE) == []


def test_faces_found_again_where_they_were_at_their_size_stayed() -> None:
    # A portrait stopping and going again: 0.3 of its width between samples, then still.
    faces = [_face(0, 100), _face(3, 100), _face(6, 118), _face(9, 136)]
    two = [_face(0, 100), _face(0, 400), _face(3, 110), _face(3, 405)]

    assert face_stays(faces, FPS) == [(0, 3), (3, 6), (6, 9)]
    assert face_stays(two, FPS) == [(0, 3)]


def test_faces_that_moved_grew_were_followed_or_changed_in_number_did_not_stay() -> None:
    moved = [_face(0, 100), _face(3, 140)]  # two thirds of a width
    grew = [_face(0, 100), _face(3, 90, width=80)]
    followed = [_face(0, 100), _face(3, 100, followed=True)]
    joined = [_face(0, 100), _face(3, 100), _face(3, 400)]
    far_apart = [_face(0, 100), _face(9, 100)]  # 0.3 s: a cut may lie between

    for faces in (moved, grew, followed, joined, far_apart):
        assert face_stays(faces, FPS) == []
