"""The sampling rate follows the subject's motion: an optional sample (every other one) is
passed over only while the shot is calm (the same faces, or what changes in the picture,
moving less than a fifth of their size between samples, and no cut); everything else is
looked at 10 times a second."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from batch.reframer.faces import Face
from batch.reframer.geometry import Box
from batch.reframer.sample_rate import SampleRate

STEP = 3
WIDTH = 1920
# A textured thumbnail (200x112), as the decoder strides out of a 1080p frame.
_TEXTURE = np.random.default_rng(7).integers(40, 200, (112, 200)).astype(np.uint8)


def _face(frame: int, x: float, size: float = 200.0) -> Face:
    return Face(frame, Box(x, 300.0, size, size), 0.9)


def _thumbnail(square_at: int | None = None, square: int = 20) -> NDArray[np.uint8]:
    """The textured thumbnail, with a flat square at `square_at` (x) when given."""
    picture = _TEXTURE.copy()
    if square_at is not None:
        picture[40 : 40 + square, square_at : square_at + square] = 255
    return picture


def _after_two_samples(
    first: list[Face], second: list[Face], thumbnails: tuple[NDArray[np.uint8], NDArray[np.uint8]]
) -> SampleRate:
    rate = SampleRate(STEP, WIDTH)
    rate.note(0, first, thumbnails[0])
    rate.note(2 * STEP, second, thumbnails[1])
    return rate


def test_a_face_moving_slowly_is_looked_at_every_other_sample() -> None:
    # 20 px per candidate interval: a tenth of the face's size, crossing the frame in 10 s.
    rate = _after_two_samples([_face(0, 500)], [_face(6, 540)], (_thumbnail(), _thumbnail()))

    assert not rate.take(_thumbnail())
    assert rate.passed == 1


def test_a_face_moving_fast_is_looked_at_on_every_sample() -> None:
    # 100 px per candidate interval: half the face's size.
    rate = _after_two_samples([_face(0, 500)], [_face(6, 700)], (_thumbnail(), _thumbnail()))

    assert rate.take(_thumbnail())
    assert rate.passed == 0


def test_a_small_face_is_calm_only_if_it_moves_little_for_its_size() -> None:
    # The same 20 px per interval is a third of a 60-pixel face.
    rate = _after_two_samples(
        [_face(0, 500, size=60)], [_face(6, 540, size=60)], (_thumbnail(), _thumbnail())
    )

    assert rate.take(_thumbnail())


def test_a_calm_face_after_a_cut_is_looked_at() -> None:
    rate = _after_two_samples([_face(0, 500)], [_face(6, 500)], (_thumbnail(), _thumbnail()))
    another_scene = np.ascontiguousarray(_TEXTURE[::-1, ::-1])

    assert rate.take(another_scene)


def test_a_face_arriving_or_leaving_is_looked_at() -> None:
    still = (_thumbnail(), _thumbnail())

    assert _after_two_samples([_face(0, 500)], [_face(6, 500), _face(6, 1200)], still).take(
        _thumbnail()
    )
    assert _after_two_samples([_face(0, 500)], [], still).take(_thumbnail())


def test_the_first_samples_of_a_video_are_all_looked_at() -> None:
    rate = SampleRate(STEP, WIDTH)
    assert rate.take(_thumbnail())
    rate.note(0, [_face(0, 500)], _thumbnail())
    assert rate.take(_thumbnail())


def test_without_faces_a_still_picture_is_looked_at_every_other_sample() -> None:
    rate = SampleRate(STEP, WIDTH)
    for frame in (0, 6, 12):
        rate.note(frame, [], _thumbnail())

    assert not rate.take(_thumbnail())


def test_without_faces_something_moving_slowly_is_calm_and_something_fast_is_not() -> None:
    slow = SampleRate(STEP, WIDTH)
    fast = SampleRate(STEP, WIDTH)
    for i, frame in enumerate((0, 6, 12)):
        # A 20-pixel square: 2 thumbnail pixels per candidate interval, or 12.
        slow.note(frame, [], _thumbnail(square_at=50 + 4 * i))
        fast.note(frame, [], _thumbnail(square_at=20 + 24 * i))

    assert not slow.take(_thumbnail(square_at=60))
    assert fast.take(_thumbnail(square_at=80))


def test_without_faces_something_starting_to_move_is_looked_at() -> None:
    rate = SampleRate(STEP, WIDTH)
    for frame, at in ((0, 50), (6, 50), (12, 54)):
        rate.note(frame, [], _thumbnail(square_at=at))

    assert rate.take(_thumbnail(square_at=56))
