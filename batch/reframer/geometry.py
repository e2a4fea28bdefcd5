"""Boxes, aspect ratios and output sizes: the arithmetic every stage shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AspectName = Literal["9:16", "1:1", "4:5"]
ResolutionName = Literal["480p", "720p", "1080p", "2160p"]

ASPECTS: dict[str, tuple[int, int]] = {"9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5)}
# A resolution names the output's short side, which is its width for these portrait or
# square outputs (1080p + 9:16 -> 1080x1920).
RESOLUTIONS: dict[str, int] = {"480p": 480, "720p": 720, "1080p": 1080, "2160p": 2160}


def even(value: float) -> int:
    """The nearest even integer, at least 2: H.264 with 4:2:0 chroma needs even sizes."""
    return max(2, round(value / 2) * 2)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels of the displayed (rotation-applied) source frame."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def area(self) -> float:
        return self.w * self.h

    def scaled(self, factor: float) -> Box:
        return Box(self.x * factor, self.y * factor, self.w * factor, self.h * factor)

    def union(self, other: Box) -> Box:
        left, top = min(self.x, other.x), min(self.y, other.y)
        return Box(
            left, top, max(self.right, other.right) - left, max(self.bottom, other.bottom) - top
        )

    def intersection(self, other: Box) -> float:
        """The area the two boxes share."""
        w = min(self.right, other.right) - max(self.x, other.x)
        h = min(self.bottom, other.bottom) - max(self.y, other.y)
        return w * h if w > 0 and h > 0 else 0.0

    def iou(self, other: Box) -> float:
        inter = self.intersection(other)
        return inter / (self.area + other.area - inter) if inter else 0.0

    def overlap(self, other: Box) -> float:
        """The share of the smaller box that lies inside the other (1 for nested boxes)."""
        inter = self.intersection(other)
        return inter / min(self.area, other.area) if inter else 0.0

    def inside(self, x: float, y: float, w: float, h: float) -> bool:
        """True when this box lies fully inside the window (x, y, w, h), half a pixel allowed."""
        slack = 0.5
        return (
            self.x >= x - slack
            and self.y >= y - slack
            and self.right <= x + w + slack
            and self.bottom <= y + h + slack
        )


@dataclass(frozen=True)
class OutputSpec:
    aspect: AspectName = "9:16"
    resolution: ResolutionName = "1080p"

    @property
    def size(self) -> tuple[int, int]:
        """Output (width, height): exactly what was asked for, always even."""
        aw, ah = ASPECTS[self.aspect]
        short = RESOLUTIONS[self.resolution]
        if aw <= ah:
            return even(short), even(short * ah / aw)
        return even(short * aw / ah), even(short)


def crop_window(source_w: int, source_h: int, aspect: AspectName) -> tuple[int, int]:
    """The largest window of the target aspect that fits in the source, even-sized."""
    aw, ah = ASPECTS[aspect]
    if source_w * ah > source_h * aw:
        height = source_h - source_h % 2
        width = min(even(height * aw / ah), source_w - source_w % 2)
    else:
        width = source_w - source_w % 2
        height = min(even(width * ah / aw), source_h - source_h % 2)
    return width, height
