"""Held-out clips: random clips made from the generated suite's parts, by seed.

The suite's clips are the ones the pipeline was tuned on; these are not. Every seed draws
another set: faces, animals, vehicles and balls, still, crossing, swinging or pausing, on
flat, textured, photographed or panning backgrounds, in one to three shots (some of them jump
cuts: the next shot on the same background), framed 9:16, 1:1 or 4:5, some noisy or
compressed. Judge a change on a seed nobody has looked at (`python -m bench quality
--held-out SEED`); a seed that was used to fix something is no longer held out. With
`--foreign` the clips are made of pictures the suite never uses (quality_foreign.py: another
man's face, a squirrel, a footballer, a mandrill, other photographs): parts nobody tuned on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from bench import quality_foreign
from bench.quality_clips import ClipSpec, PathKind, ShotSpec, Subject


@dataclass(frozen=True)
class Parts:
    faces: tuple[str, ...]
    others: tuple[str, ...]
    backgrounds: tuple[str, ...]


SUITE_PARTS = Parts(
    faces=("astronaut", "cameraman", "lfw0", "lfw1", "lfw2", "lfw3", "lfw4"),
    others=("cat", "motorcycle", "ball"),
    backgrounds=(
        "flat:3", "flat:9", "texture:gravel", "texture:brick", "texture:grass", "photo:coffee",
        "photo:rocket", "photo:hubble", "photo:retina", "pan:coffee", "pan:rocket",
    ),
)  # fmt: skip
_OPENCV = quality_foreign.PREFIX
FOREIGN_PARTS = Parts(
    faces=(f"{_OPENCV}portrait",),
    others=tuple(f"{_OPENCV}{name}" for name in ("squirrel", "footballer", "mandrill")),
    backgrounds=(
        "flat:5", "flat:11", *(f"photo:{_OPENCV}{name}" for name in quality_foreign.PHOTOS),
        f"pan:{_OPENCV}building", f"pan:{_OPENCV}fruits",
    ),
)  # fmt: skip
PATHS: tuple[PathKind, ...] = ("still", "linear", "linear", "swing", "stop_go")
ASPECTS = ("9:16", "9:16", "1:1", "4:5")
# Sources besides the suite's 1280x720 at 30 fps (width, height, fps): 4:3 to 21:9, 480p to 4K.
FORMATS = (
    (640, 480, 30), (854, 480, 25), (1920, 1080, 24), (2560, 1080, 30), (1920, 1080, 60),
    (1280, 720, 30), (3840, 2160, 30), (1440, 1080, 25),
)  # fmt: skip
# A 4K clip longer than this is made at 2560x1440: its frames take minutes to draw.
LONGEST_4K_SECONDS = 3.0


def _shot(draw: random.Random, background: str, parts: Parts) -> ShotSpec:
    # Each face twice as often as each other subject: faces are what customers film most.
    sprite = draw.choice(parts.faces + parts.faces + parts.others)
    size = draw.uniform(0.1, 0.3) if sprite == "ball" else draw.uniform(0.25, 0.6)
    path = draw.choice(PATHS)
    start = (draw.uniform(0.1, 0.9), draw.uniform(0.35, 0.65))
    end = (draw.uniform(0.1, 0.9), draw.uniform(0.35, 0.65))
    seconds = draw.choice((2.0, 3.0)) if path == "still" else draw.choice((0.9, 1.5, 2.0, 3.0, 4.0))
    return ShotSpec(seconds, background, (Subject(sprite, size, path, start, end),))


def held_out(seed: int, count: int, foreign: bool = False) -> list[ClipSpec]:
    """`count` random clips, the same ones for the same seed; made of `FOREIGN_PARTS` if
    `foreign` (other clips than the suite's parts give for that seed)."""
    parts, prefix = (FOREIGN_PARTS, "foreign") if foreign else (SUITE_PARTS, "held-out")
    clips = []
    for index in range(count):
        draw = random.Random(f"{prefix}-{seed}-{index}")
        shots: list[ShotSpec] = []
        for _ in range(draw.choice((1, 1, 2, 2, 3))):
            # A third of the cuts are jump cuts: the next shot on the same background.
            same = shots and draw.random() < 1 / 3
            background = shots[-1].background if same else draw.choice(parts.backgrounds)
            shots.append(_shot(draw, background, parts))
        clips.append(ClipSpec(
            f"{prefix}-{seed}-{index}", "held-out", tuple(shots), aspect=draw.choice(ASPECTS),
            noise=draw.choice((0.0, 0.0, 4.0)), crf=draw.choice((18, 18, 30)),
            seed=draw.randrange(1 << 30),
        ))  # fmt: skip
    return clips


def in_other_formats(clips: list[ClipSpec], seed: int) -> list[ClipSpec]:
    """The same clips, each in a format drawn by `seed` (`FORMATS`), two in five of them
    turned by rotation metadata and one in four dark (0.35 of their brightness): what
    `held_out` does not vary."""
    drawn = []
    for index, clip in enumerate(clips):
        draw = random.Random(f"fmt-{seed}-{index}")
        width, height, fps = draw.choice(FORMATS)
        if width >= 3840 and sum(s.seconds for s in clip.shots) > LONGEST_4K_SECONDS:
            width, height = 2560, 1440
        drawn.append(replace(
            clip, name=f"fmt-{clip.name.removeprefix('held-out-')}", width=width, height=height,
            fps=fps,
            rotation=draw.choice((0, 0, 0, 90, 270)), brightness=draw.choice((1.0, 1.0, 1.0, 0.35)),
        ))  # fmt: skip
    return drawn
