"""A face's detections jumping further than a face moves between two samples witness a cut
(face_jumps.py); moving fast, being followed rather than detected, or sharing the picture
with another face does not."""

from __future__ import annotations

from batch.reframer.face_jumps import face_jumps
from batch.reframer.faces import Face
from batch.reframer.geometry import Box

FPS = 30.0


def _face(frame: int, left: float, width: float = 60.0, followed: bool = False) -> Face:
    return Face(frame, Box(left, 200, width, 1.2 * width), 0.9, 0 if followed else None)


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


def test_followed_faces_two_faces_and_samples_far_apart_witness_nothing() -> None:
    assert face_jumps([_face(0, 100), _face(3, 600, followed=True)], FPS) == []
    assert face_jumps([_face(0, 100), _face(0, 800), _face(3, 600)], FPS) == []
    assert face_jumps([_face(0, 100), _face(9, 600)], FPS) == []
