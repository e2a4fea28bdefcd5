"""Command line: `python -m batch.reframer INPUT --aspect 9:16 --out DIR`.

INPUT and --out take local paths or s3:// URIs (S3 through boto3; endpoint from
AWS_ENDPOINT_URL). Progress goes to stderr per stage; `--progress-lines` also prints
`PROGRESS <stage> <percent>` lines on stdout for docker-entrypoint.sh, and `--result FILE`
writes the callback body: {"outputs", "metrics"} on success, {"code", "message"} on failure
(with the measured `duration_seconds` when `--max-duration`, the plan's limit, refused it).
Exit status: 0 done, 1 failed (the code says why), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import Any, get_args

from batch.reframer import pipeline
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
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    started = time.monotonic()

    def report(stage: str, percent: int) -> None:
        elapsed = time.monotonic() - started
        print(f"[{percent:3d}%] {stage:<9} {elapsed:7.1f}s", file=sys.stderr, flush=True)
        if args.progress_lines:
            print(f"PROGRESS {stage} {percent}", flush=True)

    outcome: dict[str, Any]
    try:
        result = pipeline.run(args.input, args.out, _spec(args), report, args.max_duration)
        outcome = {"outputs": result.outputs, "metrics": result.metrics}
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
    if args.result:
        args.result.write_text(json.dumps(outcome))
    if status == 0:
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


if __name__ == "__main__":
    sys.exit(main())
