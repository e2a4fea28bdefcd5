"""Stage 9, outputs: a thumbnail, the manifest (crop path, shots, camera modes, metrics,
timings) and the upload of all three under the output prefix."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from batch.reframer import media_policy, storage
from batch.reframer.errors import PipelineError

VIDEO_NAME = "video.mp4"
THUMBNAIL_NAME = "thumbnail.jpg"
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
THUMBNAIL_MAX_WIDTH = 720
# The thumbnail's filter and JPEG quality, also used when the render writes it (render.py).
THUMBNAIL_SCALE = f"scale='min({THUMBNAIL_MAX_WIDTH},iw)':-2"
THUMBNAIL_QUALITY = "3"


def thumbnail(video: Path, at_seconds: float, target: Path) -> None:
    """One JPEG frame of the rendered video, at most 720 pixels wide."""
    command = [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
        "-ss", f"{max(at_seconds, 0.0):.3f}",
        *media_policy.INPUT_ARGS, "-i", media_policy.local_input(video),
        "-frames:v", "1", "-vf", THUMBNAIL_SCALE, "-q:v", THUMBNAIL_QUALITY,
        str(target),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0 or not target.exists():
        # Past the end (a seek into the last frame's gap): take the first frame instead.
        if at_seconds > 0:
            thumbnail(video, 0.0, target)
            return
        raise PipelineError(f"the thumbnail could not be made: {done.stderr.strip()[-300:]}")


def write_manifest(target: Path, manifest: dict[str, Any]) -> None:
    target.write_text(json.dumps({"version": MANIFEST_VERSION, **manifest}, separators=(",", ":")))


def output_uris(prefix: str) -> dict[str, str]:
    return {
        "video": storage.join(prefix, VIDEO_NAME),
        "thumbnail": storage.join(prefix, THUMBNAIL_NAME),
        "manifest": storage.join(prefix, MANIFEST_NAME),
    }


def publish(workdir: Path, prefix: str) -> dict[str, str]:
    """Store the three outputs under the prefix; the manifest last, so its presence means the
    others are there."""
    return {
        "video": storage.store(workdir / VIDEO_NAME, prefix, VIDEO_NAME, "video/mp4"),
        "thumbnail": storage.store(workdir / THUMBNAIL_NAME, prefix, THUMBNAIL_NAME, "image/jpeg"),
        "manifest": storage.store(
            workdir / MANIFEST_NAME, prefix, MANIFEST_NAME, "application/json"
        ),
    }
