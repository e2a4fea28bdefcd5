"""A generated test pattern with a tone: sample media for the demo and the end-to-end tests,
made by ffmpeg on the spot (nothing is downloaded)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def make_sample_clip(
    path: Path, *, width: int = 1280, height: int = 720, seconds: int = 6, fps: int = 30
) -> Path:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is missing: run scripts/ensure-system-packages.sh")
    subprocess.run(  # noqa: S603 - a fixed command line
        [
            ffmpeg, "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path
