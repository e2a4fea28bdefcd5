"""Following a subject between detections (median flow), on pictures made here: a textured
patch moved by known amounts."""

from __future__ import annotations

import numpy as np
import pytest

from batch.reframer.follow import Follower, median_flow
from batch.reframer.geometry import Box

SIZE = (240, 320)
PATCH = 48


def _texture(seed: int, shape: tuple[int, int]) -> np.ndarray:
    """Smooth random texture: noise blurred by block averaging, so flow has gradients."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (shape[0] // 4 + 1, shape[1] // 4 + 1)).astype(np.float64)
    fine = np.kron(coarse, np.ones((4, 4)))[: shape[0], : shape[1]]
    return fine.astype(np.uint8)


BACKGROUND = (_texture(1, SIZE) // 3 + 60).astype(np.uint8)
SUBJECT = _texture(2, (PATCH, PATCH))


def _picture(x: int, y: int) -> np.ndarray:
    picture = BACKGROUND.copy()
    visible = picture[y : y + PATCH, x : x + PATCH]
    visible[:] = SUBJECT[: visible.shape[0], : visible.shape[1]]
    return picture


def test_a_box_moves_with_its_subject() -> None:
    box = median_flow(_picture(100, 80), _picture(112, 74), Box(100, 80, PATCH, PATCH))

    assert box is not None
    assert box.x == pytest.approx(112, abs=1.0)
    assert box.y == pytest.approx(74, abs=1.0)
    assert box.w == pytest.approx(PATCH, rel=0.05)


def test_a_subject_coming_in_over_the_edge_grows_from_the_edge_it_still_touches() -> None:
    # A subject twice the patch's width drives in from the left: its visible part grows and
    # its far side stays cut by the picture's edge.
    wide = np.hstack((SUBJECT, _texture(4, (PATCH, PATCH))))

    def entering(visible: int) -> np.ndarray:
        picture = BACKGROUND.copy()
        picture[80 : 80 + PATCH, :visible] = wide[:, wide.shape[1] - visible :]
        return picture

    box = median_flow(entering(50), entering(70), Box(0, 80, 50, PATCH))

    assert box is not None
    assert box.x == 0
    assert box.right == pytest.approx(70, abs=1.5)


def test_a_subject_just_inside_the_edge_moving_away_keeps_its_own_box() -> None:
    # Found two pixels in from the left edge (within the edge's reach), it drives off to the
    # right: the picture at the edge beside it does not change, so nothing of it is beyond.
    box = median_flow(_picture(2, 80), _picture(12, 80), Box(2, 80, PATCH, PATCH))

    assert box is not None
    assert box.x == pytest.approx(12, abs=1.0)
    assert box.w == pytest.approx(PATCH, rel=0.05)


def test_a_box_is_not_followed_into_another_scene() -> None:
    other = _texture(3, SIZE)

    assert median_flow(_picture(100, 80), other, Box(100, 80, PATCH, PATCH)) is None


def test_a_box_leaving_the_picture_is_dropped() -> None:
    # The subject slides out on the right: most of the box would be outside the picture.
    assert median_flow(_picture(260, 80), _picture(300, 80), Box(260, 80, PATCH, PATCH)) is None


def test_the_follower_carries_a_missed_subject_for_a_while_then_lets_go() -> None:
    follower = Follower(max_frames=9, back_frames=0)
    found = follower.update(0, _picture(60, 100), [(Box(60, 100, PATCH, PATCH), 0.9)])
    assert found == []

    positions = {3: 80, 6: 100, 9: 120, 12: 140}
    followed = {f: follower.update(f, _picture(x, 100), []) for f, x in positions.items()}

    for frame in (3, 6, 9):
        (item,) = followed[frame]
        assert item.frame == frame
        assert item.detected_at == 0
        assert item.confidence == 0.9
        assert item.box.x == pytest.approx(positions[frame], abs=1.5)
    # Twelve frames after the last detection is past `max_frames`, and the box has moved
    # more than its width from its detection: not guessed.
    assert followed[12] == []


def test_a_missed_subject_that_stays_in_place_is_followed_until_it_moves_away() -> None:
    follower = Follower(max_frames=9, back_frames=0)
    follower.update(0, _picture(60, 100), [(Box(60, 100, PATCH, PATCH), 0.9)])

    # Still for a long while (a face the detector stopped recognising), then walking off.
    positions = {f: 60 + (f % 2) for f in range(3, 60, 3)} | {60: 90, 63: 120, 66: 140}
    followed = {f: follower.update(f, _picture(x, 100), []) for f, x in positions.items()}

    for frame in range(3, 64, 3):
        (item,) = followed[frame]
        assert item.detected_at == 0
        assert item.box.x == pytest.approx(positions[frame], abs=1.5)
    # At 63 it is followed to 120, more than its width from where it was detected.
    assert followed[66] == []


def test_a_detected_subject_is_not_reported_twice_and_is_followed_from_its_new_box() -> None:
    follower = Follower(max_frames=30, back_frames=0)
    follower.update(0, _picture(60, 100), [(Box(60, 100, PATCH, PATCH), 0.9)])

    assert follower.update(3, _picture(70, 100), [(Box(70, 100, PATCH, PATCH), 0.8)]) == []
    (item,) = follower.update(6, _picture(80, 100), [])
    assert item.detected_at == 3
    assert item.confidence == 0.8


def test_a_subject_found_late_is_followed_back_to_where_it_was_before() -> None:
    follower = Follower(max_frames=30, back_frames=9)
    for frame, x in ((0, 40), (3, 55), (6, 70)):
        assert follower.update(frame, _picture(x, 90), []) == []

    earlier = follower.update(9, _picture(85, 90), [(Box(85, 90, PATCH, PATCH), 0.9)])

    assert [item.frame for item in earlier] == [6, 3, 0]
    assert all(item.detected_at == 9 for item in earlier)
    for item, x in zip(earlier, (70, 55, 40), strict=True):
        assert item.box.x == pytest.approx(x, abs=1.5)


def test_a_subject_detected_again_where_it_was_costs_no_flow_and_a_missed_one_does() -> None:
    follower = Follower(max_frames=30, back_frames=0)
    follower.update(0, _picture(60, 100), [(Box(60, 100, PATCH, PATCH), 0.9)])

    again = follower.update(3, _picture(64, 100), [(Box(64, 100, PATCH, PATCH), 0.9)])
    assert again == []
    assert follower.flows == 0

    (missed,) = follower.update(6, _picture(70, 100), [])
    assert follower.flows == 1
    assert missed.detected_at == 3
    assert missed.box.x == pytest.approx(70, abs=1.5)
