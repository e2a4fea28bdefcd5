"""Frames decoded a second time (decode.colour_frames_again), for a later stage that needs a
few frames of one shot: the very pixels the analysis pass saw, found by time stamp after a
seek where the container seeks exactly (MP4, Matroska), else by counting from the start."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

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


@pytest.mark.parametrize("container", ["mp4", "mkv", "ts", "avi"])
def test_frames_found_again_are_the_analysis_frames(
    storyboard: tuple[Path, GroundTruth], tmp_path: Path, container: str
) -> None:
    source, truth = storyboard
    if container != "mp4":
        # The same H.264 stream in another container; MPEG-TS and AVI are not seeked in.
        copy = tmp_path / f"storyboard.{container}"
        command = ["ffmpeg", "-v", "error", "-i", str(source), "-an", "-c", "copy", str(copy)]
        subprocess.run(command, check=True)
        source = copy
    # Two runs, as for two shots: every other sample of the second shot's first half, and of
    # the fourth shot (a seek lands on a keyframe before each and decodes forward).
    second, fourth = truth.cut_frames[0], truth.cut_frames[2]
    info, layout, frames = _sampled(source, range(second, truth.frame_count))
    runs = [
        [f for f in frames if f.index < (second + truth.cut_frames[1]) // 2][::2],
        [f for f in frames if f.index >= fourth][::2],
    ]
    wanted = [f for run in runs for f in run]

    again = list(
        decode.colour_frames_again(
            info, layout, [[decode.FrameRef(f.index, f.pts) for f in run] for run in runs]
        )
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
        decode.colour_frames_again(info, layout, [[decode.FrameRef(f.index, None) for f in frames]])
    )

    assert sorted(again) == [f.index for f in frames]
    assert all(np.array_equal(again[f.index], f.bgr) for f in frames)


def test_nothing_wanted_decodes_nothing(storyboard: tuple[Path, GroundTruth]) -> None:
    info = probe.probe(storyboard[0], None)

    assert list(decode.colour_frames_again(info, decode.geometry(info), [[], []])) == []
