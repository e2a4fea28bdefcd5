"""Finding the moving subject once the camera's own motion is undone, on pictures made here:
a textured subject moving one way while the camera pans the other, a subject on a plain wall
(nothing but the subject can be followed there), a small ball before a still camera, a
ball with a hand moving beside it (the thing followed so far is the one reported; what moved
inside the picture is told from what its edge cuts), and a subject whose back is in the strip
a pan brings into view (it may reach across it)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from batch.reframer.decode import AnalysisFrame
from batch.reframer.motion import MotionDetector, moving_region, where_now

SIZE = (135, 240)


def _texture(seed: int, shape: tuple[int, int], block: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (shape[0] // block + 1, shape[1] // block + 1))
    return np.kron(coarse, np.ones((block, block)))[: shape[0], : shape[1]].astype(np.uint8)


SCENE = _texture(1, (SIZE[0], SIZE[1] * 2), block=6)
# A furry subject: finer, stronger texture than the scene behind it.
SUBJECT = _texture(2, (50, 40), block=2)


def _picture(pan: int, x: int, background: np.ndarray | None = None) -> np.ndarray:
    picture = SCENE[:, pan : pan + SIZE[1]].copy() if background is None else background.copy()
    picture[40:90, x : x + 40] = SUBJECT
    return picture


def test_a_subject_crossing_a_panning_shot_is_found_not_the_background() -> None:
    # The camera pans 4 pixels right (the scene slides left) while the subject moves 5 right.
    found = moving_region(_picture(20, 100), _picture(24, 105))

    assert found is not None
    (x, y, w, h), share = found.box, found.share
    assert 95 <= x <= 110
    assert x + w <= 150
    assert y >= 35
    assert y + h <= 95
    assert share < 0.15


def test_on_a_plain_wall_the_subject_moves_and_the_camera_stays() -> None:
    wall = np.full(SIZE, 120, np.uint8)

    found = moving_region(_picture(0, 60, wall), _picture(0, 66, wall))

    assert found is not None
    x, _y, w, _h = found.box
    assert 55 <= x <= 70
    assert 35 <= w <= 55


def test_a_still_picture_has_no_moving_subject() -> None:
    assert moving_region(_picture(10, 100), _picture(10, 100)) is None


def _detected(pictures: list[np.ndarray]) -> MotionDetector:
    """A detector fed `pictures` as the samples of a 30 fps clip, a lag apart."""
    detector = MotionDetector(30.0, 3, 1.0)
    for number, picture in enumerate(pictures):
        bgr = cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR)
        detector.add(AnalysisFrame(3 * number, number / 10, picture, picture, picture, bgr))
    detector.finish()
    return detector


def test_a_subject_in_the_strip_a_pan_brings_into_view_may_reach_across_it() -> None:
    # The scene slides 10 pixels left a lag; the subject's back is in the strip at the right
    # the picture a lag before did not show, so its motion there is not seen (measured on a
    # generated clip: a motorcycle seen moving on 283-368 of its 379 pixels).
    panning = _detected([_picture(10 * k, 195 - 2 * k) for k in range(5)])

    assert panning.motions
    for motion in panning.motions:
        assert motion.box.right < 230
        assert motion.reach is not None
        assert motion.reach.x == pytest.approx(motion.box.x)
        assert motion.reach.right == pytest.approx(SIZE[1])

    # Before a still camera the whole picture is seen: the box is all there is.
    still = _detected([_picture(0, 195 - 2 * k) for k in range(5)])

    assert still.motions
    assert all(motion.reach is None for motion in still.motions)


def test_a_fast_subject_is_where_it_is_now_not_also_where_it_only_was() -> None:
    # Compared with the picture a lag before, a subject moving 25 pixels a lag lights up both
    # its places (65 pixels for a 40-pixel subject) and the box trails it by half the move
    # (measured on a motorcycle crossing a photograph: 60-80 pixels behind, and the crop kept
    # 5% of its frames while the job claimed 98%). The picture a lag later tells them apart.
    before, now, later = _picture(20, 75), _picture(20, 100), _picture(20, 125)

    found = moving_region(before, now)

    assert found is not None
    assert found.box[0] <= 80  # where it was, too
    settled = where_now(found.pixels, now, later)
    assert settled is not None
    x, _y, w, _h = settled
    assert 96 <= x <= 104
    assert 34 <= w <= 44


def test_across_a_cut_the_picture_after_leaves_what_moved_as_it_was() -> None:
    before, now = _picture(20, 75), _picture(20, 100)
    other_scene = np.ascontiguousarray(255 - SCENE[:, 200 : 200 + SIZE[1]])

    found = moving_region(before, now)

    assert found is not None
    settled = where_now(found.pixels, now, other_scene)

    # None (the pictures share too little to compare) leaves the box as found, too.
    assert settled is None or np.allclose(settled, found.box, atol=1.0)


def _still_photo_with_ball(
    x: int, rng: np.random.Generator, y: int = 120, radius: int = 5
) -> np.ndarray:
    """A photograph with sharp edges seen by a camera on a tripod, a small bright ball at `x`,
    and sensor noise of its own in every picture, blurred as the detector blurs every picture
    before comparing (motion._prepared)."""
    picture = cv2.resize(data.camera(), (240, 192), interpolation=cv2.INTER_AREA)
    picture = picture.astype(np.float32)
    cv2.circle(picture, (x, y), radius, 250.0, -1)
    noisy = np.clip(picture + rng.normal(0.0, 4.0, picture.shape), 0, 255).astype(np.float32)
    return np.asarray(cv2.GaussianBlur(noisy, (5, 5), 1.0), dtype=np.uint8)


def test_a_small_ball_in_front_of_a_still_camera_is_what_moves_not_the_noise() -> None:
    # The grid's flow on a still camera can agree on a fraction of a pixel of noise; undoing
    # that "motion" resamples the picture and turns its sharp edges into motion (measured on
    # real footage, a ball rolling across a board: the moving region was the whole picture).
    rng = np.random.default_rng(0)
    for step in range(12):
        ball = 60 + 4 * step
        found = moving_region(
            _still_photo_with_ball(ball, rng), _still_photo_with_ball(ball + 4, rng)
        )

        assert found is not None
        x, y, w, h = found.box
        assert ball - 8 <= x <= ball
        assert 110 <= y <= 120
        assert w <= 20
        assert h <= 20


def _panned_photograph(pan: float) -> np.ndarray:
    """A blurred photograph seen by a camera panned `pan` pixels right, a fraction of a pixel
    as a handheld camera drifts: cut from a wider view, so its edge shows the scene too."""
    wide = cv2.resize(data.camera(), (480, 270), interpolation=cv2.INTER_AREA)
    wide = cv2.GaussianBlur(wide, (0, 0), 1.5).astype(np.float32)
    shift = np.float32([[1, 0, -pan], [0, 1, 0]])
    panned = cv2.warpAffine(wide, shift, (480, 270), flags=cv2.INTER_LINEAR)
    return np.round(panned[67:202, 120:360]).astype(np.uint8)


def test_a_camera_drifting_a_fraction_of_a_pixel_moves_nothing_at_the_picture_s_edge() -> None:
    # Aligning the earlier picture interpolates its edge column partly from outside it; taken
    # as seen, that column differs and "moved" (measured on real footage, a ball rolling before
    # a handheld camera: the ball's box swept to the picture's edge, and the job claimed 0.85
    # of the frames kept where the crop kept them all).
    still = _panned_photograph(0.0)
    for pan in (0.55, 0.6, 0.7, 0.8):
        assert moving_region(still, _panned_photograph(pan)) is None


def _ball_and_arm(ball: int, arm: int, rng: np.random.Generator) -> np.ndarray:
    """The still photograph with a small ball rolling on the right and a broad pale arm on
    the left, each moving by itself (the hand tilting the board the ball rolls on)."""
    picture = cv2.resize(data.camera(), (240, 192), interpolation=cv2.INTER_AREA)
    picture = picture.astype(np.float32)
    cv2.circle(picture, (ball, 60), 7, 250.0, -1)
    cv2.line(picture, (arm, 191), (arm + 12, 150), 235.0, 10)
    noisy = np.clip(picture + rng.normal(0.0, 4.0, picture.shape), 0, 255).astype(np.float32)
    return np.asarray(cv2.GaussianBlur(noisy, (5, 5), 1.0), dtype=np.uint8)


def test_where_two_things_move_the_one_followed_so_far_is_the_subject_not_a_box_over_both() -> None:
    # Measured on real footage (a ball rolling before a hand that tilts its board): one extent
    # over every changed pixel spanned hand and ball, far wider than the crop, and the crop
    # followed neither.
    rng = np.random.default_rng(1)
    before, after = _ball_and_arm(180, 20, rng), _ball_and_arm(184, 21, rng)

    largest = moving_region(before, after)
    followed = moving_region(before, after, last=(170.0, 50.0, 16.0, 16.0))

    assert largest is not None
    assert followed is not None
    x, _y, w, _h = largest.box
    assert x + w <= 60  # the arm, the larger thing moving, when nothing was followed before
    x, y, w, h = followed.box
    assert 168 <= x <= 182
    assert w <= 26
    assert 46 <= y <= 58
    assert h <= 26


def test_what_moves_inside_the_picture_is_told_from_what_its_edge_cuts() -> None:
    # Measured on real footage (a ball thrown across a classroom beside the thrower, whose arm
    # and body the picture's edge cuts): the crop following where everything moved kept the
    # ball on 61% of the frames framed 9:16; following what moved inside the picture, 99.6%.
    rng = np.random.default_rng(1)
    both = moving_region(_ball_and_arm(180, 20, rng), _ball_and_arm(184, 21, rng))
    arm_only = moving_region(_ball_and_arm(180, 20, rng), _ball_and_arm(180, 21, rng))

    assert both is not None
    assert both.inside is not None
    x, y, w, h = both.inside
    assert x >= 170
    assert x + w <= 196
    assert y >= 46
    assert y + h <= 76
    assert both.spread[0] <= 30  # everything that moved reaches the arm
    assert arm_only is not None
    assert arm_only.inside is None


def test_an_outline_flickering_beside_what_moves_inside_is_left_out_of_it() -> None:
    # The outline of a thrower standing just off the picture's edge flickers, a line a pixel
    # or two thick; measured on real footage, counting it made what moved inside span from it
    # to the ball, too wide for the crop, or outweigh the ball where the ball itself was cut.
    rng = np.random.default_rng(1)
    before, after = _ball_and_arm(180, 20, rng), _ball_and_arm(184, 21, rng)
    flicker = after.astype(np.int16)
    flicker[20:130, 12:14] += 50
    after = np.clip(flicker, 0, 255).astype(np.uint8)

    found = moving_region(before, after)

    assert found is not None
    assert found.spread[0] <= 30
    assert found.inside is not None
    assert found.inside[0] >= 170


def _ball_passing(heights: tuple[int, int, int], rng: np.random.Generator) -> list[np.ndarray]:
    """Three pictures of the still photograph with a ball moving 12 pixels right each time,
    at these heights (the picture is 192 high)."""
    return [_still_photo_with_ball(150 + 12 * i, rng, y=y, radius=7) for i, y in enumerate(heights)]


def test_a_ball_back_inside_after_bouncing_off_the_edge_is_not_cut_by_it() -> None:
    # Measured on real footage (a thrown ball bouncing off the picture's bottom edge): the
    # pixels it left at the edge and the ball itself made one thing, counted as cut by the
    # edge, and the crop let the ball roll out of it (0.890 of the frames kept; 0.993 once
    # where it only was is told from where it is, and motion measured where the thrower's
    # face showed).
    earlier, previous, current = _ball_passing((170, 189, 174), np.random.default_rng(2))

    without_earlier = moving_region(previous, current)
    found = moving_region(previous, current, earlier=earlier)

    assert without_earlier is not None
    assert without_earlier.inside is None
    assert found is not None
    assert found.inside is not None
    x, y, w, _h = found.inside
    assert x >= 150
    assert x + w <= 186
    assert y >= 160


def test_a_ball_going_out_over_the_edge_is_cut_by_it() -> None:
    earlier, previous, current = _ball_passing((160, 174, 189), np.random.default_rng(2))

    found = moving_region(previous, current, earlier=earlier)

    assert found is not None
    assert found.inside is None
