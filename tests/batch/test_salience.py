"""Visual saliency (batch/reframer/salience.py) on a picture scikit-image ships; the choice of
a salient subject for shots with no face, object or motion, or whose only face may be a
photograph's pattern (tracking/face_tracks.py), its still camera and its self-measured
retention, as pure logic; and the pipeline CLI framing such shots."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from batch.reframer import camera, quality
from batch.reframer.faces import Face
from batch.reframer.geometry import Box
from batch.reframer.motion import Motion
from batch.reframer.salience import GRID, LOOKS_PER_SECOND, SalienceLook, look, salient_region
from batch.reframer.shots import Shot
from batch.reframer.tracking import SubjectTrack, subject_of_shot
from bench.quality_clips import ClipSpec, ShotSpec, Subject, generate
from tests.batch.conftest import Reframed, reframe
from tests.batch.synthetic_clips import Path2D, make_clip
from tests.batch.synthetic_clips import Shot as ClipShot

WINDOW = (360, 640)
SOURCE = (1280, 720)


@pytest.mark.parametrize("left", [40, 250, 450])
def test_the_salient_region_of_a_cat_on_a_plain_ground_is_on_the_cat(left: int) -> None:
    ground = np.full((360, 640, 3), 128, np.uint8)
    ground[130:230, left : left + 150] = cv2.resize(data.chelsea()[:, :, ::-1], (150, 100))

    seen = look(7, ground, 2.0)
    region = salient_region(seen.grid, seen.cell)

    assert seen.frame == 7
    assert seen.grid.shape == (GRID[1], GRID[0])
    assert seen.grid.sum() == pytest.approx(1.0, abs=1e-4)
    assert region.concentrated
    # In source pixels (twice the analysis frame's): the cat's picture is at 2 x (left..+150).
    assert 2 * left <= region.box.cx <= 2 * (left + 150)
    assert 2 * 130 <= region.box.cy <= 2 * 230


def _blob(cx: float, cy: float, spread: float = 4.0) -> np.ndarray:
    """A grid (cells) with one round bump at (cx, cy), summing to 1."""
    rows, columns = np.mgrid[0 : GRID[1], 0 : GRID[0]]
    bump = np.exp(-((columns - cx) ** 2 + (rows - cy) ** 2) / (2 * spread**2))
    return bump / bump.sum()


def _looks(grids: list[np.ndarray], first: int = 0, every: int = 15) -> list[SalienceLook]:
    cell = (SOURCE[0] / GRID[0], SOURCE[1] / GRID[1])
    return [
        SalienceLook(first + every * i, grid.astype(np.float32), cell)
        for i, grid in enumerate(grids)
    ]


def _subject(looks: list[SalienceLook], frames: int = 60):  # type: ignore[no-untyped-def]
    shot = Shot(0, frames)
    return subject_of_shot(shot, [], [], WINDOW, 30.0, 3, salience=looks)


def test_one_clear_region_is_the_salient_subject_held_still() -> None:
    # A bump at cell (80, 32): source x 80 * 1280 / 104 = 985, off the centre crop (460-820).
    track = _subject(_looks([_blob(80, 32), _blob(81, 32), _blob(79, 33), _blob(80, 31)]))

    assert track.kind == "salient"
    assert np.all(track.dense == track.dense[0])
    assert 900 < track.dense[0, 0] + track.dense[0, 2] / 2 < 1070
    planned = camera.plan_shot(track, SOURCE, WINDOW, 30.0)
    assert planned.mode == "steady"
    assert np.ptp(planned.x) == 0
    assert np.ptp(planned.y) == 0
    assert (
        planned.x[0]
        <= track.dense[0, 0]
        <= track.dense[0, 0] + track.dense[0, 2]
        <= (planned.x[0] + WINDOW[0])
    )
    kept, judged = quality.retention([track], planned.x, planned.y, WINDOW, SOURCE)
    assert (kept, judged) == (1.0, 60)


def test_an_even_spread_is_no_subject() -> None:
    even = np.full((GRID[1], GRID[0]), 1.0 / (GRID[0] * GRID[1]))

    assert _subject(_looks([even, even])).kind == "none"
    assert _subject([]).kind == "none"


def test_of_two_rival_regions_a_still_shot_holds_the_stronger_and_a_moving_one_neither() -> None:
    # A still ball on gravel, or a face in profile beside a rocket's nose: no detector finds
    # it, and neither region dominates the map. Where nothing moves, every look
    # sees the same picture, and its peak (cell 20: source x 246, off the centre crop) is
    # held; where something moved, the peak may be anything that passed.
    rivals = _blob(20, 32) + 0.9 * _blob(84, 32)
    looks = _looks([rivals / rivals.sum()] * 4)
    scattered = [Motion(f, Box(0, 0, *SOURCE), 0.4) for f in range(0, 60, 3)]

    still = _subject(looks)
    moving = subject_of_shot(Shot(0, 60), [], scattered, WINDOW, 30.0, 3, salience=looks)

    assert moving.kind == "none"
    assert still.kind == "salient"
    assert 200 < still.dense[0, 0] + still.dense[0, 2] / 2 < 300
    planned = camera.plan_shot(still, SOURCE, WINDOW, 30.0)
    assert np.ptp(planned.x) == 0
    assert (
        planned.x[0]
        <= still.dense[0, 0]
        < still.dense[0, 0] + still.dense[0, 2]
        <= (planned.x[0] + WINDOW[0])
    )
    assert quality.retention([still], planned.x, planned.y, WINDOW, SOURCE) == (1.0, 60)


def test_looks_whose_region_is_elsewhere_count_as_not_kept() -> None:
    # Three looks on the right, one (the last) on the far left: the shot is framed on the
    # right, and the frames nearest the last look are measured as not keeping what it saw.
    track = _subject(_looks([_blob(80, 32), _blob(80, 32), _blob(80, 32), _blob(10, 32)]))
    planned = camera.plan_shot(track, SOURCE, WINDOW, 30.0)

    kept, judged = quality.retention([track], planned.x, planned.y, WINDOW, SOURCE)

    assert track.kind == "salient"
    assert judged == 60
    # The last look (frame 45) is nearest to frames 38-59.
    assert kept == pytest.approx(38 / 60)


def test_a_shot_where_something_moved_but_nothing_stands_out_is_judged_by_each_look() -> None:
    # Two rival regions by turns: one inside the centre crop (cell 52: source x 640), one off
    # it (cell 20: x 246). No subject, the camera holds the centre; something moved, so each
    # frame is judged against what the look nearest to it found most salient.
    looks = _looks([_blob(52, 32), _blob(20, 32), _blob(52, 32), _blob(20, 32)])
    scattered = [Motion(f, Box(0, 0, *SOURCE), 0.4) for f in range(0, 60, 3)]
    track = subject_of_shot(Shot(0, 60), [], scattered, WINDOW, 30.0, 3, salience=looks)
    planned = camera.plan_shot(track, SOURCE, WINDOW, 30.0)
    # The clip's next shot has a face, kept throughout by a centred crop.
    face = np.tile([600.0, 200.0, 80.0, 100.0], (40, 1))
    faced = SubjectTrack(Shot(60, 100), "face", np.arange(60, 100), face, face, face, face)
    x = np.concatenate([planned.x, np.full(40, (SOURCE[0] - WINDOW[0]) / 2)])
    y = np.zeros(100)

    kept, judged = quality.retention([track, faced], x, y, WINDOW, SOURCE)

    assert track.kind == "none"
    assert planned.x[0] == (SOURCE[0] - WINDOW[0]) / 2
    # Frames 0-7 and 23-37 are nearest a look on the centre region; the face's 40 are kept.
    assert (kept, judged) == (pytest.approx((23 + 40) / 100), 100)
    block = quality.summary(kept, judged, 100, quality.unfound_frames([track, faced]),
                            quality.stand_in_frames([track, faced]))  # fmt: skip
    assert block["subject_coverage"] == 0.4
    assert block["warnings"][-1] == (
        "no subject was found on 60% of the frames (whole shots): the crop is judged there "
        "against what stood out"
    )
    # A clip with no subject anywhere makes no claim; where nothing moved, nothing is lost
    # (and looks that each see another region name no subject even there).
    assert quality.retention([track], planned.x, planned.y, WINDOW, SOURCE) == (None, 0)
    still = _subject(looks)
    assert still.kind == "none"
    assert quality.retention([still, faced], x, y, WINDOW, SOURCE) == (1.0, 40)


def test_where_the_picture_itself_moves_each_look_is_judged_by_what_it_saw() -> None:
    # Three looks see one region in the middle; the last sees another, off the crop, while the
    # middle one still reaches 0.6 of its peak. Under traffic passing a still camera (a
    # parked bicycle) the middle is still what the shot is about; where the whole picture
    # moves (a close-up filmed by hand), what the last look saw is what the shot was about.
    pulled = 0.6 * _blob(52, 32) + _blob(90, 32)
    looks = _looks([_blob(52, 32), _blob(52, 32), _blob(52, 32), pulled / pulled.sum()])
    traffic = [Motion(f, Box(0, 300, *SOURCE), 0.07) for f in range(3, 60, 3)]
    handheld = [Motion(f, Box(0, 0, *SOURCE), 0.3) for f in range(3, 60, 3)]
    shot = Shot(0, 60)

    still_camera = subject_of_shot(shot, [], traffic, WINDOW, 30.0, 3, salience=looks)
    moving_picture = subject_of_shot(shot, [], handheld, WINDOW, 30.0, 3, salience=looks)

    for track in (still_camera, moving_picture):
        assert track.kind == "salient"
        planned = camera.plan_shot(track, SOURCE, WINDOW, 30.0)
        assert np.ptp(planned.x) == 0  # the camera holds the middle either way
    assert (still_camera.picture_moves, moving_picture.picture_moves) == (False, True)
    x, y = planned.x, planned.y
    assert quality.retention([still_camera], x, y, WINDOW, SOURCE) == (1.0, 60)
    # The last look (frame 45) is nearest to frames 38-59.
    kept, judged = quality.retention([moving_picture], x, y, WINDOW, SOURCE)
    assert (kept, judged) == (pytest.approx(38 / 60), 60)
    assert quality.stand_in_frames([still_camera]) == 0
    block = quality.summary(kept, judged, 60, 0, quality.stand_in_frames([moving_picture]))
    assert block["low_retention"]
    assert block["warnings"][-1] == (
        "no subject was found on 100% of the frames (whole shots): the crop is judged there "
        "against what stood out"
    )


@pytest.mark.parametrize("level", [0, 128])
def test_an_empty_picture_has_no_salient_subject(level: int) -> None:
    # The model still draws its centre bias on a blank frame: that says nothing.
    blank = look(0, np.full((360, 640, 3), level, np.uint8), 1.0)

    assert not salient_region(blank.grid, blank.cell).concentrated
    assert _subject(_looks([blank.grid, blank.grid])).kind == "none"


@pytest.mark.parametrize(
    ("size", "where", "scale"),
    [
        # Nothing else to go by: no face, no object (not a COCO class), no motion.
        ((640, 360), (0.82, 0.5), 0.3),
        # At 1280x720 the larger face look takes a galaxy of the photograph for a face (it
        # stands still and no usual look finds it): that pattern must give way to the ball.
        ((1280, 720), (0.8, 0.38), 0.11),
    ],
    ids=["nothing-else", "beside-a-face-pattern"],
)
def test_the_pipeline_frames_a_still_thing_no_detector_knows_where_the_eye_goes(
    tmp_path: Path, size: tuple[int, int], where: tuple[float, float], scale: float
) -> None:
    # A still chequered ball off the centre of a photograph of the night sky: a centre crop
    # would miss it.
    source = tmp_path / "ball.mp4"
    truth = make_clip(
        source,
        [ClipShot(2.0, "hubble", "ball", Path2D(where, where), scale)],
        width=size[0],
        height=size[1],
        audio=False,
    )

    manifest, _ = reframe(source, tmp_path / "out", "--aspect", "9:16", "--resolution", "480p")

    assert manifest["metrics"]["subjects"] == ["salient"]
    assert manifest["metrics"]["camera_modes"] == ["steady"]
    crop = manifest["crop_path"]
    assert len(set(crop["x"])) == 1
    assert all(
        box is not None and box.inside(x, y, crop["width"], crop["height"])
        for box, x, y in zip(truth.subject_boxes, crop["x"], crop["y"], strict=True)
    )
    assert manifest["metrics"]["subject_retention"] == 1.0


def test_saliency_is_looked_at_only_in_the_shots_it_decides(reframed_vertical: Reframed) -> None:
    # The storyboard: two face shots, a moving ball, then a still cup of coffee. Only the cup's
    # shot has nothing else to follow; the others must cost no saliency look.
    manifest = reframed_vertical.manifest
    salient = [shot for shot in manifest["shots"] if shot["subject"] == "salient"]
    seconds = sum(shot["end_seconds"] - shot["start_seconds"] for shot in salient)

    looked = manifest["metrics"]["salience"]["looked"]

    assert len(salient) == 1
    assert 2 <= looked <= math.ceil(seconds * LOOKS_PER_SECOND) + 1


def _still_faces(larger_only: bool, meshed: bool = False) -> list[Face]:
    """A face 50 pixels wide standing still at source x 500-550 on every sample of a 2 s
    shot: a photograph's pattern where only the larger look finds it and the face mesh sees
    no face there."""
    box = Box(500, 320, 50, 60)
    return [Face(f, box, 0.82, larger_only=larger_only, meshed=meshed) for f in range(0, 60, 3)]


def test_a_still_face_only_the_larger_look_finds_is_checked_against_where_the_eye_goes() -> None:
    shot = Shot(0, 60)
    elsewhere = _looks([_blob(80, 32)] * 4)  # source x 985: a ball off to the right
    on_face = _looks([_blob(42, 29)] * 4)  # source x 517: the face itself

    def subject(faces: list[Face], looks: list[SalienceLook]) -> SubjectTrack:
        return subject_of_shot(shot, faces, [], WINDOW, 30.0, 3, salience=looks)

    # Before any look, the face is taken, and the pipeline is told to look (pipeline.py).
    unlooked = subject(_still_faces(True), [])
    assert (unlooked.kind, unlooked.unconfirmed) == ("face", True)
    # The eye goes elsewhere: the face gives way to that region; the eye goes to it: kept.
    assert subject(_still_faces(True), elsewhere).kind == "salient"
    assert subject(_still_faces(True), on_face).kind == "face"
    # A face the usual look finds is a face, wherever the eye goes; so is one the face mesh
    # sees (a real face too small for the usual look, beside the coffee cup the eye prefers).
    usual = subject(_still_faces(False), elsewhere)
    assert (usual.kind, usual.unconfirmed) == ("face", False)
    meshed = subject(_still_faces(True, meshed=True), elsewhere)
    assert (meshed.kind, meshed.unconfirmed) == ("face", False)


def test_a_still_cat_beside_a_photographs_face_pattern_is_framed_as_the_object(
    tmp_path: Path,
) -> None:
    # The galaxy pattern the larger look takes for a face (above) beside a still cat, which
    # the object detector knows: once the pattern gives way, the samples it was found on are
    # looked at for objects as faceless ones are, and the cat, 0.59 of the picture's height,
    # is kept whole in a 4:5 crop.
    cat = Subject("cat", 0.59, "still", (0.88, 0.39))
    spec = ClipSpec("cat-by-a-pattern", "test", (ShotSpec(3.0, "photo:hubble", (cat,)),),
                    aspect="4:5")  # fmt: skip
    source, truth = generate(spec, tmp_path)

    manifest, _ = reframe(source, tmp_path / "out", "--aspect", "4:5", "--resolution", "480p")

    assert manifest["metrics"]["subjects"] == ["object"]
    crop = manifest["crop_path"]
    assert all(
        Box(*box).inside(x, y, crop["width"], crop["height"])
        for box, x, y in zip(truth.boxes, crop["x"], crop["y"], strict=True)
        if box is not None
    )
