"""The analysis pass runs what needs a frame's faces (following, objects, motion) on a thread
of its own beside the face detector: it finds exactly what one sequential loop finds, and a
failure on that thread ends the pass with that failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch.reframer import decode, pipeline, probe
from batch.reframer.objects import ObjectSampler
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
    assert threaded.motions == sequential.motions
    assert threaded.times == sequential.times
    assert threaded.detector.shots() == sequential.detector.shots()
    # The clip exercises every stage on that thread.
    assert any(face.detected_at is not None for face in threaded.faces)  # followed
    assert threaded.object_sampler.detected == sequential.object_sampler.detected > 0
    assert threaded.motions
    assert len(threaded.detector.shots()) == 2


def test_a_failure_behind_the_face_detector_ends_the_pass(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> list[object]:
        raise RuntimeError("the object detector broke")

    monkeypatch.setattr(ObjectSampler, "objects", broken)

    with pytest.raises(RuntimeError, match="the object detector broke"):
        _pass(clip, behind=pipeline.BEHIND_FRAMES)
