"""The analysis pass runs what needs a frame's faces (following, objects, motion) on a thread
of its own beside the face detector: it finds exactly what one sequential loop finds, and a
failure on that thread ends the pass with that failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from batch.reframer import decode, pipeline, probe, tracking
from batch.reframer.objects import ObjectSampler
from bench.quality_clips import ClipSpec, ShotSpec, Subject, Truth, generate
from tests.batch.synthetic_clips import Path2D, Shot, make_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A face crossing the frame, a cut, a ball: faces, followed faces, objects and motion."""
    path = tmp_path_factory.mktemp("analysis-pass") / "two-shots.mp4"
    make_clip(
        path,
        [
            Shot(2.0, "coffee", "face", Path2D((0.2, 0.5), (0.8, 0.45))),
            Shot(2.0, "hubble", "ball", Path2D((0.8, 0.3), (0.2, 0.7)), subject_scale=0.35),
        ],
        width=960,
        height=540,
        fps=25,
        audio=False,
        preset="ultrafast",
    )
    return path


def _pass(source: Path, behind: int) -> pipeline._Analysis:
    info = probe.probe(source)
    return pipeline._analyse(
        info, decode.geometry(info), pipeline._Stopwatch(), lambda _stage, _percent: None, behind
    )


def test_the_threaded_pass_finds_what_a_sequential_loop_finds(clip: Path) -> None:
    sequential, threaded = _pass(clip, behind=0), _pass(clip, behind=pipeline.BEHIND_FRAMES)

    assert threaded.faces == sequential.faces
    assert threaded.objects == sequential.objects
    assert threaded.motion.motions == sequential.motion.motions
    assert threaded.times == sequential.times
    assert threaded.detector.shots() == sequential.detector.shots()
    # The clip exercises every stage on that thread.
    assert any(face.detected_at is not None for face in threaded.faces)  # followed
    assert threaded.object_sampler.detected == sequential.object_sampler.detected > 0
    assert threaded.motion.motions
    assert len(threaded.detector.shots()) == 2


def test_motion_decides_the_shot_until_faces_have_run_long_enough_to_carry_it(clip: Path) -> None:
    # A face seen on a sample or two (a passer-by, a thrower at the picture's edge) may not
    # be the shot's subject, and its motion still decides it: measured on real footage, a
    # thrown ball's last bounce went unmeasured and the crop lost it on 10% of the frames.
    # Past that, motion is beside the faces: it only tells how far what holds a face reaches.
    analysis = _pass(clip, behind=0)
    face_shot = analysis.detector.shots()[0]
    with_faces = sorted(
        {face.frame for face in analysis.faces if face.detected_at is None}
        & set(analysis.sampled_in(face_shot).tolist())
    )
    in_shot = [m for m in analysis.motion.motions if face_shot.start <= m.frame < face_shot.end]

    assert with_faces[: tracking.MIN_LOOKS] == analysis.sampled[: tracking.MIN_LOOKS]
    assert analysis.motion_compared_in(face_shot).tolist() == with_faces[: tracking.MIN_LOOKS - 1]
    beside = {m.frame for m in in_shot if m.beside_faces}
    assert beside
    assert beside <= set(with_faces[tracking.MIN_LOOKS - 1 :])
    assert not any(
        m.beside_faces for m in in_shot if m.frame in with_faces[: tracking.MIN_LOOKS - 1]
    )


def test_a_failure_behind_the_face_detector_ends_the_pass(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> list[object]:
        raise RuntimeError("the object detector broke")

    monkeypatch.setattr(ObjectSampler, "objects", broken)

    with pytest.raises(RuntimeError, match="the object detector broke"):
        _pass(clip, behind=pipeline.BEHIND_FRAMES)


@pytest.fixture(scope="module")
def calm_then_fast(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A face holding still for 2 s, a cut, a face crossing the frame in 1 s."""
    path = tmp_path_factory.mktemp("sample-rate") / "calm-then-fast.mp4"
    make_clip(
        path,
        [
            Shot(2.0, "coffee", "face", Path2D((0.5, 0.5), (0.5, 0.5)), subject_scale=0.4),
            Shot(1.0, "rocket", "face", Path2D((0.1, 0.5), (0.9, 0.5)), subject_scale=0.4),
        ],
        width=960,
        height=540,
        fps=30,
        audio=False,
        preset="ultrafast",
    )
    return path


def test_a_calm_shot_is_sampled_half_as_often_as_a_fast_one(calm_then_fast: Path) -> None:
    analysis = _pass(calm_then_fast, behind=pipeline.BEHIND_FRAMES)
    calm, fast = analysis.detector.shots()
    step = analysis.layout.step

    assert step == 3  # 10 candidate samples a second at 30 fps
    calm_samples, fast_samples = analysis.sampled_in(calm), analysis.sampled_in(fast)
    # The still face: its first samples, then every other one.
    assert len(calm_samples) <= 0.6 * calm.frames / step
    # The face crossing in a second: every candidate from the cut on.
    assert len(fast_samples) >= fast.frames // step
    assert analysis.rate.passed == -(-calm.frames // step) - len(calm_samples)
    # The face is found on every sample taken, in both shots.
    faces = {face.frame for face in analysis.faces}
    assert set(calm_samples) <= faces
    assert set(fast_samples) <= faces


def test_an_optional_sample_taken_is_the_frame_a_full_rate_pass_sees(
    calm_then_fast: Path,
) -> None:
    info = probe.probe(calm_then_fast)
    layout = decode.geometry(info)
    full = {f.index: f.bgr for f in decode.analysis_frames(info, layout) if f.bgr is not None}
    optional = [
        f for f in decode.analysis_frames(info, layout, optional_samples=True) if f.optional
    ]

    # Every other candidate sample, the odd ones (the larger looks fall on even ones here).
    assert [f.index for f in optional] == [i for i in sorted(full) if i // layout.step % 2]
    for frame in optional:
        assert frame.bgr is None
        taken = frame.taken()
        assert taken.bgr is not None
        assert not taken.optional
        assert np.array_equal(taken.bgr, full[frame.index])
        assert frame.passed_over().bgr is None
        assert not frame.passed_over().optional


def test_every_sample_offers_a_larger_picture_without_holding_its_decoded_frame(
    calm_then_fast: Path,
) -> None:
    # A lost small face is chased by the larger look on any sample (faces.CHASE_SAMPLES). The
    # samples that keep no decoded frame (those neither optional nor due a larger look) grow
    # their colour frame instead; the others make it from the source, as the full pass does.
    info = probe.probe(calm_then_fast)
    layout = decode.geometry(info)
    assert layout.large_step
    full = {f.index: f.make_large() for f in decode.analysis_frames(info, layout) if f.make_large}
    samples = [
        f.taken() if f.optional else f
        for f in decode.analysis_frames(info, layout, optional_samples=True)
        if f.sampled or f.optional
    ]

    assert [f.index for f in samples] == sorted(full)
    grown = 0
    for frame in samples:
        assert frame.make_large is not None
        large = frame.make_large()
        assert large.shape == full[frame.index].shape
        from_source = frame.large_due or frame.index // layout.step % 2
        if from_source:
            assert np.array_equal(large, full[frame.index])
        else:
            grown += 1
            difference = np.abs(large.astype(np.int16) - full[frame.index]).mean()
            assert difference < 6
    assert grown >= len(samples) // 3


@pytest.fixture(scope="module")
def swinging_cat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    """A cat swinging across a photograph and back (no face), with its box on every frame."""
    spec = ClipSpec("swinging-cat", "nonface", (
        ShotSpec(1.5, "photo:rocket", (Subject("cat", 0.43, "swing", (0.87, 0.36), (0.37, 0.36)),)),
    ), width=640, height=360, fps=25, seed=40)  # fmt: skip
    return generate(spec, tmp_path_factory.mktemp("swinging-cat"))


def test_between_the_object_detector_s_looks_objects_are_followed_by_optical_flow(
    swinging_cat: tuple[Path, Truth],
) -> None:
    source, truth = swinging_cat
    analysis = _pass(source, behind=pipeline.BEHIND_FRAMES)

    looks = {o.frame for o in analysis.objects if o.detected_at is None and o.label == "cat"}
    followed = [o for o in analysis.objects if o.detected_at is not None and o.label == "cat"]
    # Flow carries the cat over the samples between looks (most of them: three a look).
    between = set(analysis.sampled) - looks
    assert len({o.frame for o in followed} & between) >= 0.8 * len(between)
    for cat in followed:
        assert cat.detected_at in looks
        assert cat.followed_from is not None
        x, _y, w, _h = truth.boxes[cat.frame]  # type: ignore[misc]
        # Where the cat is then (the detector's box is within a tenth of its width of the
        # truth; flow adds a little to that).
        assert abs(cat.box.cx - (x + w / 2)) <= 0.15 * w
