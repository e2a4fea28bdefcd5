"""Stage 8, render: ffmpeg applies the crop path, scales to the output size, keeps the audio,
and writes H.264 + AAC MP4 with the index up front (faststart) for streaming playback.

The crop moves through ffmpeg's `sendcmd` filter: one command per frame where the position
changes, timed halfway between frames so small timestamp offsets cannot shift it by a frame.
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


def crop_commands(path: CropPath, source: tuple[int, int], start: float = 0.0) -> str:
    """sendcmd lines moving the crop wherever its whole-pixel position changes."""
    positions = _positions(path, source)
    lines = []
    for i in range(1, len(positions)):
        if (positions[i] != positions[i - 1]).any():
            when = start + (path.times[i - 1] + path.times[i]) / 2
            x, y = positions[i]
            lines.append(f"{when:.6f} crop@path x {x}, crop@path y {y};")
    return "\n".join(lines) + "\n"


def ffmpeg_command(
    source: Path,
    output: Path,
    crop: tuple[int, int, int, int],
    size: tuple[int, int],
    copy_audio: bool,
    commands_file: Path | None = None,
) -> list[str]:
    """The ffmpeg invocation: a (moving, with `commands_file`) crop, scaled to `size`."""
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
    audio = ["-c:a", "copy"] if copy_audio else ["-c:a", "aac", "-b:a", AUDIO_BITRATE]
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
        "-i", str(source),
        "-filter_complex", f"[0:v:0]{','.join(steps)}[v]",
        "-map", "[v]", "-map", "0:a:0?",
        "-c:v", "libx264", "-preset", X264_PRESET, "-crf", X264_CRF,
        "-profile:v", "high", "-pix_fmt", "yuv420p",
        *audio,
        "-map_metadata", "-1", "-movflags", "+faststart",
        "-progress", "pipe:1", "-nostats",
        str(output),
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


def render(
    info: MediaInfo,
    path: CropPath,
    size: tuple[int, int],
    output: Path,
    progress: Progress | None = None,
) -> None:
    source = (info.width, info.height)
    first = _positions(path, source)[0]
    with tempfile.TemporaryDirectory(prefix="reframer-render-") as scratch:
        text = crop_commands(path, source, info.video_start)
        commands = Path(scratch) / "crop.cmd" if text.strip() else None
        if commands is not None:
            commands.write_text(text)
        command = ffmpeg_command(
            info.path,
            output,
            (path.width, path.height, int(first[0]), int(first[1])),
            size,
            copy_audio=info.audio_codec == "aac",
            commands_file=commands,
        )
        run_ffmpeg(command, info.duration, progress)
