"""Stage 1, probe: what the input is (duration, fps, size, rotation, audio, codec), or a
clear `invalid_media` refusal when it is not a video we can read."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from batch.reframer import media_policy
from batch.reframer.errors import InvalidMedia, SourceTooLong

# The longest input we accept: past this a Batch job would run for hours, and the plan limits
# enforced by the API are far lower.
MAX_DURATION_SECONDS = 4 * 3600
MIN_SIDE = 16


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    duration: float
    fps: float
    # Size as stored in the stream, before rotation.
    coded_width: int
    coded_height: int
    # Clockwise degrees a player turns the picture to show it upright: 0, 90, 180 or 270.
    rotation: int
    video_codec: str
    pixel_format: str
    audio_streams: int
    audio_codec: str | None
    frame_count: int | None
    # Seconds from the start of the file to the first video frame, as ffmpeg's filters see it.
    video_start: float = 0.0

    @property
    def width(self) -> int:
        """Displayed width: what every later stage measures in."""
        return self.coded_height if self.rotation in (90, 270) else self.coded_width

    @property
    def height(self) -> int:
        return self.coded_width if self.rotation in (90, 270) else self.coded_height

    def summary(self) -> dict[str, Any]:
        return {
            "duration_seconds": round(self.duration, 3),
            "fps": round(self.fps, 3),
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "video_codec": self.video_codec,
            "pixel_format": self.pixel_format,
            "audio_streams": self.audio_streams,
            "audio_codec": self.audio_codec,
        }


def _ffprobe(path: Path) -> dict[str, Any]:
    command = [
        "ffprobe", "-v", "error", *media_policy.INPUT_ARGS,
        "-print_format", "json", "-show_format", "-show_streams",
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 - fixed program, the path is an argument
            [*command, media_policy.local_input(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise InvalidMedia("the file could not be read in time: it looks damaged") from error
    if done.returncode != 0:
        if media_policy.refused_format(done.stderr):
            raise InvalidMedia(
                "the file is not in an accepted video container (MP4, MOV, MKV, WebM, AVI, "
                "MPEG); playlists and concat lists are refused"
            )
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "unreadable"
        raise InvalidMedia(f"the file is not a readable video ({reason})")
    parsed: dict[str, Any] = json.loads(done.stdout or "{}")
    return parsed


def _rate(text: str | None) -> float:
    try:
        value = Fraction(text or "0")
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(value) if value > 0 else 0.0


def _rotation(stream: dict[str, Any]) -> int:
    """Clockwise display rotation from the display matrix (or the old `rotate` tag)."""
    degrees = 0.0
    for side_data in stream.get("side_data_list", []):
        if "rotation" in side_data:
            # ffprobe prints the matrix's counter-clockwise angle; players turn the other way.
            degrees = -float(side_data["rotation"])
            break
    else:
        degrees = float(stream.get("tags", {}).get("rotate", 0))
    return round(degrees / 90) % 4 * 90


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def probe(path: Path, max_duration: float | None = None) -> MediaInfo:
    """The input's facts; `max_duration` is the job's plan limit (the dispatch spec's
    `max_source_seconds`): a longer source is refused with `source_too_long`."""
    if not path.is_file() or path.stat().st_size == 0:
        raise InvalidMedia("the input file is missing or empty")
    info = _ffprobe(path)
    streams = info.get("streams", [])
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
    ]
    if not videos:
        raise InvalidMedia("the file has no video stream")
    video = videos[0]
    codec = video.get("codec_name")
    if not codec:
        raise InvalidMedia("the video stream uses a codec this service cannot decode")
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width < MIN_SIDE or height < MIN_SIDE:
        raise InvalidMedia(f"the video frame size {width}x{height} is too small or unknown")
    fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
    if not 1 <= fps <= 480:
        raise InvalidMedia("the video has no usable frame rate")
    duration = _float(video.get("duration")) or _float(info.get("format", {}).get("duration"))
    if duration <= 0:
        raise InvalidMedia("the video has no duration: it is empty or damaged")
    # Compared as reported (to the millisecond), so the API's re-check agrees.
    if max_duration is not None and round(duration, 3) > max_duration:
        raise SourceTooLong(duration, max_duration)
    if duration > MAX_DURATION_SECONDS:
        raise InvalidMedia(f"the video is longer than {MAX_DURATION_SECONDS // 3600} hours")
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    frames = video.get("nb_frames")
    return MediaInfo(
        path=path,
        duration=duration,
        fps=fps,
        coded_width=width,
        coded_height=height,
        rotation=_rotation(video),
        video_codec=str(codec),
        pixel_format=str(video.get("pix_fmt", "unknown")),
        audio_streams=len(audios),
        audio_codec=str(audios[0].get("codec_name")) if audios else None,
        frame_count=int(frames) if frames and str(frames).isdigit() else None,
        video_start=max(
            0.0,
            _float(video.get("start_time")) - _float(info.get("format", {}).get("start_time")),
        ),
    )
