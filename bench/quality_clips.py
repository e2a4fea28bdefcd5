"""Generated clips with exact per-frame ground truth for the quality benchmark.

Every picture comes from images that packages ship (scikit-image's data folder: real face
photographs of several people, a cat, a motorcycle, textures, photographs; for foreign
held-out clips, OpenCV's sample pictures from Debian's opencv-doc, fetched once:
quality_foreign.py), composed in numpy and piped to Debian's ffmpeg. A clip is a list of
shots, each with a background and up to three subjects moving along a path; the generator
records where the primary subject's box is on every frame and where the cuts are, so the
truth is exact by construction and reproducible by seed.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from skimage import data as skdata

from bench import quality_foreign

Rgb = NDArray[np.uint8]
Transition = Literal["cut", "fade", "dissolve"]
PathKind = Literal["still", "linear", "swing", "stop_go", "leave_return"]
# Frames a fade or dissolve lasts.
TRANSITION_FRAMES = 12


@dataclass(frozen=True)
class Sprite:
    """A picture pasted into the frame and the box inside it the crop must keep (x, y, w, h,
    as fractions of the sprite), e.g. the face of a portrait."""

    image: Rgb
    keep: tuple[float, float, float, float]
    face: bool


def _crop(image: Rgb, left: int, top: int, right: int, bottom: int) -> Rgb:
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[top:bottom, left:right, :3])


def _face_box(
    region: tuple[int, int, int, int], face: tuple[int, int, int, int]
) -> tuple[float, float, float, float]:
    """A face box (x, y, w, h in image pixels) as fractions of a cropped region."""
    left, top, right, bottom = region
    w, h = right - left, bottom - top
    return ((face[0] - left) / w, (face[1] - top) / h, face[2] / w, face[3] / h)


# Face boxes read off the pictures by eye (forehead to chin, ear to ear), in image pixels.
_ASTRONAUT = ((110, 10, 340, 330), (178, 63, 89, 112))
_CAMERAMAN = ((60, 40, 360, 420), (168, 95, 85, 112))
# Aligned 25x25 portraits of five different people from scikit-image's LFW subset.
_LFW_PEOPLE = (0, 1, 2, 3, 7)


def image_float(name: str) -> Any:
    loader: Callable[[], Any] = getattr(skdata, name)
    return loader()


def image(name: str) -> Rgb:
    """One of the pictures scikit-image ships, by the name of its loader (typed here: the
    loaders are not)."""
    loader: Callable[[], Any] = getattr(skdata, name)
    return np.asarray(loader(), dtype=np.uint8)


@cache
def sprite(name: str) -> Sprite:
    if name == "astronaut":
        region, face = _ASTRONAUT
        return Sprite(_crop(image("astronaut"), *region), _face_box(region, face), True)
    if name == "cameraman":
        region, face = _CAMERAMAN
        return Sprite(_crop(image("camera"), *region), _face_box(region, face), True)
    if name.startswith("lfw"):
        tile = (np.asarray(image_float("lfw_subset"))[_LFW_PEOPLE[int(name[3:])]] * 255).astype(
            np.uint8
        )
        # A grey shirt below the face, so the portrait is a head and shoulders, not a tile.
        body = np.full((40, 25), 70, np.uint8)
        portrait = np.concatenate((tile, body), axis=0)
        return Sprite(_crop(portrait, 0, 0, 25, 65), (0.1, 0.03, 0.8, 0.34), True)
    if name == "cat":
        return Sprite(_crop(image("chelsea"), 60, 10, 330, 300), (0.0, 0.0, 1.0, 1.0), False)
    if name == "motorcycle":
        bike = np.asarray(image_float("stereo_motorcycle")[0], np.uint8)
        return Sprite(_crop(bike, 100, 150, 650, 500), (0.0, 0.0, 1.0, 1.0), False)
    if name == "panel":
        # A tall board of gravel, no class a detector knows: a door or a person's side that
        # swings at the picture's edge, mostly out of it.
        board = np.asarray(image("gravel"), np.uint8)[:, :200]
        return Sprite(np.stack([board] * 3, axis=-1), (0.0, 0.0, 1.0, 1.0), False)
    if name.startswith(quality_foreign.PREFIX):
        return _foreign_sprite(name.removeprefix(quality_foreign.PREFIX))
    if name == "ball":
        side = 256
        yy, xx = np.mgrid[0:side, 0:side]
        checks = ((xx // 32 + yy // 32) % 2).astype(bool)
        ball = np.zeros((side, side, 3), np.uint8)
        ball[checks] = (230, 40, 40)
        ball[~checks] = (250, 220, 60)
        return Sprite(ball, (0.0, 0.0, 1.0, 1.0), False)
    raise ValueError(f"unknown sprite {name!r}")


def _foreign_sprite(name: str) -> Sprite:
    found = quality_foreign.SPRITES[name]
    image = quality_foreign.picture(found.file)
    height, width = image.shape[:2]
    region = found.region or (0, 0, width, height)
    keep = (0.0, 0.0, 1.0, 1.0) if found.face is None else _face_box(region, found.face)
    return Sprite(_crop(image, *region), keep, found.face is not None)


@cache
def _scaled_sprite(name: str, height: int) -> Rgb:
    picture = sprite(name).image
    width = max(2, round(picture.shape[1] * height / picture.shape[0]))
    resized = Image.fromarray(picture).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8).copy()


@dataclass(frozen=True)
class Subject:
    sprite: str
    # Sprite height as a share of the frame height.
    size: float
    path: PathKind
    start: tuple[float, float]
    end: tuple[float, float] = (0.5, 0.5)

    def centre(self, progress: float, seconds: float) -> tuple[float, float]:
        """The sprite's centre in fractions of the frame at `progress` (0..1) of the shot."""
        (x0, y0), (x1, y1) = self.start, self.end
        if self.path == "still":
            return x0, y0
        if self.path == "linear":
            return x0 + (x1 - x0) * progress, y0 + (y1 - y0) * progress
        if self.path == "swing":
            # Back and forth between start and end, a full swing every 2 s.
            phase = 0.5 - 0.5 * math.cos(2 * math.pi * progress * seconds / 2.0)
            return x0 + (x1 - x0) * phase, y0 + (y1 - y0) * phase
        if self.path == "stop_go":
            # Move a third, stop, move the rest: a walker pausing.
            steps = (0.0, 0.25, 0.5, 0.75, 1.0)
            done = (0.0, 0.5, 0.5, 1.0, 1.0)
            share = float(np.interp(progress, steps, done))
            return x0 + (x1 - x0) * share, y0 + (y1 - y0) * share
        # leave_return: out past the end point (off the frame) and back to the start.
        share = 1.0 - abs(1.0 - 2.0 * progress)
        return x0 + (x1 - x0) * share, y0 + (y1 - y0) * share


@dataclass(frozen=True)
class ShotSpec:
    seconds: float
    # "flat:<seed>", "texture:<gravel|brick|grass>", "photo:<coffee|rocket|hubble|retina>"
    # (or "photo:opencv:<name>", one of quality_foreign.PHOTOS),
    # "angle:<photo>" (a second camera angle of that photo: zoomed, shifted, same colours),
    # "pan:<photo>" (the photo scrolling past, as when the camera pans).
    background: str
    subjects: tuple[Subject, ...] = ()
    # How this shot begins (ignored for the first).
    transition: Transition = "cut"


@dataclass(frozen=True)
class ClipSpec:
    name: str
    kind: str
    shots: tuple[ShotSpec, ...]
    width: int = 1280
    height: int = 720
    fps: int = 30
    aspect: str = "9:16"
    # Gaussian noise (0..255 standard deviation), brightness factor, x264 crf.
    noise: float = 0.0
    brightness: float = 1.0
    crf: int = 18
    rotation: int = 0
    seed: int = 0

    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Truth:
    """Per frame: the primary subject's box (None when it is not in the picture or during a
    transition) and every subject's box; the transitions as (first, last) frame spans."""

    width: int
    height: int
    fps: float
    boxes: list[tuple[float, float, float, float] | None] = field(default_factory=list)
    all_boxes: list[list[tuple[float, float, float, float]]] = field(default_factory=list)
    # Per frame: the shot it belongs to.
    shot_of: list[int] = field(default_factory=list)
    # Each cut as the (first, last) frame of its transition: equal for a hard cut.
    cuts: list[tuple[int, int]] = field(default_factory=list)
    # Per shot: True when nothing moves in it (subjects and background still).
    still_shots: list[bool] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return len(self.boxes)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Truth:
        truth = cls(**data)  # type: ignore[arg-type]
        truth.boxes = [None if b is None else tuple(b) for b in truth.boxes]  # type: ignore[misc]
        truth.cuts = [tuple(c) for c in truth.cuts]  # type: ignore[misc]
        return truth


@cache
def _photo(name: str) -> Rgb:
    if name.startswith(quality_foreign.PREFIX):
        return quality_foreign.photo(name.removeprefix(quality_foreign.PREFIX))
    loader = {"hubble": "hubble_deep_field"}.get(name, name)
    return image(loader)[:, :, :3]


def _resize(image: Rgb, width: int, height: int) -> Rgb:
    resized = Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8).copy()


@cache
def _background(spec: str, width: int, height: int) -> Rgb:
    kind, _, name = spec.partition(":")
    if kind == "flat":
        colour = np.random.default_rng(int(name or 0)).integers(30, 220, 3)
        return np.broadcast_to(colour.astype(np.uint8), (height, width, 3)).copy()
    if kind == "texture":
        tile = image(name)
        tile = np.stack([tile] * 3, axis=-1) if tile.ndim == 2 else tile[:, :, :3]
        reps = (-(-height // tile.shape[0]), -(-width // tile.shape[1]), 1)
        return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])
    if kind == "angle":
        # The same scene seen closer and from the side: a zoomed, shifted crop of the photo.
        photo = _photo(name)
        h, w = photo.shape[:2]
        part = photo[int(h * 0.15) : int(h * 0.85), int(w * 0.25) : int(w * 0.95)]
        return _resize(part, width, height)
    if kind == "pan":
        # Twice as wide as the frame; the frames slide across it.
        return _resize(_photo(name), width * 2, height)
    return _resize(_photo(name), width, height)


def _paste(frame: Rgb, picture: Rgb, left: int, top: int) -> None:
    height, width = frame.shape[:2]
    side_h, side_w = picture.shape[:2]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + side_w, width), min(top + side_h, height)
    if x0 < x1 and y0 < y1:
        frame[y0:y1, x0:x1] = picture[y0 - top : y1 - top, x0 - left : x1 - left]


def _visible(
    box: tuple[float, float, float, float], width: int, height: int
) -> tuple[float, float, float, float] | None:
    """The part of a box inside the frame; None when less than half of it is visible."""
    x, y, w, h = box
    left, top = max(x, 0.0), max(y, 0.0)
    right, bottom = min(x + w, float(width)), min(y + h, float(height))
    if right <= left or bottom <= top or (right - left) * (bottom - top) < 0.5 * w * h:
        return None
    return (left, top, right - left, bottom - top)


def _shot_frames(
    shot: ShotSpec, spec: ClipSpec, first: int
) -> Iterator[tuple[Rgb, tuple[float, float, float, float] | None, list[tuple[float, ...]]]]:
    width, height = spec.width, spec.height
    count = round(shot.seconds * spec.fps)
    background = _background(shot.background, width, height)
    for index in range(count):
        progress = index / max(count - 1, 1)
        if shot.background.startswith("pan:"):
            offset = round(progress * (background.shape[1] - width) * 0.5)
            frame = background[:, offset : offset + width].copy()
        else:
            frame = background.copy()
        boxes: list[tuple[float, ...]] = []
        primary = None
        # The primary subject (the first) is drawn last: in front of the others.
        for order, subject in reversed(list(enumerate(shot.subjects))):
            sprite_height = max(8, round(subject.size * height))
            picture = _scaled_sprite(subject.sprite, sprite_height)
            cx, cy = subject.centre(progress, shot.seconds)
            left = round(cx * width - picture.shape[1] / 2)
            top = round(cy * height - picture.shape[0] / 2)
            _paste(frame, picture, left, top)
            kx, ky, kw, kh = sprite(subject.sprite).keep
            sw, sh = picture.shape[1], picture.shape[0]
            box = (left + kx * sw, top + ky * sh, kw * sw, kh * sh)
            boxes.append(box)
            if order == 0:
                primary = _visible(box, width, height)
        yield frame, primary, boxes[::-1]


def _degrade(frame: Rgb, spec: ClipSpec, rng: np.random.Generator) -> Rgb:
    if spec.brightness == 1.0 and spec.noise == 0.0:
        return frame
    values = frame.astype(np.float32) * spec.brightness
    if spec.noise:
        values += rng.normal(0.0, spec.noise, values.shape).astype(np.float32)
    degraded: Rgb = np.clip(values, 0, 255).astype(np.uint8)
    return degraded


def _blend(a: Rgb, b: Rgb, share: float) -> Rgb:
    return (a.astype(np.float32) * (1 - share) + b.astype(np.float32) * share).astype(np.uint8)


def frames(spec: ClipSpec, truth: Truth) -> Iterator[Rgb]:
    """The clip's frames, in order, filling `truth` as they go."""
    rng = np.random.default_rng(spec.seed)
    held: list[tuple[Rgb, object, list[tuple[float, ...]]]] = []
    for number, shot in enumerate(spec.shots):
        moving = any(s.path != "still" for s in shot.subjects) or shot.background.startswith("pan:")
        truth.still_shots.append(not moving)
        produced = _shot_frames(shot, spec, truth.frames)
        if number > 0 and shot.transition != "cut":
            # Fades and dissolves overlap the end of the previous shot held back in `held`.
            span = len(held)
            start = truth.frames
            truth.cuts.append((start, start + span - 1))
            black = np.zeros_like(held[0][0])
            for step, (old, _box, _boxes) in enumerate(held):
                new, _new_box, new_boxes = next(produced)
                share = (step + 1) / (span + 1)
                if shot.transition == "dissolve":
                    picture = _blend(old, new, share)
                elif share < 0.5:
                    picture = _blend(old, black, share * 2)
                else:
                    picture = _blend(black, new, share * 2 - 1)
                truth.boxes.append(None)
                truth.all_boxes.append([tuple(b) for b in new_boxes])  # type: ignore[misc]
                truth.shot_of.append(number)
                yield _degrade(picture, spec, rng)
            held = []
        elif number > 0:
            truth.cuts.append((truth.frames + len(held), truth.frames + len(held)))
        for old, box, boxes in held:
            truth.boxes.append(box)  # type: ignore[arg-type]
            truth.all_boxes.append([tuple(b) for b in boxes])  # type: ignore[misc]
            truth.shot_of.append(number - 1)
            yield _degrade(old, spec, rng)
        held = []
        following = spec.shots[number + 1] if number + 1 < len(spec.shots) else None
        pending = list(produced)
        keep = TRANSITION_FRAMES if following and following.transition != "cut" else 0
        for frame, box, boxes in pending[: len(pending) - keep]:
            truth.boxes.append(box)
            truth.all_boxes.append([tuple(b) for b in boxes])  # type: ignore[misc]
            truth.shot_of.append(number)
            yield _degrade(frame, spec, rng)
        held = [(f, b, bs) for f, b, bs in pending[len(pending) - keep :]] if keep else []


def _rotated_for_storage(frame: Rgb, rotation: int) -> Rgb:
    # Stored turned back by the rotation the player applies (clockwise), so it displays upright.
    return np.ascontiguousarray(np.rot90(frame, k=-(rotation // 90))) if rotation else frame


def generate(spec: ClipSpec, folder: Path) -> tuple[Path, Truth]:
    """The clip's MP4 and its truth, generated once and cached under `folder` by content."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec.name}-{spec.key()}.mp4"
    truth_file = path.with_suffix(".truth.json")
    if path.exists() and truth_file.exists():
        return path, Truth.from_json(json.loads(truth_file.read_text()))
    truth = Truth(spec.width, spec.height, float(spec.fps))
    stored = (spec.height, spec.width) if spec.rotation in (90, 270) else (spec.width, spec.height)
    part = path.with_suffix(".part.mp4")
    command = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    command += ["-s", f"{stored[0]}x{stored[1]}", "-r", str(spec.fps), "-i", "pipe:0"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", str(spec.crf)]
    command += ["-pix_fmt", "yuv420p", "-movflags", "+faststart", str(part)]
    encoder = subprocess.Popen(command, stdin=subprocess.PIPE)
    assert encoder.stdin is not None
    try:
        for frame in frames(spec, truth):
            encoder.stdin.write(_rotated_for_storage(frame, spec.rotation).tobytes())
    finally:
        encoder.stdin.close()
        if encoder.wait() != 0:
            raise RuntimeError(f"ffmpeg could not encode {path}")
    if spec.rotation:
        # The display matrix a phone writes: players (and the pipeline) turn the picture.
        rotated = path.with_suffix(".rot.mp4")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(part), "-c", "copy",
             "-metadata:s:v:0", f"rotate={spec.rotation}", str(rotated)],
            check=True,
        )  # fmt: skip
        rotated.replace(part)
    part.replace(path)
    truth_file.write_text(json.dumps(truth.to_json()))
    return path, truth
