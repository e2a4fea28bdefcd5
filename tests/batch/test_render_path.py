"""The render's crop commands: the straight pieces ffmpeg evaluates per frame reproduce the
planned whole-pixel path exactly, with few commands for held and panned shots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from batch.reframer.probe import MediaInfo
from batch.reframer.render import CropPath, crop_commands, linear_pieces, path_command


def _evaluate(positions: np.ndarray) -> np.ndarray:
    """What ffmpeg's crop renders: each frame's piece, rounded to the nearest pixel (lrint)."""
    pieces = linear_pieces(positions)
    rendered = np.empty(len(positions))
    for piece, following in zip(pieces, [*pieces[1:], None], strict=True):
        end = len(positions) if following is None else following.start
        frames = np.arange(piece.start, end)
        rendered[piece.start : end] = np.rint(piece.value + piece.slope * (frames - piece.start))
    return rendered


def test_a_held_position_and_a_steady_pan_are_one_piece_each() -> None:
    held = np.full(300, 656, dtype=np.int64)
    pan = np.round(164.3 + 3.37251 * np.arange(240)).astype(np.int64)

    assert [p.expression() for p in linear_pieces(held)] == ["656"]
    assert len(linear_pieces(pan)) == 1
    assert np.array_equal(_evaluate(pan), pan)


def test_a_tracking_path_is_reproduced_to_the_pixel_with_far_fewer_commands() -> None:
    frames = np.arange(900)
    smooth = 700 + 400 * np.sin(frames / 90) + 60 * np.sin(frames / 23)
    positions = np.round(smooth).astype(np.int64)

    assert np.array_equal(_evaluate(positions), positions)
    assert len(linear_pieces(positions)) < len(frames) / 4


def test_commands_switch_pieces_between_frames_and_pin_the_last_position() -> None:
    times = np.arange(6) / 25
    x = np.array([100, 100, 100, 400, 404, 408], dtype=np.float64)
    path = CropPath(608, 1080, times, x, np.zeros(6))

    lines = crop_commands(path, (1920, 1080)).splitlines()

    assert lines == [
        "0.100000 crop@path x 400+4*(n-3);",
        "0.220000 crop@path x 408;",
        "0.220000 crop@path y 0;",
    ]


def test_the_render_command_pans_from_the_first_frame_as_the_path_does(tmp_path: Path) -> None:
    # The benchmark's bare same-path transcode runs this very command: a path that pans from
    # frame 0 must start as that pan, not held at its first position until the next piece.
    times = np.arange(300) / 30
    x = 150 + 4.0 * np.arange(300)
    x[240:] = x[239]
    info = MediaInfo(tmp_path / "in.mp4", 10.0, 30.0, 1920, 1080, 0, "h264", "yuv420p", 1,
                     "aac", 300)  # fmt: skip
    commands = tmp_path / "crop.cmd"

    command = path_command(info, CropPath(608, 1080, times, x, np.zeros(300)), (1080, 1920),
                           tmp_path / "out.mp4", commands)  # fmt: skip

    filters = command[command.index("-filter_complex") + 1]
    first = linear_pieces(x.astype(np.int64))[0]
    assert first.slope > 0
    assert f"crop@path=w=608:h=1080:x={first.expression()}:y=0:exact=1" in filters
    assert f"sendcmd=f='{commands}'" in filters
    assert commands.read_text().splitlines()[0] == f"7.983333 crop@path x {int(x[239])};"
    assert command[command.index("-c:a") + 1] == "copy"
