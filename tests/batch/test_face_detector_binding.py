"""The face detector is libfacedetection called through ctypes: it finds what yuface's own
binding finds, and other threads run while it computes (the decode and the object detector
share the cores with it)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from skimage import data as skdata
from yuface import detect as yuface_detect  # type: ignore[import-untyped]

from batch.reframer.faces import detect_faces


def _bgr(rgb: NDArray[np.uint8], width: int) -> NDArray[np.uint8]:
    height = round(rgb.shape[0] * width / rgb.shape[1])
    resized = Image.fromarray(rgb).convert("RGB").resize((width, height))
    return np.ascontiguousarray(np.asarray(resized, dtype=np.uint8)[:, :, ::-1])


def _pictures() -> list[NDArray[np.uint8]]:
    """Real faces at several sizes, a picture with none, and one whose rows are padded."""
    astronaut, cameraman = skdata.astronaut(), skdata.camera()
    people = (np.asarray(skdata.lfw_subset()[:4]) * 255).astype(np.uint8)
    group = np.concatenate([np.pad(p, 10, constant_values=90) for p in people], axis=1)
    padded = np.zeros((270, 512, 3), np.uint8)
    padded[:, :480] = _bgr(astronaut, 480)[:270]
    return [
        _bgr(astronaut, 480),
        _bgr(astronaut, 160),
        _bgr(cameraman, 400),
        _bgr(group, 480),
        _bgr(skdata.coffee(), 480),
        padded[:, :480],
    ]


@pytest.mark.parametrize("index", range(6))
def test_the_detections_are_yufaces_own(index: int) -> None:
    picture = _pictures()[index]
    confidences, boxes, _landmarks = yuface_detect(np.ascontiguousarray(picture), conf=0.5)

    found = detect_faces(7, picture, scale=2.0, minimum=0.5)

    expected = [
        (float(c) / 100, (max(float(x), 0.0), max(float(y), 0.0)))
        for c, (x, y, w, h) in zip(confidences, boxes, strict=True)
        if min(w, h) >= 10
    ]
    assert [(f.confidence, (f.box.x / 2, f.box.y / 2)) for f in found] == expected
    assert all(face.frame == 7 for face in found)
    if index == 0:
        assert len(found) == 1  # the astronaut's face, where the picture has it
        assert 155 < found[0].box.x / 2 < 185


def test_other_threads_run_while_a_face_is_looked_for() -> None:
    picture = _bgr(skdata.astronaut(), 960)[:540]
    detect_faces(0, picture, 1.0)  # loaded before the watch starts
    ticks: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks.append(time.perf_counter())

    watcher = threading.Thread(target=tick)
    watcher.start()
    try:
        time.sleep(0.01)
        started = time.perf_counter()
        detect_faces(0, picture, 1.0)
        ended = time.perf_counter()
    finally:
        stop.set()
        watcher.join()
    # A binding that holds the GIL (yuface's own) lets the other thread run only around the
    # call, never in its middle; let go, the other thread ticks on all through it.
    middle = (started + 0.4 * (ended - started), ended - 0.4 * (ended - started))
    assert sum(middle[0] < t < middle[1] for t in ticks) > 100
