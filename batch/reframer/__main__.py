"""Command line: `python -m batch.reframer INPUT --aspect 9:16 --out DIR`.

INPUT and --out take local paths or s3:// URIs (S3 through boto3; endpoint from
AWS_ENDPOINT_URL). Progress goes to stderr per stage; `--progress-lines` also prints
`PROGRESS <stage> <percent>` lines on stdout for docker-entrypoint.sh, and `--result FILE`
writes the callback body: {"outputs", "metrics"} on success, {"code", "message"} on failure
(with the measured `duration_seconds` when `--max-duration`, the plan's limit, refused it).
Exit status: 0 done, 1 failed (the code says why), 2 bad arguments.

A long source renders in steps, each an AWS Batch job (batch/reframer/segments.py):
`--step analyse --children N --segment-seconds S`, then `--step segment --children N` in each
array child (its index from `--child` or AWS_BATCH_JOB_ARRAY_INDEX; its PROGRESS lines end with
`CHILD N` so the API adds the children up), then `--step join`, whose result is the whole
render's. A child or join that fails reports `segment_failed` (retryable).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import Any, get_args

from batch.reframer import memory, pipeline, segments
from batch.reframer.errors import PipelineError, SourceTooLong, Terminated
from batch.reframer.geometry import ASPECTS, RESOLUTIONS, AspectName, OutputSpec, ResolutionName


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m batch.reframer",
        description="Reframe a landscape video to vertical, square or portrait.",
    )
    parser.add_argument("input", help="video file path or s3://bucket/key")
    parser.add_argument("--out", required=True, help="output directory or s3://bucket/prefix/")
    parser.add_argument("--aspect", choices=sorted(ASPECTS), default="9:16")
    parser.add_argument("--resolution", choices=sorted(RESOLUTIONS), default="1080p")
    parser.add_argument(
        "--options",
        help='the job\'s OPTIONS JSON, e.g. {"aspect_ratio": "1:1", "resolution": "720p"}; '
        "overrides --aspect and --resolution",
    )
    parser.add_argument(
        "--max-duration",
        type=_seconds,
        help="the plan's longest source in seconds: a longer one fails with source_too_long",
    )
    parser.add_argument(
        "--step",
        choices=("whole", "analyse", "segment", "join"),
        default="whole",
        help="whole: the one-container render; a split render: analyse, segment (each array "
        "child), join",
    )
    parser.add_argument("--children", type=int, help="analyse, segment: the array's size")
    parser.add_argument(
        "--child", type=int, help="segment: this child's index (AWS_BATCH_JOB_ARRAY_INDEX)"
    )
    parser.add_argument(
        "--segment-seconds", type=_seconds, default=180.0, help="analyse: segments' length"
    )
    parser.add_argument("--progress-lines", action="store_true", help="PROGRESS lines on stdout")
    parser.add_argument("--result", type=Path, help="write the outcome as JSON to this file")
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _spec(args: argparse.Namespace) -> OutputSpec:
    aspect, resolution = args.aspect, args.resolution
    if args.options:
        try:
            options: Any = json.loads(args.options)
        except json.JSONDecodeError as error:
            raise PipelineError(f"OPTIONS is not valid JSON ({error})") from error
        if not isinstance(options, dict):
            raise PipelineError("OPTIONS must be a JSON object")
        aspect = options.get("aspect_ratio", aspect)
        resolution = options.get("resolution", resolution)
    if aspect not in get_args(AspectName):
        raise PipelineError(f"unsupported aspect ratio {aspect!r} (9:16, 1:1 or 4:5)")
    if resolution not in get_args(ResolutionName):
        raise PipelineError(f"unsupported resolution {resolution!r} (480p, 720p, 1080p, 2160p)")
    return OutputSpec(aspect=aspect, resolution=resolution)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM is how AWS Batch ends a job that timed out or was cancelled; unwinding through
    # the stages stops ffmpeg and removes the scratch files on the way out.
    if signum == signal.SIGTERM:
        raise Terminated("the job was stopped (SIGTERM: timeout or cancel)", "timeout")
    raise Terminated("the job was interrupted", "canceled")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    memory.keep_freed_memory()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    started = time.monotonic()

    child = ""
    if args.step == "segment":
        child = f" {_child_index(args)} {_children(args)}"

    def report(stage: str, percent: int) -> None:
        elapsed = time.monotonic() - started
        print(f"[{percent:3d}%] {stage:<9} {elapsed:7.1f}s", file=sys.stderr, flush=True)
        if args.progress_lines:
            print(f"PROGRESS {stage} {percent}{child}", flush=True)

    outcome: dict[str, Any]
    try:
        outcome = _run_step(args, report)
        status = 0
    except SourceTooLong as error:
        outcome = {"code": error.code, "message": error.message}
        outcome |= {"duration_seconds": round(error.duration, 3), "limit_seconds": error.limit}
        status = 1
    except PipelineError as error:
        outcome = {"code": error.code, "message": error.message}
        status = 1
    except Exception as error:
        # Whatever broke, the job reports a failure code and a sentence, never a bare trace.
        outcome = {
            "code": "pipeline_error",
            "message": f"internal error: {type(error).__name__}: {error}",
        }
        status = 1
        traceback.print_exc(file=sys.stderr)
    if status == 1 and args.step in ("segment", "join") and outcome["code"] != "upload_failed":
        # The source was analysed whole: what fails now is a render, worth another attempt.
        outcome = {
            "code": "segment_failed",
            "message": f"the {args.step} step failed ({outcome['code']}): {outcome['message']}",
        }
    if args.result:
        args.result.write_text(json.dumps(outcome))
    if status == 0 and args.step in ("analyse", "segment"):
        print(f"done: {args.step} {json.dumps(outcome)}", file=sys.stderr)
    elif status == 0:
        metrics = outcome["metrics"]
        print(
            f"done: {outcome['outputs']['video']} {metrics['width']}x{metrics['height']}, "
            f"retention {metrics['subject_retention']}, modes {metrics['camera_modes']}, "
            f"{metrics['wall_seconds']}s",
            file=sys.stderr,
        )
    else:
        print(f"failed ({outcome['code']}): {outcome['message']}", file=sys.stderr)
    return status


def _children(args: argparse.Namespace) -> int:
    if args.children is None or args.children < 1:
        raise SystemExit(f"--step {args.step} needs --children (at least 1)")
    return int(args.children)


def _child_index(args: argparse.Namespace) -> int:
    if args.child is not None:
        return int(args.child)
    index = os.environ.get("AWS_BATCH_JOB_ARRAY_INDEX", "")
    if not index.isdigit():
        raise SystemExit("--step segment needs --child or AWS_BATCH_JOB_ARRAY_INDEX")
    return int(index)


def _run_step(args: argparse.Namespace, report: pipeline.Reporter) -> dict[str, Any]:
    """The step's outcome for the result file."""
    if args.step == "segment":
        done = segments.render_child(args.input, args.out, _child_index(args), report)
        return {"step": "segment", **done}
    if args.step == "join":
        stored, metrics = segments.join(args.out, report)
        return {"outputs": stored, "metrics": metrics}
    split = None
    if args.step == "analyse":
        split = segments.Split(_children(args), args.segment_seconds)
    result = pipeline.run(args.input, args.out, _spec(args), report, args.max_duration, split)
    if split is not None:
        return {"step": "analyse", "metrics": result.metrics}
    return {"outputs": result.outputs, "metrics": result.metrics}


if __name__ == "__main__":
    sys.exit(main())
