"""Runs pyautoflip on one clip and prints its per-frame crop windows as JSON.

Executed by the bench-only virtualenv's Python (bench/quality_autoflip.py builds it), never by
the project's: it imports only pyautoflip and the standard library. It reads a JSON list of
[source, aspect] pairs (aspect like "9:16") on stdin and prints a JSON list of results, one
per pair: the windows, or {"error": ...} when pyautoflip failed on that clip. One process for
every clip: importing MediaPipe takes longer than pyautoflip spends on a short clip.

It runs pyautoflip's own `process_video` steps (video reader, scene detection, key-frame
sampling and detection, `SceneCropper.process_scene`) with its defaults, and records the
windows `process_scene` returns instead of rendering them. Its default face detector
(InsightFace `buffalo_s`) downloads weights on first use, so the MediaPipe BlazeFace detector
pyautoflip ships (`detection/mediapipe_face_detector.py` with `blaze_face_short_range.tflite`,
the same `detect()` contract) stands in for it; the object detector is its default (MediaPipe
EfficientDet-Lite0, shipped too). Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any


def _use_shipped_face_detector() -> None:
    """Registers pyautoflip's MediaPipe face detector under the module name its processor
    imports the InsightFace one from, before pyautoflip is imported."""
    package = importlib.util.find_spec("pyautoflip")
    if package is None or not package.submodule_search_locations:
        raise SystemExit("pyautoflip is not installed in this environment")
    folder = Path(next(iter(package.submodule_search_locations))) / "detection"
    spec = importlib.util.spec_from_file_location(
        "pyautoflip.detection.face_detector", folder / "mediapipe_face_detector.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)


def crop_windows(source: str, aspect: str) -> dict[str, Any]:
    from pyautoflip.core.processor import AutoFlipProcessor  # type: ignore[import-not-found]

    logging.getLogger().setLevel(logging.WARNING)  # pyautoflip logs every detection at INFO
    started = time.perf_counter()
    processor = AutoFlipProcessor(target_aspect_ratio=aspect)
    try:
        found = _windows(processor, source)
    finally:
        # Closed here, not by the garbage collector: MediaPipe 1.2's detectors deadlock when
        # a collection closes one inside another detector's call (seen creating the next
        # clip's object detector).
        processor.face_detector.model.close()
        processor.object_detector.model.close()
    return {"pyautoflip": version("pyautoflip"), **found,
            "seconds": time.perf_counter() - started}  # fmt: skip


def _windows(processor: Any, source: str) -> dict[str, Any]:
    """`AutoFlipProcessor.process_video`'s steps up to the crop windows of each scene."""
    from pyautoflip.cropping.scene_cropper import SceneCropper  # type: ignore[import-not-found]

    reader, metadata = processor._initialize_video(source)
    scenes = processor._detect_scenes(source, metadata["frame_count"])
    windows: dict[int, list[list[float]]] = {}
    sizes: set[tuple[int, int]] = set()
    # Key frames it looked at, and those where its face detector found a face: what its
    # crop had to go on.
    looked = {"key_frames": 0, "with_face": 0}

    def record(
        _reader: Any, _writer: Any, start: int, length: int, key_frame_data: dict[str, Any]
    ) -> int:
        # What AutoFlipProcessor._apply_cropping does before it reads and writes frames.
        cropper = SceneCropper(
            target_aspect_ratio=processor.target_aspect_ratio,
            motion_threshold=processor.motion_threshold,
            padding_method=processor.padding_method,
            debug_mode=processor.debug_mode,
        )
        found = cropper.process_scene(
            key_frame_data["key_frames"],
            key_frame_data["face_detections"],
            key_frame_data["object_detections"],
            length,
        )
        if not found:
            raise ValueError("No crop windows generated")
        looked["key_frames"] += len(key_frame_data["key_frames"])
        looked["with_face"] += sum(1 for faces in key_frame_data["face_detections"].values()
                                   if faces)  # fmt: skip
        first = next(iter(key_frame_data["key_frames"].values()))
        sizes.add((int(first.shape[1]), int(first.shape[0])))
        windows[start] = [[float(v) for v in window] for window in found]
        return length

    processor._apply_cropping = record
    processor._process_scenes(scenes, reader, None)
    per_frame: list[list[float] | None] = [None] * int(metadata["frame_count"])
    for start, found in windows.items():
        per_frame[start : start + len(found)] = found
    decoded = sizes.pop() if len(sizes) == 1 else (int(metadata["width"]), int(metadata["height"]))
    return {
        "decoded_size": list(decoded),
        "scenes": [[int(a), int(b)] for a, b in scenes],
        "windows": per_frame,
        **looked,
    }


def main() -> None:
    _use_shipped_face_detector()
    results: list[dict[str, Any]] = []
    for source, aspect in json.load(sys.stdin):
        try:
            results.append(crop_windows(source, aspect))
        except Exception as error:  # one clip's failure is reported, the others still run
            results.append({"error": f"{type(error).__name__}: {error}"})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
