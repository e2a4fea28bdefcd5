"""Which face track is a shot's subject (tracking.subject_of_shot): a moving face counts the
samples it was detected on, and those optical flow carried it over only where a later
detection found it where flow had taken it; a still face only the larger look finds gives way
to one thing moving elsewhere; a face that never moves gives way to one that does; a face
carried back from its first detection is linked to it however far it moved."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from batch.reframer.faces import Face
from batch.reframer.geometry import Box
from batch.reframer.motion import Motion
from batch.reframer.shots import Shot
from batch.reframer.tracking import subject_of_shot

FPS = 30.0
STEP = 3
SHOT = Shot(0, 90)
WINDOW = (404, 720)
# Found only by the once-a-second larger look (a face this small at the usual size is not).
DETECTED = (0, 30, 60)
SPEED = -13.0


def _walker_x(frame: int) -> float:
    """A face 60 pixels wide crossing a 1280-pixel picture leftwards, then standing."""
    return max(130.0, 700.0 + SPEED * frame)


def _walker(drift: float = 0.0) -> list[Face]:
    """The crossing face: detected on DETECTED, carried by flow on the samples between (off
    by `drift` pixels a frame when flow slips)."""
    faces = []
    for frame in range(0, SHOT.end, STEP):
        found = max(d for d in DETECTED if d <= frame)
        if frame == found:
            faces.append(Face(frame, Box(_walker_x(frame), 250, 60, 75), 0.9))
        else:
            x = _walker_x(frame) + drift * (frame - found)
            faces.append(Face(frame, Box(x, 250, 60, 75), 0.45, detected_at=found))
    return faces


def _face_in_the_photograph() -> list[Face]:
    """A face in the still photograph behind, found on the same looks, carried between."""
    return [
        Face(frame, Box(513, 325, 48, 59), 0.78 if frame in DETECTED else 0.39,
             None if frame in DETECTED else max(d for d in DETECTED if d <= frame))
        for frame in range(0, SHOT.end, STEP)
    ]  # fmt: skip


def test_a_moving_face_found_once_a_second_and_followed_between_is_the_subject() -> None:
    track = subject_of_shot(SHOT, _walker() + _face_in_the_photograph(), [], WINDOW, FPS, STEP)

    assert track.kind == "face"
    for frame in (15, 45, 75):
        assert abs(track.dense_raw[frame, 0] - _walker_x(frame)) < 1.0


def test_followed_boxes_a_later_detection_does_not_confirm_do_not_count() -> None:
    # Flow slipped 3 pixels a frame: by the next look it had taken the box further from where
    # the face was found than the face's size (linked all the same: near its heading). Three
    # looks of a moving face are not a second of samples; the still face is the subject.
    faces = _walker(drift=3.0) + _face_in_the_photograph()

    track = subject_of_shot(SHOT, faces, [], WINDOW, FPS, STEP)

    assert np.allclose(track.dense_raw[45, :2], [513, 325])


def _ball_rolling() -> list[Motion]:
    """A ball rolling below the photograph's face, the one thing moving (every sample)."""
    return [Motion(frame, Box(150 + 3 * frame, 500, 80, 80), 0.01) for frame in range(3, 90, 3)]


@pytest.mark.parametrize("larger_only", [True, False])
def test_a_still_face_only_the_larger_look_finds_gives_way_to_a_thing_moving_elsewhere(
    larger_only: bool,
) -> None:
    # A pattern of the hubble photograph the larger look takes for a face (0.78-0.83, found
    # again at other sizes), standing still while a ball rolls across: it was the subject and
    # the crop held still on it (0.517 of the frames kept). A face the usual look finds is
    # sure enough to stay the subject.
    face = [replace(f, larger_only=larger_only and f.detected_at is None)
            for f in _face_in_the_photograph()]  # fmt: skip

    track = subject_of_shot(SHOT, face, _ball_rolling(), WINDOW, FPS, STEP)

    assert track.kind == ("motion" if larger_only else "face")


def test_a_face_that_never_moves_gives_way_to_a_face_that_does() -> None:
    # A pattern in a photograph of stars the usual look takes for a face: larger and surer
    # (0.82 on every sample) than the cameraman's face, which stops and goes. It never moves
    # a pixel: a picture in the picture, not what the shot is about. Alone, it still is.
    pattern = [Face(frame, Box(511, 321, 52, 64), 0.82) for frame in range(0, SHOT.end, STEP)]
    cameraman = [
        Face(frame, Box(1080 + (frame // 30) * 10, 190, 45, 56), 0.6)
        for frame in range(0, SHOT.end, STEP)
    ]

    both = subject_of_shot(SHOT, pattern + cameraman, [], WINDOW, FPS, STEP)
    alone = subject_of_shot(SHOT, pattern, [], WINDOW, FPS, STEP)

    assert both.kind == "face"
    assert np.allclose(both.dense_raw[45, :2], [1090, 190])
    assert np.allclose(alone.dense_raw[45, :2], [511, 321])


def test_a_face_carried_back_from_its_first_detection_is_linked_to_it_however_fast() -> None:
    # A face 67 pixels wide swinging across the picture 110 pixels a sample (1.6 widths, too
    # far for one sighting's reach), detected from frame 60 on and carried back by flow to
    # frame 57: the followed box is that detection's face, so the run is one track from 57.
    first = 60
    found = [Face(f, Box(600 - 110 * (f - first) / STEP, 300, 67, 80), 0.85)
             for f in range(first, 75, STEP)]  # fmt: skip
    back = Face(57, Box(710, 300, 67, 80), 0.4, detected_at=first, followed_from=found[0].box)
    shot = Shot(45, 75)

    track = subject_of_shot(shot, [back, *found], [], WINDOW, FPS, STEP)

    assert track.kind == "face"
    assert track.frames.tolist() == [57, *range(first, 75, STEP)]
    # Known on every frame from the first sighting on, at the pace the face went.
    assert not np.isnan(track.dense_raw[57 - shot.start :, 0]).any()
    assert track.dense_raw[57 - shot.start, 0] == pytest.approx(710)
