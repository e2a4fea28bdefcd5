"""The generated clips of the quality benchmark, by class: what customers bring.

Classes: still subjects, slow, fast (crossing the frame in under a second), paths (swinging,
stop-and-go, leaving and re-entering), several subjects, cuts (different scenes, two angles of
one scene, fades, dissolves), degraded pictures (noise and compression, dark, rotation
metadata), source and output formats (21:9, 4:3 480p, 4K; 9:16, 1:1, 4:5) and subjects without
a face. Clips are a few seconds long and mostly 720p so the whole suite stays cheap; `QUICK`
is one clip per class.
"""

from __future__ import annotations

from bench.quality_clips import ClipSpec, ShotSpec, Subject

S = Subject


def _clips() -> list[ClipSpec]:
    return [
        # Still subjects: the crop must not move at all.
        ClipSpec("still-face-offcentre", "still", (
            ShotSpec(3, "photo:coffee", (S("astronaut", 0.6, "still", (0.25, 0.5)),)),
        ), seed=1),
        ClipSpec("still-small-face-texture", "still", (
            ShotSpec(3, "texture:gravel", (S("lfw0", 0.3, "still", (0.75, 0.45)),)),
        ), seed=2),
        # Slow subjects.
        ClipSpec("slow-walk-photo", "slow", (
            ShotSpec(4, "photo:rocket", (S("cameraman", 0.7, "linear", (0.3, 0.55), (0.6, 0.5)),)),
        ), seed=3),
        ClipSpec("slow-cat-flat", "slow", (
            ShotSpec(4, "flat:4", (S("cat", 0.4, "linear", (0.75, 0.5), (0.4, 0.55)),)),
        ), aspect="1:1", seed=4),
        # Fast: crossing most of the frame in under a second, then a cut to a still shot.
        ClipSpec("fast-face-cross-then-still", "fast", (
            ShotSpec(0.9, "photo:coffee", (S("astronaut", 0.5, "linear", (0.12, 0.5), (0.88, 0.5)),)),
            ShotSpec(2, "photo:rocket", (S("astronaut", 0.5, "still", (0.8, 0.5)),)),
        ), seed=5),
        ClipSpec("fast-ball-swing", "fast", (
            ShotSpec(3, "texture:brick", (S("ball", 0.25, "swing", (0.1, 0.5), (0.9, 0.5)),)),
        ), seed=6),
        ClipSpec("fast-lfw-cross", "fast", (
            ShotSpec(2, "photo:hubble", (S("lfw1", 0.45, "linear", (0.9, 0.45), (0.1, 0.55)),)),
        ), seed=7),
        # Paths.
        ClipSpec("path-stop-go", "paths", (
            ShotSpec(4, "photo:retina", (S("lfw2", 0.45, "stop_go", (0.15, 0.5), (0.85, 0.5)),)),
        ), seed=8),
        ClipSpec("path-leave-return", "paths", (
            ShotSpec(4, "texture:grass", (S("astronaut", 0.45, "leave_return", (0.5, 0.5), (1.4, 0.5)),)),
        ), seed=9),
        ClipSpec("path-swing-vertical-4x5", "paths", (
            ShotSpec(4, "photo:coffee", (S("cameraman", 0.4, "swing", (0.2, 0.3), (0.8, 0.7)),)),
        ), aspect="4:5", seed=10),
        # Several subjects: a primary face and others; two that fit together; three.
        ClipSpec("multi-two-faces", "multi", (
            ShotSpec(3, "photo:rocket", (
                S("astronaut", 0.5, "linear", (0.3, 0.5), (0.4, 0.5)),
                S("lfw3", 0.25, "still", (0.85, 0.35)),
            )),
        ), seed=11),
        ClipSpec("multi-three-subjects", "multi", (
            ShotSpec(4, "texture:brick", (
                S("lfw4", 0.5, "linear", (0.7, 0.5), (0.35, 0.5)),
                S("ball", 0.2, "swing", (0.1, 0.8), (0.9, 0.8)),
                S("cat", 0.25, "still", (0.12, 0.3)),
            )),
        ), seed=12),
        ClipSpec("multi-ball-beside-edge-mover", "multi", (
            ShotSpec(2.5, "photo:rocket", (
                S("ball", 0.12, "linear", (0.3, 0.3), (0.85, 0.7)),
                S("panel", 1.0, "swing", (-0.1, 0.5), (0.0, 0.5)),
            )),
        ), seed=25),
        # The same over a photograph with no face in it, whose coffee cup the face detector
        # half takes for one (scores 0.6-0.73): a false face must not become the subject.
        ClipSpec("multi-ball-over-faceless-photo", "multi", (
            ShotSpec(2.5, "photo:coffee", (
                S("ball", 0.12, "linear", (0.3, 0.3), (0.85, 0.7)),
                S("panel", 1.0, "swing", (-0.1, 0.5), (0.0, 0.5)),
            )),
        ), seed=26),
        # Cuts of every kind.
        ClipSpec("cut-different-scenes", "cuts", (
            ShotSpec(1.5, "photo:coffee", (S("astronaut", 0.5, "still", (0.3, 0.5)),)),
            ShotSpec(1.5, "texture:gravel", (S("ball", 0.3, "linear", (0.2, 0.5), (0.7, 0.5)),)),
            ShotSpec(1.5, "photo:hubble", (S("lfw0", 0.45, "still", (0.7, 0.45)),)),
        ), seed=13),
        ClipSpec("cut-same-scene-angles", "cuts", (
            ShotSpec(2, "photo:coffee", (S("cameraman", 0.6, "linear", (0.2, 0.5), (0.45, 0.5)),)),
            ShotSpec(2, "angle:coffee", (S("cameraman", 0.75, "still", (0.78, 0.5)),)),
            ShotSpec(1.5, "photo:coffee", (S("cameraman", 0.6, "still", (0.3, 0.5)),)),
        ), seed=14),
        ClipSpec("cut-fade-and-dissolve", "cuts", (
            ShotSpec(2, "photo:rocket", (S("astronaut", 0.5, "still", (0.25, 0.5)),)),
            ShotSpec(2, "photo:retina", (S("lfw1", 0.45, "still", (0.75, 0.5)),), "fade"),
            ShotSpec(2, "texture:grass", (S("cat", 0.4, "linear", (0.3, 0.5), (0.6, 0.5)),), "dissolve"),
        ), seed=15),
        # Degraded pictures.
        ClipSpec("noisy-compressed", "degraded", (
            ShotSpec(3, "photo:hubble", (S("astronaut", 0.5, "linear", (0.2, 0.5), (0.75, 0.5)),)),
        ), noise=12.0, crf=36, seed=16),
        ClipSpec("dark-scene", "degraded", (
            ShotSpec(3, "photo:coffee", (S("cameraman", 0.55, "linear", (0.75, 0.5), (0.3, 0.5)),)),
        ), brightness=0.3, noise=3.0, seed=17),
        ClipSpec("rotated-phone", "degraded", (
            ShotSpec(3, "photo:rocket", (S("lfw2", 0.45, "linear", (0.25, 0.5), (0.7, 0.5)),)),
        ), rotation=90, seed=18),
        # Source and output formats.
        ClipSpec("wide-21x9", "formats", (
            ShotSpec(3, "pan:coffee", (S("astronaut", 0.55, "linear", (0.15, 0.5), (0.8, 0.5)),)),
        ), width=1680, height=720, seed=19),
        ClipSpec("sd-4x3-square", "formats", (
            ShotSpec(3, "photo:retina", (S("lfw3", 0.4, "linear", (0.2, 0.4), (0.8, 0.6)),)),
        ), width=640, height=480, aspect="1:1", seed=20),
        ClipSpec("uhd-4k", "formats", (
            ShotSpec(1.5, "photo:rocket", (S("astronaut", 0.4, "linear", (0.7, 0.5), (0.35, 0.5)),)),
        ), width=3840, height=2160, seed=21),
        ClipSpec("hd-1080-4x5", "formats", (
            ShotSpec(3, "texture:brick", (S("cameraman", 0.5, "swing", (0.3, 0.5), (0.7, 0.5)),)),
        ), width=1920, height=1080, aspect="4:5", seed=22),
        # Subjects without a face.
        ClipSpec("nonface-motorcycle", "nonface", (
            ShotSpec(3, "texture:gravel", (S("motorcycle", 0.28, "linear", (0.85, 0.6), (0.2, 0.6)),)),
        ), seed=23),
        ClipSpec("nonface-cat-panning", "nonface", (
            ShotSpec(3, "pan:rocket", (S("cat", 0.4, "linear", (0.3, 0.5), (0.7, 0.5)),)),
        ), seed=24),
    ]  # fmt: skip


SUITE = _clips()
CLASSES = list(dict.fromkeys(spec.kind for spec in SUITE))
# One clip per class, the hardest of it: the quick mode.
QUICK_NAMES = (
    "still-face-offcentre", "slow-cat-flat", "fast-face-cross-then-still", "path-leave-return",
    "multi-three-subjects", "cut-same-scene-angles", "dark-scene", "sd-4x3-square",
    "nonface-motorcycle",
)  # fmt: skip
QUICK = [spec for spec in SUITE if spec.name in QUICK_NAMES]
FASTEST_CLASS = "fast"
