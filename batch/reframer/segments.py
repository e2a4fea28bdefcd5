"""Long sources rendered in parallel: analysed once, rendered in segments, joined.

Three steps of the command line (`--step`), each the work of its own AWS Batch job:

- `analyse` (one container): every stage up to the camera path, as for a whole render; then the
  render plan (crop path, frame times, segments cut at shot boundaries, the manifest so far)
  and the source's audio go under the job's work prefix (`<output prefix>render-work/`).
- `segment` (child `i` of an array job of `n`, `AWS_BATCH_JOB_ARRAY_INDEX`): renders segments
  i, i+n, i+2n… without audio. A segment already stored is not rendered again, so a retried
  child renders only what is missing.
- `join` (depends on the whole array): the concat demuxer joins the segments by stream copy and
  the source's audio is muxed once, in one piece: no gap or drift at the joins. Then the
  thumbnail and manifest, and the three outputs are published as by a whole render.

Each segment starts with an input seek half a frame before its first frame and ends after a
frame count, so the segments hold exactly the whole render's frames, in order.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from batch.reframer import media_policy, outputs, render, storage
from batch.reframer.errors import PipelineError
from batch.reframer.probe import MediaInfo

PLAN_NAME = "plan.json"
AUDIO_NAME = "audio.m4a"
WORK_FOLDER = "render-work"
PLAN_VERSION = 1
# Progress (percent) where the render starts and ends, as a whole render reports it.
RENDER_STARTS_AT = 45
RENDER_ENDS_AT = 95

Reporter = Callable[[str, int], None]


@dataclass(frozen=True)
class Split:
    """How a split render is cut: `children` array children, segments of about this long."""

    children: int
    segment_seconds: float

    def __post_init__(self) -> None:
        if self.children < 1 or not self.segment_seconds > 0:
            raise PipelineError("a split render needs at least one child and segments > 0 s")


def plan_segments(
    shot_starts: Sequence[int], frame_count: int, fps: float, segment_seconds: float
) -> list[tuple[int, int]]:
    """Frames [start, end) of each segment: about `segment_seconds` long, cut at the shot
    boundary nearest that length; a take with no cut within half a segment either way is cut
    inside (the render is frame-exact, a cut only hides where one encoder hands over)."""
    target = max(1, round(segment_seconds * fps))
    cuts = sorted({s for s in shot_starts if 0 < s < frame_count})
    segments: list[tuple[int, int]] = []
    start = 0
    while frame_count - start > target * 3 // 2:
        ideal = start + target
        near = [c for c in cuts if start + target // 2 <= c <= start + target * 3 // 2]
        end = min(near, key=lambda c: (abs(c - ideal), c)) if near else ideal
        segments.append((start, end))
        start = end
    if start < frame_count:
        segments.append((start, frame_count))
    return segments


def work_prefix(output_prefix: str) -> str:
    return storage.join(output_prefix, WORK_FOLDER)


def segment_name(index: int) -> str:
    return f"segment-{index:05d}.mp4"


def seek_of(times: Sequence[float] | np.ndarray[Any, Any], first: int, video_start: float) -> float:
    """Half a frame before the segment's first frame (0 for the first segment): the seek keeps
    that frame and drops the one before whatever the timestamps' rounding."""
    if first == 0:
        return 0.0
    return video_start + (float(times[first - 1]) + float(times[first])) / 2


# --- analyse --------------------------------------------------------------------------------


def hand_off(
    split: Split,
    info: MediaInfo,
    crop: render.CropPath,
    size: tuple[int, int],
    shot_starts: Sequence[int],
    manifest: dict[str, Any],
    thumbnail_seconds: float,
    output_prefix: str,
    workdir: Path,
) -> dict[str, Any]:
    """Store what the children and the join need; returns the plan's summary for the metrics."""
    segments = plan_segments(shot_starts, len(crop.times), info.fps, split.segment_seconds)
    media = {k: v for k, v in dataclasses.asdict(info).items() if k != "path"}
    plan = {
        "version": PLAN_VERSION,
        "children": split.children,
        "size": list(size),
        "crop": {"width": crop.width, "height": crop.height},
        "times": [round(float(t), 6) for t in crop.times],
        "x": crop.x.astype(int).tolist(),
        "y": crop.y.astype(int).tolist(),
        "segments": [list(s) for s in segments],
        "media": media,
        "audio": info.audio_streams > 0,
        "manifest": manifest,
        "thumbnail_seconds": thumbnail_seconds,
    }
    work = work_prefix(output_prefix)
    if info.audio_streams > 0:
        audio = workdir / AUDIO_NAME
        _extract_audio(info, audio)
        storage.store(audio, work, AUDIO_NAME, "audio/mp4", render_work=True)
    # The plan last: the children wait for nothing, Batch starts them after this job ends.
    (workdir / PLAN_NAME).write_text(json.dumps(plan, separators=(",", ":")))
    storage.store(workdir / PLAN_NAME, work, PLAN_NAME, "application/json", render_work=True)
    return {"segments": len(segments), "children": split.children}


def _extract_audio(info: MediaInfo, target: Path) -> None:
    """The first audio stream in one piece, AAC as a whole render writes it (copied if AAC)."""
    codec = ["-c:a", "copy"] if info.audio_codec == "aac" else ["-c:a", "aac", "-b:a", "128k"]
    command = [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
        *media_policy.INPUT_ARGS, "-i", media_policy.local_input(info.path),
        "-map", "0:a:0", "-vn", *codec, "-map_metadata", "-1", str(target),
    ]  # fmt: skip
    render.run_ffmpeg(command, info.duration)


# --- the plan, as the children and the join read it -----------------------------------------


@dataclass(frozen=True)
class Plan:
    children: int
    size: tuple[int, int]
    crop_size: tuple[int, int]
    times: np.ndarray[Any, np.dtype[np.float64]]
    x: np.ndarray[Any, np.dtype[np.float64]]
    y: np.ndarray[Any, np.dtype[np.float64]]
    segments: list[tuple[int, int]]
    media: dict[str, Any]
    audio: bool
    manifest: dict[str, Any]
    thumbnail_seconds: float

    def info(self, source: Path) -> MediaInfo:
        return MediaInfo(path=source, **self.media)

    def owned_by(self, child: int) -> list[int]:
        return [k for k in range(len(self.segments)) if k % self.children == child]

    def crop_path(self, index: int) -> render.CropPath:
        first, end = self.segments[index]
        return render.CropPath(
            self.crop_size[0],
            self.crop_size[1],
            self.times[first:end],
            self.x[first:end],
            self.y[first:end],
        )


def load_plan(output_prefix: str, workdir: Path) -> Plan:
    uri = storage.join(work_prefix(output_prefix), PLAN_NAME)
    if not storage.exists(uri):
        raise PipelineError(f"the render plan {uri} is missing: the analysis did not finish")
    data = json.loads(storage.fetch_to(uri, workdir / PLAN_NAME).read_text())
    if data.get("version") != PLAN_VERSION:
        raise PipelineError(f"the render plan {uri} has an unknown version")
    return Plan(
        children=int(data["children"]),
        size=(int(data["size"][0]), int(data["size"][1])),
        crop_size=(int(data["crop"]["width"]), int(data["crop"]["height"])),
        times=np.array(data["times"], dtype=np.float64),
        x=np.array(data["x"], dtype=np.float64),
        y=np.array(data["y"], dtype=np.float64),
        segments=[(int(a), int(b)) for a, b in data["segments"]],
        media=data["media"],
        audio=bool(data["audio"]),
        manifest=data["manifest"],
        thumbnail_seconds=float(data["thumbnail_seconds"]),
    )


# --- segment (an array child) ---------------------------------------------------------------


def render_child(
    input_uri: str, output_prefix: str, child: int, report: Reporter
) -> dict[str, Any]:
    """Render this child's segments that are not stored yet; returns what it did."""
    started = time.perf_counter()
    work = work_prefix(output_prefix)
    with tempfile.TemporaryDirectory(prefix="reframer-segment-") as scratch:
        workdir = Path(scratch)
        plan = load_plan(output_prefix, workdir)
        if not 0 <= child < plan.children:
            raise PipelineError(f"child {child} is outside the array of {plan.children}")
        mine = plan.owned_by(child)
        missing = [k for k in mine if not storage.exists(storage.join(work, segment_name(k)))]
        frames = {k: plan.segments[k][1] - plan.segments[k][0] for k in mine}
        total = max(1, sum(frames.values()))
        done = [sum(frames[k] for k in mine if k not in missing)]
        last = [-1]

        def progress(fraction_of_segment: float, index: int) -> None:
            share = (done[0] + fraction_of_segment * frames[index]) / total
            percent = RENDER_STARTS_AT + int((RENDER_ENDS_AT - RENDER_STARTS_AT) * share)
            if percent > last[0]:
                last[0] = percent
                report("render", percent)

        if mine:
            progress(0.0, mine[0])
        if missing:
            info = plan.info(storage.fetch(input_uri, workdir))
            for index in missing:
                path = plan.crop_path(index)
                target = workdir / segment_name(index)
                seek = seek_of(plan.times, plan.segments[index][0], info.video_start)
                render.render(
                    info,
                    path,
                    plan.size,
                    target,
                    functools.partial(_at, progress, index),
                    seek=seek,
                )
                storage.store(target, work, segment_name(index), "video/mp4", render_work=True)
                target.unlink()
                done[0] += frames[index]
        report("render", RENDER_ENDS_AT)
    return {
        "child": child,
        "rendered": missing,
        "reused": [k for k in mine if k not in missing],
        "wall_seconds": round(time.perf_counter() - started, 3),
    }


def _at(progress: Callable[[float, int], None], index: int, fraction: float) -> None:
    progress(fraction, index)


# --- join -----------------------------------------------------------------------------------


def join(output_prefix: str, report: Reporter) -> tuple[dict[str, str], dict[str, Any]]:
    """Join the stored segments and the audio into the outputs; returns (outputs, metrics)."""
    started = time.perf_counter()
    work = work_prefix(output_prefix)
    with tempfile.TemporaryDirectory(prefix="reframer-join-") as scratch:
        workdir = Path(scratch)
        plan = load_plan(output_prefix, workdir)
        names = [segment_name(k) for k in range(len(plan.segments))]
        absent = [n for n in names if not storage.exists(storage.join(work, n))]
        if absent:
            raise PipelineError(f"segments missing from {work}: {', '.join(absent)}")
        local = [storage.fetch_to(storage.join(work, n), workdir / n) for n in names]
        report("outputs", RENDER_ENDS_AT + 1)
        audio = (
            storage.fetch_to(storage.join(work, AUDIO_NAME), workdir / AUDIO_NAME)
            if plan.audio
            else None
        )
        video = workdir / outputs.VIDEO_NAME
        joined = time.perf_counter()
        concat(local, audio, video, workdir / "segments.txt")
        join_seconds = time.perf_counter() - joined
        report("outputs", RENDER_ENDS_AT + 3)
        outputs.thumbnail(video, plan.thumbnail_seconds, workdir / outputs.THUMBNAIL_NAME)
        manifest = plan.manifest
        metrics: dict[str, Any] = manifest["metrics"]
        metrics["render_split"] = {
            "segments": len(plan.segments),
            "children": plan.children,
            "join_seconds": round(join_seconds, 3),
            "join_step_seconds": round(time.perf_counter() - started, 3),
        }
        outputs.write_manifest(workdir / outputs.MANIFEST_NAME, manifest)
        stored = outputs.publish(workdir, output_prefix)
    report("outputs", 100)
    return stored, metrics


def concat(segments: Sequence[Path], audio: Path | None, output: Path, listing: Path) -> None:
    """The concat demuxer over our own segment files (stream copy), the audio beside it."""
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in segments))
    # The list and the segments are this pipeline's own files, never an upload: the concat
    # demuxer the upload policy refuses (media_policy) is the tool here.
    command = [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
        "-f", "concat", "-safe", "0", "-i", str(listing),
    ]  # fmt: skip
    if audio is not None:
        command += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0"]
    command += ["-c", "copy", "-map_metadata", "-1", "-movflags", "+faststart", str(output)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise PipelineError(f"joining the segments failed: {done.stderr.strip()[-300:]}")
