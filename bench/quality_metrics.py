"""Quality metrics of a crop path, computed from the ground truth only (never from the
pipeline's own detections): retention, cuts, smoothness, stillness and lag."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from bench.quality_clips import Truth

FloatArray = NDArray[np.float64]
# A detected cut within this many frames of a real one (or of a fade's or dissolve's span)
# finds it.
CUT_TOLERANCE = 2
# Frames next to a cut left out of the in-shot measures: a cut found a frame or two off moves
# the crop there, which is the cut's metric, not the camera's smoothness.
CUT_MARGIN = 3


@dataclass
class Scores:
    """One crop path's figures on one clip; counts are kept so classes can be pooled."""

    kept: int = 0
    judged: int = 0
    cuts_true: int = 0
    cuts_found: int = 0
    cuts_matched_true: int = 0
    cuts_matched_found: int = 0
    # Per-frame crop-centre speeds and accelerations inside shots, output px/frame.
    speeds: list[float] = field(default_factory=list)
    accels: list[float] = field(default_factory=list)
    # Largest crop move inside a still shot (output px), None without still shots.
    still_move: float | None = None
    lags: list[float] = field(default_factory=list)

    @property
    def retention(self) -> float | None:
        return self.kept / self.judged if self.judged else None

    @property
    def recall(self) -> float | None:
        return self.cuts_matched_true / self.cuts_true if self.cuts_true else None

    @property
    def precision(self) -> float | None:
        return self.cuts_matched_found / self.cuts_found if self.cuts_found else None

    def add(self, other: Scores) -> None:
        for name in (
            "kept", "judged", "cuts_true", "cuts_found", "cuts_matched_true",
            "cuts_matched_found",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.speeds += other.speeds
        self.accels += other.accels
        self.lags += other.lags
        if other.still_move is not None:
            self.still_move = max(self.still_move or 0.0, other.still_move)


def kept_frames(
    boxes: list[tuple[float, float, float, float] | None],
    x: FloatArray,
    y: FloatArray,
    window: tuple[int, int],
    sizes: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[int, int]:
    """(frames whose subject is kept, frames with a subject): the whole box inside the crop
    where it fits in one, else its centre. `sizes`: per-frame crop width and height, for a
    path whose window changes size (pyautoflip widens it and pads); else `window` throughout."""
    kept = judged = 0
    slack = 0.5
    for i, box in enumerate(boxes):
        if box is None or i >= len(x):
            continue
        bx, by, bw, bh = box
        judged += 1
        left, top = x[i], y[i]
        width, height = (sizes[0][i], sizes[1][i]) if sizes is not None else window
        if bw <= width and bh <= height:
            inside = (
                bx >= left - slack
                and by >= top - slack
                and bx + bw <= left + width + slack
                and by + bh <= top + height + slack
            )
        else:
            cx, cy = bx + bw / 2, by + bh / 2
            inside = left <= cx <= left + width and top <= cy <= top + height
        kept += int(inside)
    return kept, judged


def _cut_scores(truth_cuts: list[tuple[int, int]], found: list[int]) -> tuple[int, int]:
    matched_true = sum(
        1 for a, b in truth_cuts if any(a - CUT_TOLERANCE <= f <= b + CUT_TOLERANCE for f in found)
    )
    matched_found = sum(
        1 for f in found if any(a - CUT_TOLERANCE <= f <= b + CUT_TOLERANCE for a, b in truth_cuts)
    )
    return matched_true, matched_found


def _interior_spans(truth: Truth) -> list[tuple[int, int, int]]:
    """(shot, first, end) of each shot's frames away from its cuts and transitions."""
    spans = []
    frames = truth.frames
    shot_of = np.array(truth.shot_of)
    in_transition = np.zeros(frames, bool)
    for a, b in truth.cuts:
        in_transition[max(0, a - CUT_MARGIN) : min(frames, b + CUT_MARGIN + 1)] = True
    for shot in range(max(shot_of, default=-1) + 1):
        members = np.nonzero((shot_of == shot) & ~in_transition)[0]
        if len(members) > 2:
            spans.append((shot, int(members[0]), int(members[-1]) + 1))
    return spans


def _lag(subject: FloatArray, crop: FloatArray, fps: float) -> float | None:
    """Frames by which the crop's movement trails the subject's: the shift that best lines up
    their velocities (x axis). None when the subject's speed does not change (a constant
    motion has no lag to see) or the crop does not move."""
    a_all, b_all = np.diff(subject), np.diff(crop)
    if len(a_all) < fps or np.std(a_all) < 0.5 or np.std(b_all) < 1e-6:
        return None
    best, best_score = 0, -np.inf
    reach = max(1, round(fps / 2))
    for shift in range(-reach, reach + 1):
        if shift >= 0:
            a, b = a_all[: len(a_all) - shift], b_all[shift:]
        else:
            a, b = a_all[-shift:], b_all[: len(b_all) + shift]
        if len(a) < fps / 2 or np.std(a) < 1e-6 or np.std(b) < 1e-6:
            continue
        correlation = float(np.corrcoef(a, b)[0, 1])
        if correlation > best_score:
            best, best_score = shift, correlation
    return float(best)


def score(
    truth: Truth,
    x: FloatArray,
    y: FloatArray,
    window: tuple[int, int],
    output_width: int,
    found_cuts: list[int] | None,
    sizes: tuple[FloatArray, FloatArray] | None = None,
) -> Scores:
    """The figures of the crop path (x, y: its top-left corner per frame, source pixels).
    `sizes` (per-frame width and height) when the window changes size; motion is then read
    at the crop's centre and still scaled by `window`, the nominal crop of the output."""
    n = min(len(x), truth.frames)
    x, y = np.asarray(x[:n], np.float64), np.asarray(y[:n], np.float64)
    if sizes is not None:
        sizes = (np.asarray(sizes[0][:n], np.float64), np.asarray(sizes[1][:n], np.float64))
    scores = Scores()
    scores.kept, scores.judged = kept_frames(truth.boxes[:n], x, y, window, sizes)
    if found_cuts is not None:
        scores.cuts_true, scores.cuts_found = len(truth.cuts), len(found_cuts)
        scores.cuts_matched_true, scores.cuts_matched_found = _cut_scores(truth.cuts, found_cuts)
    scale = output_width / window[0]
    if sizes is None:
        centre_x, centre_y = x + window[0] / 2, y + window[1] / 2
    else:
        centre_x, centre_y = x + sizes[0] / 2, y + sizes[1] / 2
    cx, cy = centre_x * scale, centre_y * scale
    for shot, first, end in _interior_spans(truth):
        end = min(end, n)
        if end - first < 3:
            continue
        px, py = cx[first:end], cy[first:end]
        speed = np.hypot(np.diff(px), np.diff(py))
        accel = np.hypot(np.diff(px, 2), np.diff(py, 2))
        scores.speeds += speed.tolist()
        scores.accels += accel.tolist()
        if truth.still_shots[shot]:
            move = float(np.max(np.hypot(px - px[0], py - py[0])))
            scores.still_move = max(scores.still_move or 0.0, move)
        known = [i for i in range(first, end) if truth.boxes[i] is not None]
        if len(known) == end - first and not truth.still_shots[shot]:
            subject = np.array([truth.boxes[i][0] + truth.boxes[i][2] / 2 for i in known])  # type: ignore[index]
            lag = _lag(subject, centre_x[first:end], truth.fps)
            if lag is not None:
                scores.lags.append(lag)
    return scores


def summary(scores: Scores) -> dict[str, float | None]:
    speeds, accels = np.array(scores.speeds), np.array(scores.accels)
    return {
        "retention": scores.retention,
        "cut_recall": scores.recall,
        "cut_precision": scores.precision,
        "speed_mean": float(speeds.mean()) if speeds.size else None,
        "speed_p95": float(np.percentile(speeds, 95)) if speeds.size else None,
        "accel_mean": float(accels.mean()) if accels.size else None,
        "accel_p95": float(np.percentile(accels, 95)) if accels.size else None,
        "still_move": scores.still_move,
        "lag": float(np.median(scores.lags)) if scores.lags else None,
    }
