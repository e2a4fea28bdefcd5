"""Face boxes moved across to the middle of the head (batch/reframer/head_centre.py), with the
face mesh model the package ships, on pictures scikit-image ships."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from batch.reframer.faces import Face, detect_faces
from batch.reframer.geometry import Box
from batch.reframer.head_centre import MAX_SHIFT_SHARE, NOISE_SHARE, centred_on_heads, head_middle


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, :, ::-1])


ASTRONAUT = _bgr(data.astronaut())


@pytest.fixture(scope="module")
def detected() -> Box:
    (face,) = detect_faces(0, ASTRONAUT, 1.0)
    return face.box


def _moved(box: Box, share: float) -> Box:
    return Box(box.x + share * box.w, box.y, box.w, box.h)


def test_the_head_s_middle_does_not_follow_where_the_box_was_put(detected: Box) -> None:
    middles = [head_middle(ASTRONAUT, _moved(detected, s)) for s in (-0.1, 0.0, 0.1)]

    assert all(m is not None for m in middles)
    assert max(middles) - min(middles) <= 0.02 * detected.w  # type: ignore[operator, type-var]


@pytest.mark.parametrize("share", [-0.1, 0.1])
def test_a_box_off_the_head_s_middle_is_moved_back_to_it(detected: Box, share: float) -> None:
    middle = head_middle(ASTRONAUT, detected)
    assert middle is not None
    off = _moved(detected, share)

    (centred,) = centred_on_heads(ASTRONAUT, [Face(0, off, 0.9)], 1.0)

    # Back to the middle, short of it by what is taken for the mesh's noise, and as far as the
    # mesh's reading wanders with where the box was put (the first test).
    assert abs(centred.box.cx - middle) <= (NOISE_SHARE + 0.02) * detected.w
    assert (centred.box.y, centred.box.w, centred.box.h) == (off.y, off.w, off.h)


def test_boxes_are_in_source_pixels_of_a_picture_analysed_smaller(detected: Box) -> None:
    half = np.asarray(cv2.resize(ASTRONAUT, (256, 256), interpolation=cv2.INTER_AREA), np.uint8)
    middle = head_middle(ASTRONAUT, detected)
    assert middle is not None

    (centred,) = centred_on_heads(half, [Face(0, _moved(detected, 0.1), 0.9)], 2.0)

    assert abs(centred.box.cx - middle) <= (NOISE_SHARE + 0.02) * detected.w


def test_a_box_already_at_the_head_s_middle_stays_where_it_is(detected: Box) -> None:
    middle = head_middle(ASTRONAUT, detected)
    assert middle is not None
    at_middle = Box(middle - detected.w / 2, detected.y, detected.w, detected.h)

    (centred,) = centred_on_heads(ASTRONAUT, [Face(0, at_middle, 0.9)], 1.0)

    assert centred.box == at_middle


def test_a_box_is_moved_at_most_its_share_of_its_width(detected: Box) -> None:
    # The box half its width beside the face: the mesh still finds the face in its square.
    off = _moved(detected, 0.4)

    (centred,) = centred_on_heads(ASTRONAUT, [Face(0, off, 0.9)], 1.0)

    assert off.cx - centred.box.cx == pytest.approx(MAX_SHIFT_SHARE * off.w, abs=0.01)


@pytest.mark.parametrize(
    ("picture", "box"),
    [(data.coffee(), Box(200, 100, 120, 120)), (data.chelsea(), Box(150, 50, 150, 150))],
    ids=["a cup of coffee", "a cat's face"],
)
def test_where_the_mesh_sees_no_face_the_box_stays(picture: np.ndarray, box: Box) -> None:
    bgr = _bgr(picture)

    assert head_middle(bgr, box) is None
    assert centred_on_heads(bgr, [Face(3, box, 0.8)], 1.0) == [Face(3, box, 0.8)]
