"""The pure core behind the redesign, on arrays: the dense subject track, the L1-optimal
camera path, gradual transitions and the honest retention."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from batch.reframer.camera import Corridor, l1_path
from batch.reframer.quality import kept, lost_frames, retention, summary
from batch.reframer.shots import Shot, find_gradual, merge_cuts
from batch.reframer.tracking import SubjectTrack, densify


def test_the_dense_track_interpolates_between_looks_and_stops_at_long_gaps() -> None:
    shot = Shot(0, 40)
    frames = np.array([0, 3, 6, 30, 33])
    boxes = np.array([[0.0, 0, 10, 10], [30, 0, 10, 10], [60, 0, 10, 10],
                      [200, 0, 10, 10], [200, 0, 10, 10]])  # fmt: skip
    dense = densify(shot, frames, boxes, max_gap=10, reach=2)

    assert dense[4, 0] == 40.0  # between looks: straight-line motion
    assert dense[8, 0] == 80.0  # past the last look of a run: carried on at its speed
    assert np.isnan(dense[15, 0])  # a gap longer than max_gap is not bridged
    assert dense[35, 0] == 200.0
    assert np.isnan(dense[39, 0])


def _corridor(centre: np.ndarray, half: float) -> Corridor:
    return Corridor(centre - half, centre + half, centre - 2 * half, centre + 2 * half, 300.0)


def test_the_l1_path_holds_still_moves_at_constant_speeds_and_stays_inside() -> None:
    t = np.arange(240.0)
    # Still, then a walk at 3 px a frame, then still again.
    centre = np.clip(200 + 3 * (t - 60), 200, 560)
    corridor = _corridor(centre, 30)
    path = l1_path(corridor, fps=30)

    assert np.all(path >= corridor.hard_low - 1e-6)
    assert np.all(path <= corridor.hard_high + 1e-6)
    # L1 makes the third difference sparse: held, constant-speed and constant-acceleration
    # pieces, joined at few frames.
    assert np.mean(np.abs(np.diff(path, 3)) < 1e-3) > 0.75
    assert np.ptp(path[:30]) == 0
    assert np.ptp(path[-30:]) == 0
    # It eases: the speed changes by a fraction of a pixel a frame (the subject's by 3).
    assert np.abs(np.diff(path, 2)).max() < 0.5


def test_the_l1_path_of_a_long_shot_is_solved_on_fewer_samples_and_still_inside() -> None:
    t = np.arange(4000.0)
    centre = 500 + 300 * np.sin(t / 400)
    corridor = _corridor(centre, 60)
    path = l1_path(corridor, fps=30)

    assert len(path) == 4000
    assert np.all(path >= corridor.hard_low - 1.0)
    assert np.all(path <= corridor.hard_high + 1.0)


def _layout(level: float) -> np.ndarray:
    return np.full(144, level, dtype=np.float32)


def _signature(level: float) -> np.ndarray:
    histogram = np.zeros(64, dtype=np.float32)
    histogram[min(31, int(level * 32))] = 1.0
    histogram[32 + min(15, int(level * 16))] = 1.0
    histogram[48 + min(15, int(level * 16))] = 1.0
    return histogram


def _scores(layouts: list[np.ndarray]) -> np.ndarray:
    steps = [0.0] + [float(np.abs(b - a).mean()) * 4 for a, b in itertools.pairwise(layouts)]
    return np.array(steps)


def test_a_dissolve_is_one_transition_placed_in_its_middle() -> None:
    levels = [0.2] * 40 + list(np.linspace(0.2, 0.8, 14)[1:-1]) + [0.8] * 40
    layouts = [_layout(v) for v in levels]
    signatures = [_signature(v) for v in levels]

    found = find_gradual(_scores(layouts), signatures, layouts, fps=25)

    assert len(found) == 1
    assert 40 <= found[0] <= 52
    # A hard cut found in the same transition is not doubled.
    assert merge_cuts([found[0] + 1], found, 25, len(levels)) == [found[0] + 1]


def test_a_fade_through_black_is_a_transition_but_a_steady_brightening_is_not_a_cut() -> None:
    fade = [0.6] * 40 + list(np.linspace(0.6, 0.0, 7)[1:]) + list(np.linspace(0.0, 0.5, 7)[1:])
    fade += [0.5] * 40
    layouts = [_layout(v) for v in fade]
    # The two shots differ in colour as well.
    signatures = [_signature(v if i < 46 else 0.95) for i, v in enumerate(fade)]
    assert len(find_gradual(_scores(layouts), signatures, layouts, fps=25)) == 1

    # The same picture getting brighter: its ends do not differ like two shots.
    ramp = [0.40] * 40 + list(np.linspace(0.40, 0.46, 12)) + [0.46] * 40
    ramp_layouts = [_layout(v) for v in ramp]
    ramp_signatures = [_signature(0.4) for _ in ramp]
    assert find_gradual(_scores(ramp_layouts), ramp_signatures, ramp_layouts, fps=25) == []


def test_a_subject_is_kept_whole_where_it_fits_and_by_its_centre_where_it_cannot() -> None:
    boxes = np.array([[110.0, 10, 50, 50], [90.0, 10, 50, 50], [0.0, 0, 400, 100]])
    x, y = np.array([100.0, 100, 100]), np.array([0.0, 0, 0])

    assert kept(boxes, x, y, (200, 100)).tolist() == [True, False, True]


def test_a_subject_lost_inside_the_picture_counts_as_not_kept_but_one_that_left_does_not() -> None:
    shot = Shot(0, 10)
    dense = np.full((10, 4), np.nan)
    dense[0:3] = [500, 300, 50, 50]  # followed in the middle of the picture, lost, found
    dense[6] = [520, 300, 50, 50]
    dense[7] = [1900, 300, 20, 50]  # then at the right edge, and gone
    track = SubjectTrack(shot, "face", np.array([0]), dense[:1], dense[:1], dense, dense)

    lost = lost_frames(track, (1920, 1080))

    assert lost[3:6].tolist() == [True, True, True]
    assert lost[8:].tolist() == [False, False]


def test_a_face_lost_for_good_counts_as_kept_only_while_it_cannot_have_left_the_crop() -> None:
    # A face 50 pixels wide followed moving right at 2 pixels a frame, then never found again
    # (frames 10-39); the crop holds still. Carried on at its speed with a reach growing by
    # its width a second each way, it could not have left the crop before frame 32.
    shot = Shot(0, 40)
    dense = np.full((40, 4), np.nan)
    dense[:10] = [[500 + 2 * f, 300, 50, 50] for f in range(10)]
    track = SubjectTrack(shot, "face", np.arange(10), dense[:10], dense[:10], dense, dense)
    x, y = np.full(40, 400.0), np.full(40, 200.0)

    assert retention([track], x, y, (250, 300), (1920, 1080), fps=30) == (32 / 40, 40)
    # Before its first sighting likewise, by its speed after it.
    assert retention([replace(track, dense_raw=dense[::-1])], x, y, (250, 300), (1920, 1080),
                     fps=30) == (32 / 40, 40)  # fmt: skip


def test_low_retention_says_so() -> None:
    assert summary(0.6, 100, 100)["low_retention"] is True
    assert summary(0.6, 100, 100)["warnings"]
    assert summary(0.98, 100, 100) == {
        "subject_retention": 0.98, "subject_frames": 100, "subject_coverage": 1.0,
        "low_retention": False, "warnings": [],
    }  # fmt: skip
    assert summary(None, 0, 100)["warnings"] == ["no subject was found: the crop holds the centre"]


def test_a_box_carried_past_its_last_look_keeps_its_size() -> None:
    shot = Shot(0, 40)
    boxes = np.array([[100.0, 100, 40, 40], [110, 100, 20, 20]])  # shrinking as it moves
    dense = densify(shot, np.array([0, 4]), boxes, max_gap=10, reach=30)

    assert dense[34, 0] == 110 + 2.5 * 30  # it keeps going as it went...
    assert dense[34, 2:].tolist() == [20.0, 20.0]  # ...without turning inside out


def test_a_subject_carried_past_the_picture_s_edge_is_judged_by_what_is_left_in_it() -> None:
    # A ball rolling out at the right, carried on at its last speed: its box runs past the
    # edge, and the crop, at the edge, keeps all of it that is still there (measured on a real
    # clip: judging the whole box claimed 0.962 where the truth is 1.0).
    shot = Shot(0, 10)
    dense = np.array([[170.0 + 5 * i, 100, 20, 20] for i in range(10)])
    track = SubjectTrack(shot, "motion", np.array([0]), dense[:1], dense[:1], dense, dense)
    x, y = np.full(10, 120.0), np.full(10, 0.0)

    # Once nothing of it is left in the picture (from frame 6), it has left: not judged.
    assert retention([track], x, y, (80, 200), (200, 200)) == (1.0, 6)
    # Not cut to a picture it is not told of (the centre crop's baseline).
    assert retention([track], x, y, (80, 200)) == (0.3, 10)


def test_shots_where_something_moved_but_no_subject_was_found_count_as_lost() -> None:
    followed = np.tile([100.0, 100, 50, 50], (10, 1))
    with_subject = SubjectTrack(Shot(0, 10), "face", np.arange(10), followed, followed,
                                followed, followed)  # fmt: skip
    nothing = np.full((10, 4), np.nan)
    without = SubjectTrack(Shot(10, 20), "none", np.arange(0), nothing[:0], nothing[:0],
                           nothing, nothing, unfollowed_motion=True)  # fmt: skip
    still = SubjectTrack(Shot(10, 20), "none", np.arange(0), nothing[:0], nothing[:0],
                         nothing, nothing)  # fmt: skip
    x, y = np.full(20, 50.0), np.full(20, 50.0)

    assert retention([with_subject, without], x, y, (200, 200), (1000, 1000)) == (0.5, 20)
    # A shot where nothing moved and no face showed has nothing to lose.
    assert retention([with_subject, still], x, y, (200, 200), (1000, 1000)) == (1.0, 10)
    # A clip where nothing was found anywhere makes no claim at all.
    assert retention([without], x, y, (200, 200), (1000, 1000)) == (None, 0)
    block = summary(0.5, 20, 20, unfound=10)
    assert block["subject_coverage"] == 0.5
    assert (
        "no subject was found on 50% of the frames (whole shots): they count as lost"
        in (block["warnings"])
    )
