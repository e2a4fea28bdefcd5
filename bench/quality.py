"""`make bench BENCH=quality`: reframing quality measured against ground truth.

Generated clips (bench/quality_suite.py: exact truth by construction) and real footage
(bench/quality_real.json: hand-annotated keyframes) go through the pipeline's command line;
its crop path and cuts are scored from the truth alone, beside a fixed centre crop and a naive
tracker (detect every frame, no smoothing). Prints a table per clip class and overall with
every goal marked met or unmet; `--quick` runs one clip per class and skips the real clips.
Smoothness figures are in pixels of a 1080-wide output, per frame.

pyautoflip is not compared yet (not tried: it pulls mediapipe and OpenCV, and its default
face detector downloads weights).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from batch.reframer.geometry import AspectName, OutputSpec
from bench import quality_baselines as baselines
from bench.quality_clips import Truth, generate
from bench.quality_metrics import Scores, score, summary
from bench.quality_real import real_clips
from bench.quality_suite import FASTEST_CLASS, QUICK, SUITE

REPO = Path(__file__).resolve().parents[1]
CLIPS = REPO / "var" / "bench" / "quality"
METHODS = ("pipeline", "centre", "naive")


@dataclass
class ClipResult:
    name: str
    kind: str
    frames: int
    scores: dict[str, Scores]
    self_measured: float | None
    seconds: float
    modes: list[str] = field(default_factory=list)

    @property
    def truth_retention(self) -> float | None:
        return self.scores["pipeline"].retention

    @property
    def self_error(self) -> float | None:
        truth = self.truth_retention
        if truth is None or self.self_measured is None:
            return None
        return abs(self.self_measured - truth)


def run_pipeline(source: Path, aspect: str, work: Path) -> dict[str, Any]:
    out = work / source.stem
    result = out.with_suffix(".json")
    done = subprocess.run(
        [sys.executable, "-m", "batch.reframer", str(source), "--out", str(out),
         "--aspect", aspect, "--resolution", "480p", "--result", str(result)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the pipeline failed on {source.name}:\n{done.stderr[-2000:]}")
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    return manifest


def self_measured(manifest: dict[str, Any]) -> float | None:
    """The retention the pipeline claims in its manifest."""
    metrics = manifest["metrics"]
    claimed = metrics.get("quality", {}).get("subject_retention", metrics["subject_retention"])
    return None if claimed is None else float(claimed)


def evaluate(
    name: str, kind: str, source: Path, truth: Truth, aspect: str, work: Path
) -> ClipResult:
    started = time.perf_counter()
    manifest = run_pipeline(source, aspect, work)
    seconds = time.perf_counter() - started
    crop = manifest["crop_path"]
    window = (int(crop["width"]), int(crop["height"]))
    spec = OutputSpec(aspect=_aspect(aspect), resolution="1080p")
    out_width = spec.size[0]
    cuts = [int(shot["start_frame"]) for shot in manifest["shots"][1:]]
    scores = {
        "pipeline": score(truth, np.array(crop["x"], float), np.array(crop["y"], float), window,
                          out_width, cuts),
    }  # fmt: skip
    cx, cy = baselines.centre(truth.width, truth.height, truth.frames, aspect)
    scores["centre"] = score(truth, cx, cy, window, out_width, None)
    nx, ny = baselines.naive(source, aspect)
    scores["naive"] = score(truth, nx, ny, window, out_width, None)
    modes = [str(shot.get("camera_mode")) for shot in manifest["shots"]]
    return ClipResult(name, kind, truth.frames, scores, self_measured(manifest), seconds, modes)


def _aspect(text: str) -> AspectName:
    assert text in ("9:16", "1:1", "4:5")
    return text  # type: ignore[return-value]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _pooled(results: list[ClipResult]) -> dict[str, Scores]:
    pooled = {m: Scores() for m in METHODS}
    for result in results:
        for method in METHODS:
            pooled[method].add(result.scores[method])
    return pooled


HEADER = (
    f"{'':<28} {'frames':>6} {'ret':>6} {'centre':>6} {'naive':>6} {'self±':>6} "
    f"{'cutR':>5} {'cutP':>5} {'v mean':>7} {'v p95':>6} {'a mean':>6} {'a p95':>6} "
    f"{'naive a95':>9} {'still':>6} {'lag':>5}"
)


def _row(label: str, frames: int, pooled: dict[str, Scores], self_error: float | None) -> str:
    mine, naive = summary(pooled["pipeline"]), summary(pooled["naive"])
    return (
        f"{label:<28} {frames:>6} {_fmt(mine['retention']):>6} "
        f"{_fmt(pooled['centre'].retention):>6} {_fmt(naive['retention']):>6} "
        f"{_fmt(self_error):>6} {_fmt(mine['cut_recall'], 2):>5} "
        f"{_fmt(mine['cut_precision'], 2):>5} {_fmt(mine['speed_mean'], 1):>7} "
        f"{_fmt(mine['speed_p95'], 1):>6} {_fmt(mine['accel_mean'], 2):>6} "
        f"{_fmt(mine['accel_p95'], 2):>6} {_fmt(naive['accel_p95'], 2):>9} "
        f"{_fmt(mine['still_move'], 1):>6} {_fmt(mine['lag'], 1):>5}"
    )


def _worst_self_error(results: list[ClipResult]) -> float | None:
    errors = [r.self_error for r in results if r.self_error is not None]
    return max(errors) if errors else None


def report(generated: list[ClipResult], real: list[ClipResult]) -> tuple[list[str], bool]:
    lines = ["", "per clip", HEADER]
    for result in [*generated, *real]:
        lines.append(
            _row(result.name, result.frames, result.scores, result.self_error)
            + f"  {','.join(result.modes)}"
        )
    lines += ["", "per class (generated clips pooled; real clips one by one)", HEADER]
    classes = list(dict.fromkeys(r.kind for r in generated))
    for kind in classes:
        members = [r for r in generated if r.kind == kind]
        lines.append(_row(kind, sum(r.frames for r in members), _pooled(members),
                          _worst_self_error(members)))  # fmt: skip
    overall = _pooled(generated)
    lines.append(_row("generated, overall", sum(r.frames for r in generated), overall,
                      _worst_self_error(generated)))  # fmt: skip
    for result in real:
        lines.append(_row(f"real: {result.name}", result.frames, result.scores, result.self_error))
    goals = _goals(generated, real, overall)
    lines += ["", "goals"]
    lines += [f"  [{'met' if ok else 'UNMET'}] {text}" for text, ok in goals]
    lines.append(
        "columns: ret = share of frames whose true subject box is inside the crop (its centre "
        "when it cannot fit); self± = |manifest retention - ret| (worst clip); cutR/P = cut "
        "recall/precision within ±2 frames; v, a = crop-centre speed and acceleration inside "
        "shots (px of a 1080-wide output per frame); still = largest move in still shots (px); "
        "lag = frames the crop trails the subject (median over moving shots)"
    )
    return lines, all(ok for _text, ok in goals)


def _goals(
    generated: list[ClipResult], real: list[ClipResult], overall: dict[str, Scores]
) -> list[tuple[str, bool]]:
    goals: list[tuple[str, bool]] = []
    mine, naive = summary(overall["pipeline"]), summary(overall["naive"])
    retention = mine["retention"] or 0.0
    goals.append((f"generated retention {retention:.3f} >= 0.97", retention >= 0.97))
    fastest = _pooled([r for r in generated if r.kind == FASTEST_CLASS])["pipeline"].retention
    if fastest is not None:
        goals.append((f"fastest class ({FASTEST_CLASS}) retention {fastest:.3f} >= 0.90",
                      fastest >= 0.90))  # fmt: skip
    recall, precision = mine["cut_recall"], mine["cut_precision"]
    if recall is not None:
        goals.append((f"cut recall {recall:.3f} >= 0.95", recall >= 0.95))
    goals.append((f"cut precision {_fmt(precision)} >= 0.95",
                   precision is None or precision >= 0.95))  # fmt: skip
    still = mine["still_move"]
    if still is not None:
        goals.append((f"still shots move {still:.1f} px (goal 0)", still == 0.0))
    accel, naive_accel = mine["accel_p95"] or 0.0, naive["accel_p95"] or 0.0
    goals.append((f"p95 acceleration {accel:.2f} <= half the naive baseline's {naive_accel:.2f}",
                  accel <= 0.5 * naive_accel))  # fmt: skip
    naive_retention = naive["retention"] or 0.0
    goals.append((f"retention {retention:.3f} >= the naive baseline's {naive_retention:.3f}",
                  retention >= naive_retention))  # fmt: skip
    for result in real:
        centre, kept = result.scores["centre"].retention, result.truth_retention
        if centre is not None and kept is not None and centre < 0.90:
            goals.append((f"real clip {result.name}: retention {kept:.3f} >= 0.90 "
                          f"(centre crop {centre:.3f})", kept >= 0.90))  # fmt: skip
    everything = [*generated, *real]
    worst = _worst_self_error(everything)
    silent = [r.name for r in everything if r.self_measured is None]
    text = (
        f"self-measured retention within ±0.05 of the truth on every clip that claims one "
        f"(worst {_fmt(worst)}; no subject found, no claim: {', '.join(silent) or 'none'})"
    )
    goals.append((text, worst is not None and worst <= 0.05))
    return goals


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench quality")
    parser.add_argument("--quick", action="store_true", help="one clip per class, no real clips")
    parser.add_argument(
        "--only", help="run the clips (generated and real) whose name contains this"
    )
    parser.add_argument("--save", type=Path, help="write the figures as JSON to this file")
    args = parser.parse_args(argv)
    specs = QUICK if args.quick else SUITE
    if args.only:
        specs = [s for s in SUITE if args.only in s.name]
    started = time.perf_counter()
    generated: list[ClipResult] = []
    real: list[ClipResult] = []
    with tempfile.TemporaryDirectory(prefix="reframer-quality-") as scratch:
        work = Path(scratch)
        for spec in specs:
            source, truth = generate(spec, CLIPS)
            generated.append(evaluate(spec.name, spec.kind, source, truth, spec.aspect, work))
            print(f"  {spec.name}: {generated[-1].seconds:.1f} s", file=sys.stderr, flush=True)
        if not args.quick:
            for clip in real_clips():
                if args.only and args.only not in clip.name:
                    continue
                real.append(evaluate(clip.name, "real", clip.path, clip.truth, "9:16", work))
                print(f"  {clip.name}: {real[-1].seconds:.1f} s", file=sys.stderr, flush=True)
    lines, met = report(generated, real)
    lines.append(f"({len(generated)} generated and {len(real)} real clips in "
                 f"{time.perf_counter() - started:.0f} s)")  # fmt: skip
    print("\n".join(lines), flush=True)
    if args.save:
        args.save.write_text(json.dumps({
            r.name: {"kind": r.kind, "self_measured": r.self_measured,
                     **{m: summary(s) for m, s in r.scores.items()}}
            for r in [*generated, *real]
        }, indent=1))  # fmt: skip
    return 0 if met else 1
