"""Stage 8, render: ffmpeg applies the crop path, scales to the output size, keeps the audio,
and writes H.264 + AAC MP4 with the index up front (faststart) for streaming playback.

The crop moves through ffmpeg's `sendcmd` filter: the whole-pixel path is cut into straight
pieces (a held shot is one, a steady pan one) and each piece is one command setting the crop's
x/y to a linear expression in the frame number, timed halfway between frames so small timestamp
offsets cannot shift it by a frame.
ffmpeg turns rotated inputs upright before the filters, so the path (in displayed pixels)
applies as is.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from batch.reframer import media_policy, outputs
from batch.reframer.errors import InvalidMedia, PipelineError
from batch.reframer.probe import MediaInfo

# Encoder settings, shared with the benchmark's bare-ffmpeg baseline.
X264_PRESET = "veryfast"
X264_CRF = "21"
AUDIO_BITRATE = "128k"

Progress = Callable[[float], None]


@dataclass(frozen=True)
class CropPath:
    """The crop window's size and its top-left corner on every frame (displayed pixels)."""

    width: int
    height: int
    times: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]


def _positions(path: CropPath, source: tuple[int, int]) -> NDArray[np.int64]:
    x = np.clip(np.round(path.x), 0, source[0] - path.width)
    y = np.clip(np.round(path.y), 0, source[1] - path.height)
    return np.stack((x, y), axis=1).astype(np.int64)


# A linear piece may be off the exact path by less than this before rounding (pixels): less
# than half a pixel, so the rendered whole-pixel position is exactly the planned one.
_PIECE_TOLERANCE = 0.4999


# Where a piece may start between whole pixels: a pan rounded to whole pixels is one straight
# line only through its unrounded start, which lies within half a pixel of the rounded one.
_START_OFFSETS = (0.0, -0.1, 0.1, -0.2, 0.2, -0.3, 0.3, -0.4, 0.4)


@dataclass(frozen=True)
class LinearPiece:
    """From frame `start` on, the position is round(value + slope * (n - start))."""

    start: int
    value: float
    slope: float

    def expression(self) -> str:
        # crop rounds its x/y to the nearest whole pixel (lrint) on every frame; `n` is the
        # frame's number in the stream, the same count as the analysis frames' index.
        if self.slope == 0:
            return str(round(self.value))
        return f"{self.value:.6g}{self.slope:+.12g}*(n-{self.start})"


def _longest_piece(values: list[int], start: int) -> tuple[int, LinearPiece]:
    """The straight piece from `start` that stays within tolerance over the most frames."""
    best_end, best = start + 1, LinearPiece(start, float(values[start]), 0.0)
    for offset in _START_OFFSETS:
        value, low, high = values[start] + offset, -np.inf, np.inf
        end = start + 1
        while end < len(values):
            frames = end - start
            new_low = max(low, (values[end] - _PIECE_TOLERANCE - value) / frames)
            new_high = min(high, (values[end] + _PIECE_TOLERANCE - value) / frames)
            if new_low > new_high:
                break
            low, high, end = new_low, new_high, end + 1
        if end > best_end:
            slope = 0.0 if low <= 0.0 <= high and offset == 0.0 else (low + high) / 2
            best_end, best = end, LinearPiece(start, value, float(slope))
    return best_end, best


def linear_pieces(positions: NDArray[np.int64]) -> list[LinearPiece]:
    """Few straight pieces (greedy) that reproduce whole-pixel `positions` exactly.

    A held position is one piece, a constant-speed pan one or a few, a tracking move a piece
    every few frames. Each piece is one ffmpeg command: ffmpeg 5.1's crop leaks its parsed
    expressions on every command (about 10 kB), so a command per frame grew the render's
    memory with the length of the clip; a command per piece keeps it flat for held and panned
    shots.
    """
    pieces: list[LinearPiece] = []
    values = [int(v) for v in positions]
    start = 0
    while start < len(values):
        start, piece = _longest_piece(values, start)
        pieces.append(piece)
    return pieces


def crop_commands(path: CropPath, source: tuple[int, int], start: float = 0.0) -> str:
    """sendcmd lines switching the crop's x and y expressions where a new linear piece begins.

    Each switch is timed halfway between frames so small timestamp offsets cannot shift it by
    a frame; the last position is pinned after the last analysed frame (a damaged tail ffmpeg
    still decodes holds it rather than extrapolating).
    """
    positions = _positions(path, source)
    lines = []
    for axis, column in (("x", 0), ("y", 1)):
        for piece in linear_pieces(positions[:, column])[1:]:
            when = start + (path.times[piece.start - 1] + path.times[piece.start]) / 2
            lines.append((when, f"crop@path {axis} {piece.expression()}"))
        if len(path.times) > 1:
            after = start + path.times[-1] + (path.times[-1] - path.times[-2]) / 2
            lines.append((after, f"crop@path {axis} {int(positions[-1, column])}"))
    lines.sort()
    return "".join(f"{when:.6f} {command};\n" for when, command in lines)


def ffmpeg_command(
    source: Path,
    output: Path,
    crop: tuple[int, int, int | str, int | str],
    size: tuple[int, int],
    copy_audio: bool | None,
    commands_file: Path | None = None,
    window: tuple[float, int] | None = None,
    thumbnail: tuple[Path, int] | None = None,
) -> list[str]:
    """The ffmpeg invocation: a (moving, with `commands_file`) crop, scaled to `size`.

    `copy_audio` None leaves the audio out; `window` (seek seconds, frames) renders only
    those frames: a segment of a split render (batch/reframer/segments.py). `thumbnail`
    (JPEG path, frame number) also writes that output frame as the thumbnail: no second
    ffmpeg seeking into the encoded video and decoding up to a keyframe interval for it."""
    width, height, x, y = crop
    steps = []
    if commands_file is not None:
        steps.append(f"sendcmd=f='{commands_file}'")
    steps += [
        f"crop@path=w={width}:h={height}:x={x}:y={y}:exact=1",
        f"scale={size[0]}:{size[1]}:flags=bicubic",
        "setsar=1",
        "format=yuv420p",
    ]
    if window is not None and window[0] > 0:
        # The first kept frame sits half a frame after the seek point: start it at zero, or
        # the constant-rate output would repeat it to fill that half frame.
        steps.append("setpts=PTS-STARTPTS")
    audio = ["-c:a", "copy"] if copy_audio else ["-c:a", "aac", "-b:a", AUDIO_BITRATE]
    if copy_audio is None:
        audio = ["-an"]
    # An input seek decodes from the keyframe before it and drops the frames before it.
    seek = ["-ss", f"{window[0]:.6f}"] if window is not None and window[0] > 0 else []
    frames = ["-frames:v", str(window[1])] if window is not None else []
    graph = f"[0:v:0]{','.join(steps)}[v]"
    still: list[str] = []
    if thumbnail is not None:
        target, frame = thumbnail
        graph = (
            f"[0:v:0]{','.join(steps)},split=2[v][t];"
            f"[t]select='eq(n,{frame})',{outputs.THUMBNAIL_SCALE}[thumb]"
        )
        still = ["-map", "[thumb]", "-frames:v", "1", "-q:v", outputs.THUMBNAIL_QUALITY,
                 "-update", "1", str(target)]  # fmt: skip
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
        *seek, *media_policy.INPUT_ARGS, "-i", media_policy.local_input(source),
        "-filter_complex", graph,
        "-map", "[v]", *([] if copy_audio is None else ["-map", "0:a:0?"]), *frames,
        "-c:v", "libx264", "-preset", X264_PRESET, "-crf", X264_CRF,
        "-profile:v", "high", "-pix_fmt", "yuv420p",
        *audio,
        "-map_metadata", "-1", "-movflags", "+faststart",
        "-progress", "pipe:1", "-nostats",
        str(output),
        *still,
    ]  # fmt: skip


def run_ffmpeg(command: list[str], duration: float, progress: Progress | None = None) -> None:
    """Run ffmpeg, reporting its progress (0..1); raise with its last error lines on failure."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - fixed program, our own arguments
            command, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        try:
            assert process.stdout is not None
            for line in process.stdout:
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and progress is not None and value.isdigit():
                    progress(min(1.0, int(value) / 1e6 / max(duration, 1e-3)))
            status = process.wait()
        finally:
            # Never leave an encoder behind (an exception or a SIGTERM got us here).
            if process.poll() is None:
                process.kill()
                process.wait()
        if status != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip().splitlines()[-3:]
            message = "; ".join(tail) or f"ffmpeg exited with status {status}"
            if "Invalid data" in message or "moov atom" in message:
                raise InvalidMedia(f"the video could not be decoded ({message})")
            raise PipelineError(f"rendering failed: {message}")


def path_command(
    info: MediaInfo,
    path: CropPath,
    size: tuple[int, int],
    output: Path,
    commands_file: Path,
    seek: float | None = None,
    thumbnail: tuple[Path, int] | None = None,
) -> list[str]:
    """The ffmpeg command rendering `path`; its sendcmd lines are written to `commands_file`.

    Shared with the benchmark's bare same-path transcode, so both run the very same command.
    With `seek`, only the path's frames from that second on, no audio."""
    source = (info.width, info.height)
    positions = _positions(path, source)
    # The first piece of each axis is the crop's initial expression (a pan from frame 0 on).
    first_x, first_y = (linear_pieces(positions[:, axis])[0].expression() for axis in (0, 1))
    # After an input seek, the filters' clock starts at the seek point.
    text = crop_commands(path, source, info.video_start - (seek or 0.0))
    if text.strip():
        commands_file.write_text(text)
    return ffmpeg_command(
        info.path,
        output,
        (path.width, path.height, first_x, first_y),
        size,
        copy_audio=info.audio_codec == "aac" if seek is None else None,
        commands_file=commands_file if text.strip() else None,
        window=None if seek is None else (seek, len(path.times)),
        thumbnail=thumbnail,
    )


def render(
    info: MediaInfo,
    path: CropPath,
    size: tuple[int, int],
    output: Path,
    progress: Progress | None = None,
    seek: float | None = None,
    thumbnail: tuple[Path, int] | None = None,
) -> None:
    """The whole video; with `seek`, only the path's frames from that second on, no audio;
    with `thumbnail` (JPEG path, frame number), that frame as the thumbnail too."""
    with tempfile.TemporaryDirectory(prefix="reframer-render-") as scratch:
        commands = Path(scratch) / "crop.cmd"
        command = path_command(info, path, size, output, commands, seek, thumbnail)
        duration = info.duration if seek is None else float(path.times[-1] - path.times[0])
        run_ffmpeg(command, duration, progress)
