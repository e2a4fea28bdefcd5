"""Frames decoded a second time (decode.colour_frames_again), for a later stage that needs a
few frames of one shot: the very pixels the analysis pass saw, found by time stamp after a
seek, or by counting from the start where a stream has none."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from batch.reframer import decode, probe
from tests.batch.synthetic_clips import GroundTruth


def _sampled(
    source: Path, wanted: range
) -> tuple[probe.MediaInfo, decode.AnalysisGeometry, list[decode.AnalysisFrame]]:
    """The source's facts, its analysis layout and its sampled analysis frames in `wanted`."""
    info = probe.probe(source, None)
    layout = decode.geometry(info)
    frames = [
        f for f in decode.analysis_frames(info, layout) if f.bgr is not None and f.index in wanted
    ]
    return info, layout, frames


def test_frames_found_again_by_time_stamp_are_the_analysis_frames(
    storyboard: tuple[Path, GroundTruth],
) -> None:
    source, truth = storyboard
    # Every other sample of the third and fourth shots: a seek lands on a keyframe before
    # them and decodes forward.
    info, layout, frames = _sampled(source, range(truth.cut_frames[1], truth.frame_count))
    wanted = frames[::2]

    again = list(
        decode.colour_frames_again(info, layout, [decode.FrameRef(f.index, f.pts) for f in wanted])
    )

    assert [index for index, _ in again] == [f.index for f in wanted]
    for (_, bgr), frame in zip(again, wanted, strict=True):
        assert frame.bgr is not None
        assert np.array_equal(bgr, frame.bgr)


def test_frames_without_time_stamps_are_found_by_counting_from_the_start(
    storyboard: tuple[Path, GroundTruth],
) -> None:
    source, _ = storyboard
    info, layout, frames = _sampled(source, range(40, 80))

    again = dict(
        decode.colour_frames_again(info, layout, [decode.FrameRef(f.index, None) for f in frames])
    )

    assert sorted(again) == [f.index for f in frames]
    assert all(np.array_equal(again[f.index], f.bgr) for f in frames)


def test_nothing_wanted_decodes_nothing(storyboard: tuple[Path, GroundTruth]) -> None:
    info = probe.probe(storyboard[0], None)

    assert list(decode.colour_frames_again(info, decode.geometry(info), [])) == []
