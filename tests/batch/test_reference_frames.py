"""Decoding only the frames other frames refer to (decode.py): the pass sees about every other
frame of an encode with B-frames, each still indexed in display order with the very pixels a
full decode gives it, and a cut found between two decoded frames is pinpointed among the
frames between them, decoded again."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from batch.reframer import decode, pipeline, probe, shots
from batch.reframer.frame_table import FrameTable, frame_table, referred_to
from batch.reframer.geometry import OutputSpec
from batch.reframer.shots import Cut, ShotDetector
from tests.batch.conftest import reframe
from tests.batch.synthetic_clips import GroundTruth


def _tiny_frame(index: int, scene: int) -> decode.AnalysisFrame:
    """Thumbnails of one of two scenes that share nothing."""
    luma = np.random.default_rng(scene).integers(0, 256, (36, 64), dtype=np.uint8)
    chroma = np.full((18, 32), 60 + 80 * scene, np.uint8)
    return decode.AnalysisFrame(index, index / 25, luma, chroma, chroma, None)


def test_a_cut_between_two_frames_fed_is_found_unsure_and_pinpointed() -> None:
    def scene(i: int) -> int:
        return int(i >= 25)

    every_other = ShotDetector(25.0)
    for i in range(0, 50, 2):
        every_other.add(_tiny_frame(i, scene(i)))
    every = ShotDetector(25.0)
    for i in range(50):
        every.add(_tiny_frame(i, scene(i)))

    (unsure,) = every_other.cuts()
    assert unsure == Cut(frame=26, after=24)
    assert not unsure.exact
    assert shots.pinpoint(unsure, [_tiny_frame(i, scene(i)) for i in range(24, 27)]) == 25
    assert every.cuts() == [Cut(frame=25, after=24)]
    assert every.cuts()[0].exact
    # The last frame fed is not always the last frame: the shots reach the count given.
    assert every_other.shots(50) == [shots.Shot(0, 26), shots.Shot(26, 50)]


def test_a_cut_whose_frames_no_longer_decode_stays_where_it_was_found() -> None:
    cut = Cut(frame=26, after=24)
    assert shots.pinpoint(cut, [_tiny_frame(24, 0), _tiny_frame(26, 1)]) == 26


@pytest.fixture(scope="module")
def no_scene_cut_keyframes(
    storyboard: tuple[Path, GroundTruth], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The storyboard encoded again without x264's keyframes on cuts (as encoders with fixed
    keyframe intervals for streaming do) and with B-frames no frame refers to, so cuts fall
    among frames a reference-only pass leaves out."""
    source, _truth = storyboard
    path = tmp_path_factory.mktemp("fixed-gop") / "fixed-gop.mp4"
    command = ["ffmpeg", "-v", "error", "-i", str(source), "-an", "-c:v", "libx264",
               "-preset", "veryfast", "-crf", "20",
               "-x264-params", "scenecut=0:keyint=250:b-pyramid=none", str(path)]  # fmt: skip
    subprocess.run(command, check=True)
    return path


def _full_and_reference_only(
    source: Path,
) -> tuple[list[decode.AnalysisFrame], list[decode.AnalysisFrame], FrameTable]:
    info = probe.probe(source, None)
    layout = decode.geometry(info)
    table = frame_table(info)
    assert table is not None
    full = list(decode.analysis_frames(info, layout))
    reference = list(decode.analysis_frames(info, layout, table=table))
    return full, reference, table


@pytest.fixture(scope="module")
def hevc(storyboard: tuple[Path, GroundTruth], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The storyboard in HEVC (x265: B-frames in a pyramid, the top layer referred to by none)."""
    source, _truth = storyboard
    path = tmp_path_factory.mktemp("hevc") / "hevc.mp4"
    command = ["ffmpeg", "-v", "error", "-i", str(source), "-an", "-c:v", "libx265",
               "-preset", "ultrafast", "-x265-params", "log-level=error", str(path)]  # fmt: skip
    subprocess.run(command, check=True)
    return path


@pytest.mark.parametrize("encode", ["no_scene_cut_keyframes", "hevc"])
def test_a_reference_only_pass_samples_the_same_frames_with_the_same_pixels(
    encode: str, request: pytest.FixtureRequest
) -> None:
    source: Path = request.getfixturevalue(encode)
    full, reference, table = _full_and_reference_only(source)

    assert len(table) == len(full)
    assert np.allclose(table.times, [f.time for f in full])
    indices = [f.index for f in reference]
    assert indices == sorted(set(indices))
    assert len(reference) < 0.8 * len(full)
    for frame in reference:
        seen = full[frame.index]
        assert frame.time == pytest.approx(seen.time)
        assert np.array_equal(frame.luma, seen.luma)
        assert np.array_equal(frame.chroma_u, seen.chroma_u)
    # The samples, and the larger frames, are the full pass's, pixel for pixel.
    sampled = [f for f in reference if f.sampled]
    assert [f.index for f in sampled] == [f.index for f in full if f.sampled]
    for frame in sampled:
        assert frame.bgr is not None
        assert np.array_equal(frame.bgr, full[frame.index].bgr)
    assert [f.index for f in reference if f.make_large] == [f.index for f in full if f.make_large]


def test_which_frames_are_referred_to_is_read_from_either_framing_of_nal_units() -> None:
    def slice_nal(header: int) -> bytes:
        return bytes([header]) + b"\x9a\x00\x10"

    sei, p_slice, b_slice = bytes([0x06, 0x05, 0x01]), slice_nal(0x41), slice_nal(0x01)

    def length_prefixed(*units: bytes) -> bytes:
        return b"".join(len(u).to_bytes(4, "big") + u for u in units)

    def annex_b(*units: bytes) -> bytes:
        return b"".join(b"\x00\x00\x00\x01" + u for u in units)

    assert referred_to(length_prefixed(sei, p_slice), "h264", 4)
    assert not referred_to(length_prefixed(sei, b_slice), "h264", 4)
    assert referred_to(annex_b(sei, p_slice), "h264", None)
    assert not referred_to(annex_b(sei, b_slice), "h264", None)
    # HEVC: TRAIL_N (0) is referred to by none, TRAIL_R (1) and IDR (19) are.
    assert not referred_to(length_prefixed(bytes([0x00, 0x01])), "hevc", 4)
    assert referred_to(length_prefixed(bytes([0x02, 0x01])), "hevc", 4)
    assert referred_to(length_prefixed(bytes([0x26, 0x01])), "hevc", 4)


def test_cuts_among_frames_left_undecoded_are_found_to_the_frame(
    no_scene_cut_keyframes: Path, storyboard: tuple[Path, GroundTruth], tmp_path: Path
) -> None:
    _source, truth = storyboard
    _full, reference, _table = _full_and_reference_only(no_scene_cut_keyframes)
    detector = ShotDetector(truth.fps)
    for frame in reference:
        detector.add(frame)
    # The premise: some cut falls on a frame the pass did not decode, so it finds the frame
    # after it.
    assert [cut.frame for cut in detector.cuts()] != truth.cut_frames

    manifest, _result = reframe(no_scene_cut_keyframes, tmp_path / "out", "--resolution", "480p")

    assert [shot["start_frame"] for shot in manifest["shots"][1:]] == truth.cut_frames
    assert manifest["metrics"]["frames"] == truth.frame_count


def test_containers_without_exact_time_stamps_are_decoded_whole(
    storyboard: tuple[Path, GroundTruth], tmp_path: Path
) -> None:
    source, _truth = storyboard
    copy = tmp_path / "storyboard.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(source), "-c", "copy", str(copy)], check=True
    )
    assert frame_table(probe.probe(copy, None)) is None


def test_a_table_that_disagrees_with_the_frames_sends_the_pass_back_to_every_frame(
    storyboard: tuple[Path, GroundTruth], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source, truth = storyboard
    info = probe.probe(source, None)
    table = frame_table(info)
    assert table is not None
    # A frame the decoder gives that the table lacks.
    torn = FrameTable(table.pts[1:], table.times[1:], table.referenced[1:])
    with pytest.raises(decode.FrameTableMismatch):
        list(decode.analysis_frames(info, decode.geometry(info), table=torn))

    monkeypatch.setattr(pipeline, "frame_table", lambda _info: torn)
    out = tmp_path / "out"
    pipeline.run(str(source), str(out), OutputSpec("9:16", "480p"), lambda _stage, _percent: None)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["metrics"]["frames"] == truth.frame_count
    assert [shot["start_frame"] for shot in manifest["shots"][1:]] == truth.cut_frames
