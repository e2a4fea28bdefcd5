"""Benchmark of a long source's split render (AWS Batch array job) against one container.

On a generated 10-minute 1920x1080 30 fps clip with audio (bench/pipeline.py's 30 s clip,
concatenated; cached under var/bench): the one-container render (`--step whole`), then the
split render step by step as Batch runs it: the analysis, each array child alone (one segment
each, measured one after the other), an idle child (what a child costs before any segment:
start, plan download), and the join.

Reported: the total CPU of both paths (the split's overhead: seeks that decode from the
keyframe before each segment, each child's start, the audio extracted once, the join), the
join's wall time against the one-container render's, and the wall time the split would take
with N children on separate machines: the analysis, the slowest child (its segments in a row,
one start) and the join, for N = 1, 4, 16. Segments are cut for the largest N
(duration / 16), so every N shares one measured set of segments.

Goals: split CPU <= 1.10x the one container's; join wall <= 3% of the one container's render.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from batch.reframer.geometry import OutputSpec
from bench.pipeline import REPO, Run, analysis_cpu, clip_long, measure

PARALLEL = (1, 4, 16)
CPU_OVERHEAD_GOAL = 0.10
JOIN_SHARE_GOAL = 0.03
# More children than segments: each segment is one child's, and the last child idles.
ANALYSIS_CHILDREN = 64


def _reframer(source: Path, out: Path, spec: OutputSpec, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "batch.reframer", str(source), "--out", str(out),
        "--aspect", spec.aspect, "--resolution", spec.resolution, *args,
    ]  # fmt: skip


def _packets(video: Path) -> tuple[int, float]:
    """Video packets (frames) and the file's duration, from the container's index."""
    done = subprocess.run(
        [
            "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
            "-show_entries", "stream=nb_read_packets:format=duration", "-of", "json", str(video),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = json.loads(done.stdout)
    return int(found["streams"][0]["nb_read_packets"]), float(found["format"]["duration"])


def _row(name: str, run: Run) -> str:
    return f"  {name:<34} {run.wall:8.1f} s wall {run.cpu:8.1f} s cpu"


def _slowest(children: list[Run], n: int, start: float, measure: str) -> float:
    """The busiest of N children: child i renders segments i, i+N, ... in a row, one start."""
    spent = [run.wall if measure == "wall" else run.cpu for run in children]
    return max(start + sum(spent[k] - start for k in range(i, len(spent), n)) for i in range(n))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench long", description=__doc__)
    parser.add_argument("--minutes", type=int, default=10, help="the clip's length")
    parser.add_argument("--resolution", default="720p", help="the output's (the API default)")
    parser.add_argument("--aspect", default="9:16")
    args = parser.parse_args(argv)
    spec = OutputSpec(aspect=args.aspect, resolution=args.resolution)
    source = clip_long(args.minutes)
    seconds = args.minutes * 60
    segment_seconds = seconds / max(PARALLEL)
    print(
        f"source: {source.relative_to(REPO)} ({args.minutes} min 1080p30), output "
        f"{spec.resolution} {spec.aspect}; segments of {segment_seconds:.1f} s",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-long-") as scratch:
        work = Path(scratch)
        whole_out, split_out = work / "whole", work / "split"
        whole = measure(_reframer(source, whole_out, spec, "--result", str(work / "whole.json")))
        whole_metrics = json.loads((work / "whole.json").read_text())["metrics"]
        print(_row("one container", whole), flush=True)

        analyse = measure(
            _reframer(
                source, split_out, spec, "--step", "analyse",
                "--children", str(ANALYSIS_CHILDREN), "--segment-seconds", f"{segment_seconds}",
            )
        )  # fmt: skip
        plan = json.loads((split_out / "render-work" / "plan.json").read_text())
        count = len(plan["segments"])
        print(_row(f"analysis ({count} segments)", analyse), flush=True)
        children: list[Run] = []
        for index in range(count):
            step = ("--step", "segment", "--children", str(ANALYSIS_CHILDREN))
            children.append(
                measure(_reframer(source, split_out, spec, *step, "--child", str(index)))
            )
            print(_row(f"child {index}", children[-1]), flush=True)
        idle = measure(
            _reframer(
                source, split_out, spec, "--step", "segment",
                "--children", str(ANALYSIS_CHILDREN), "--child", str(ANALYSIS_CHILDREN - 1),
            )
        )  # fmt: skip
        join = measure(
            _reframer(source, split_out, spec, "--step", "join", "--result", str(work / "j.json"))
        )
        joined = json.loads((work / "j.json").read_text())["metrics"]["render_split"]
        print(_row("idle child (start, plan)", idle), flush=True)
        print(_row("join (step)", join), flush=True)

        frames = _packets(whole_out / "video.mp4"), _packets(split_out / "video.mp4")
    analysed = int(whole_metrics["frames"])

    split_cpu = analyse.cpu + sum(c.cpu for c in children) + join.cpu
    overhead = split_cpu / whole.cpu - 1
    render_wall = float(whole_metrics["stage_seconds"]["render"])
    join_share = join.wall / render_wall
    concat_share = float(joined["join_seconds"]) / render_wall
    print()
    print(
        f"frames, duration: source (analysed) {analysed}; one container {frames[0]}; "
        f"split {frames[1]}"
    )
    whole_cpu = whole_metrics["cpu_seconds"]
    print(
        f"one container's own CPU split: analysis {analysis_cpu(whole_cpu):.1f} s, "
        f"render {whole_cpu.get('render', 0.0):.1f} s (the rest: start, probe, outputs)"
    )
    print(
        f"total CPU: one container {whole.cpu:.1f} s, split {split_cpu:.1f} s "
        f"(analysis {analyse.cpu:.1f}, children {sum(c.cpu for c in children):.1f}, "
        f"join {join.cpu:.1f}): overhead {overhead:+.1%} (goal <= {CPU_OVERHEAD_GOAL:.0%}: "
        f"{'met' if overhead <= CPU_OVERHEAD_GOAL else 'unmet'})"
    )
    print(
        f"join: {join.wall:.1f} s wall for the whole step ({joined['join_seconds']:.1f} s the "
        f"concat and mux) = {join_share:.1%} ({concat_share:.1%}) of the one container's "
        f"{render_wall:.1f} s render (goal <= {JOIN_SHARE_GOAL:.0%}: "
        f"{'met' if join_share <= JOIN_SHARE_GOAL else 'unmet'})"
    )
    print()
    # Wall times follow the machine's load while they were measured; the CPU seconds along the
    # same path (analysis, slowest child, join) do not, and compare with the one container's.
    print(
        "| children N | slowest child (wall) | analysis + slowest child + join (wall) "
        "| vs one container (wall) | the same path in CPU s | vs one container (CPU) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n in PARALLEL:
        wall = analyse.wall + _slowest(children, n, idle.wall, "wall") + join.wall
        cpu = analyse.cpu + _slowest(children, n, idle.cpu, "cpu") + join.cpu
        print(
            f"| {n} | {_slowest(children, n, idle.wall, 'wall'):.1f} s | {wall:.1f} s "
            f"| {whole.wall / wall:.2f}x | {cpu:.1f} s | {whole.cpu / cpu:.2f}x |"
        )
    print(f"| one container | | {whole.wall:.1f} s | 1.00x | {whole.cpu:.1f} s | 1.00x |")
    # The split renders exactly the analysed frames (a whole render may repeat one where the
    # source's timestamps jump, as at the generated clip's concatenation points).
    return 0 if frames[1][0] == analysed else 1
