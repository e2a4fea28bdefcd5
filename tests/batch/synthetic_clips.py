"""Generated test clips with known ground truth: where the subject is, where the cuts are.

Frames are composed in numpy from images scikit-image ships (a real face: `astronaut`) and
piped to Debian's ffmpeg, so nothing is downloaded and every clip is reproducible.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from skimage import data as skdata

Rgb = NDArray[np.uint8]

# The astronaut's face inside skimage's 512x512 `astronaut` image (x, y, w, h), read off the
# picture: forehead to chin, ear to ear. It is the ground truth the crop must keep.
ASTRONAUT_FACE = (178.0, 63.0, 89.0, 112.0)
ASTRONAUT_SIZE = 512


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def inside(self, left: float, top: float, width: float, height: float) -> bool:
        return (
            self.x >= left
            and self.y >= top
            and self.x + self.w <= left + width
            and self.y + self.h <= top + height
        )


@dataclass(frozen=True)
class Path2D:
    """Straight movement of a sprite's centre, in fractions of the frame, over the shot."""

    start: tuple[float, float]
    end: tuple[float, float]

    def at(self, progress: float) -> tuple[float, float]:
        return (
            self.start[0] + (self.end[0] - self.start[0]) * progress,
            self.start[1] + (self.end[1] - self.start[1]) * progress,
        )


@dataclass(frozen=True)
class Shot:
    seconds: float
    background: Literal["coffee", "rocket", "hubble"] = "coffee"
    # "face": the astronaut picture; "ball": a textured disc with no face; None: empty scene.
    subject: Literal["face", "ball"] | None = None
    path: Path2D = Path2D((0.5, 0.5), (0.5, 0.5))
    # Sprite height as a fraction of the frame height.
    subject_scale: float = 0.55


@dataclass
class GroundTruth:
    width: int
    height: int
    fps: int
    subject_boxes: list[Box | None] = field(default_factory=list)
    # Index of the first frame of every shot but the first.
    cut_frames: list[int] = field(default_factory=list)
    shot_subjects: list[str | None] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return len(self.subject_boxes)


@cache
def _background(name: str, width: int, height: int) -> Rgb:
    source = {"coffee": skdata.coffee, "rocket": skdata.rocket, "hubble": skdata.hubble_deep_field}
    image = Image.fromarray(source[name]()).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8).copy()


@cache
def _astronaut(side: int) -> Rgb:
    image = Image.fromarray(skdata.astronaut()).resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8).copy()


@cache
def _ball(side: int) -> tuple[Rgb, NDArray[np.bool_]]:
    yy, xx = np.mgrid[0:side, 0:side]
    radius = side / 2
    mask = (xx - radius + 0.5) ** 2 + (yy - radius + 0.5) ** 2 <= radius**2
    checks = ((xx // max(side // 8, 1) + yy // max(side // 8, 1)) % 2).astype(bool)
    ball = np.zeros((side, side, 3), np.uint8)
    ball[checks] = (230, 40, 40)
    ball[~checks] = (250, 220, 60)
    return ball, mask


def _paste(frame: Rgb, sprite: Rgb, mask: NDArray[np.bool_] | None, left: int, top: int) -> None:
    height, width = frame.shape[:2]
    side_h, side_w = sprite.shape[:2]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + side_w, width), min(top + side_h, height)
    if x0 >= x1 or y0 >= y1:
        return
    part = sprite[y0 - top : y1 - top, x0 - left : x1 - left]
    if mask is None:
        frame[y0:y1, x0:x1] = part
    else:
        keep = mask[y0 - top : y1 - top, x0 - left : x1 - left]
        frame[y0:y1, x0:x1][keep] = part[keep]


def _frames(
    shots: list[Shot], width: int, height: int, fps: int, truth: GroundTruth
) -> Iterator[Rgb]:
    for index, shot in enumerate(shots):
        if index > 0:
            truth.cut_frames.append(truth.frame_count)
        truth.shot_subjects.append(shot.subject)
        count = round(shot.seconds * fps)
        background = _background(shot.background, width, height)
        side = round(shot.subject_scale * height) // 2 * 2
        for frame_index in range(count):
            progress = frame_index / max(count - 1, 1)
            frame = background.copy()
            box: Box | None = None
            if shot.subject is not None:
                cx, cy = shot.path.at(progress)
                left, top = round(cx * width - side / 2), round(cy * height - side / 2)
                if shot.subject == "face":
                    _paste(frame, _astronaut(side), None, left, top)
                    scale = side / ASTRONAUT_SIZE
                    fx, fy, fw, fh = ASTRONAUT_FACE
                    box = Box(left + fx * scale, top + fy * scale, fw * scale, fh * scale)
                else:
                    sprite, mask = _ball(side)
                    _paste(frame, sprite, mask, left, top)
                    box = Box(left, top, side, side)
            truth.subject_boxes.append(box)
            yield frame


def make_clip(
    path: Path,
    shots: list[Shot],
    *,
    width: int = 1920,
    height: int = 1080,
    fps: int = 30,
    audio: bool = True,
    preset: str = "veryfast",
) -> GroundTruth:
    """Encode the shots into an H.264 (+ AAC tone) MP4 and return where the subject was."""
    truth = GroundTruth(width=width, height=height, fps=fps)
    seconds = sum(round(shot.seconds * fps) for shot in shots) / fps
    command = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    command += ["-s", f"{width}x{height}", "-r", str(fps), "-i", "pipe:0"]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    command += ["-c:v", "libx264", "-preset", preset, "-crf", "20", "-pix_fmt", "yuv420p"]
    if audio:
        command += ["-c:a", "aac", "-b:a", "128k"]
    command += ["-movflags", "+faststart", str(path)]
    encoder = subprocess.Popen(command, stdin=subprocess.PIPE)
    assert encoder.stdin is not None
    try:
        for frame in _frames(shots, width, height, fps, truth):
            encoder.stdin.write(frame.tobytes())
    finally:
        encoder.stdin.close()
        if encoder.wait() != 0:
            raise RuntimeError(f"ffmpeg could not encode {path}")
    return truth
