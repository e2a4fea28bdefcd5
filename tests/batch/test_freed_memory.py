"""Freed memory kept in the process (batch/reframer/memory.py): the face detector, called
frame after frame, reuses the blocks it freed instead of faulting in fresh pages each call,
and what was freed goes back to the kernel when the pass is over. Each case runs in a
process of its own, so the settings are those of a fresh pipeline process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.batch.conftest import REPO

# Ten detections on a 480x270 frame after three to warm up; the page faults and the resident
# memory along the way.
_DETECTIONS = """
import json, resource, sys
import numpy as np
from batch.reframer import memory
from batch.reframer.faces import detect_faces

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def resident_kib():
    line = next(l for l in open("/proc/self/status") if l.startswith("VmRSS"))
    return int(line.split()[1])

kept = sys.argv[1] == "kept" and memory.keep_freed_memory()
frame = np.random.default_rng(1).integers(0, 255, (270, 480, 3), np.uint8)
for _ in range(3):
    detect_faces(0, frame, 1.0)
before = faults()
for _ in range(10):
    detect_faces(0, frame, 1.0)
faulted, resident = faults() - before, resident_kib()
released = memory.release_freed_memory()
print(json.dumps({"kept": kept, "faults": faulted, "resident": resident,
                  "released": released, "after_release": resident_kib()}))
"""


def _detections(mode: str) -> dict[str, int | bool]:
    done = subprocess.run(
        [sys.executable, "-c", _DETECTIONS, mode],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, int | bool] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def by_default() -> dict[str, int | bool]:
    return _detections("default")


@pytest.fixture(scope="module")
def kept() -> dict[str, int | bool]:
    return _detections("kept")


def test_glibc_takes_the_settings(kept: dict[str, int | bool]) -> None:
    assert kept["kept"] is True
    assert kept["released"] is True


def test_each_detection_faults_in_fresh_pages_by_default(
    by_default: dict[str, int | bool],
) -> None:
    # The baseline the setting is for: megabytes of feature maps a call, from the kernel
    # (thousands of 4 KiB faults here; at least one a call where huge pages back them).
    assert by_default["faults"] >= 10


def test_kept_memory_serves_the_next_detections_without_page_faults(
    by_default: dict[str, int | bool], kept: dict[str, int | bool]
) -> None:
    assert kept["faults"] < 200
    assert kept["faults"] * 25 < by_default["faults"]


def test_what_the_pass_freed_goes_back_to_the_kernel_before_the_render(
    kept: dict[str, int | bool],
) -> None:
    # A detection's feature maps are several megabytes; they stay resident until released.
    assert int(kept["resident"]) - int(kept["after_release"]) > 4 * 1024
