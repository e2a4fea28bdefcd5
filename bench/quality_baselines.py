"""The crop paths the pipeline is compared with: a fixed centre crop, and a naive tracker that
runs the same face detector (and, without a face, the same motion finder) on every frame and
centres the crop on what it found, with no smoothing and no shot detection."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from batch.reframer import decode, probe
from batch.reframer.faces import detect_faces
from batch.reframer.geometry import AspectName, crop_window
from batch.reframer.motion import MotionDetector
from bench.quality_metrics import FloatArray


def window_for(width: int, height: int, aspect: str) -> tuple[int, int]:
    name: AspectName = aspect  # type: ignore[assignment]
    return crop_window(width, height, name)


def centre(width: int, height: int, frames: int, aspect: str) -> tuple[FloatArray, FloatArray]:
    w, h = window_for(width, height, aspect)
    return np.full(frames, float((width - w) // 2)), np.full(frames, float((height - h) // 2))


def naive(source: Path, aspect: str) -> tuple[FloatArray, FloatArray]:
    """Detect on every frame and centre the crop on the largest face, else on the motion."""
    info = probe.probe(source)
    layout = decode.geometry(info)
    every = decode.AnalysisGeometry(1, layout.detection_size, layout.thumbnail_size,
                                    layout.source_size)  # fmt: skip
    w, h = window_for(info.width, info.height, aspect)
    motion = MotionDetector(info.fps, 1, layout.detection_scale)
    target = (info.width / 2, info.height / 2)
    xs, ys = [], []
    for frame in decode.analysis_frames(info, every):
        assert frame.bgr is not None
        faces = detect_faces(frame.index, frame.bgr, layout.detection_scale)
        moved = motion.add(frame)
        if faces:
            box = max(faces, key=lambda f: f.box.area * f.confidence).box
            target = (box.cx, box.cy)
        elif moved is not None:
            # Where anything moved: the naive tracker has no shots to tell one mover from many.
            target = (moved.everywhere.cx, moved.everywhere.cy)
        xs.append(min(max(target[0] - w / 2, 0.0), info.width - w))
        ys.append(min(max(target[1] - h / 2, 0.0), info.height - h))
    return np.round(np.array(xs)), np.round(np.array(ys))
