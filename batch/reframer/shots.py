"""Stage 3, shots: hard-cut boundaries from colour histograms and a tiny picture per frame.

A cut is a frame that differs from the one before far more than its neighbours differ from
theirs (so a fast pan is not a cut) and that does not snap back a frame later (so a flash is
not a cut). The score is colour and layout, so two angles of one scene (same colours, other
layout) are told apart. A jump cut (the next shot on the same background, the subject
elsewhere) changes too little of either: it is one block of the layout changing at once,
far more than at the frames either side and around, or, against a subject moving before and
after, blocks changing far more than any block near them changed the frame before or changes
the frame after (a subject moving changes each block about as much as those a block or two
away did and will; one that jumps does not). A cut between two like pictures (two textures
of one colour) changes less than a cut must, but all at once and for good: a step far above
the frames around and either side that still holds half a second later. A big change that
dense optical flow explains (the picture warped by it matches the next) is motion, whichever
rule took it for a cut: a close-up filmed by hand, a beak crossing the picture, a fast swing.

Fades and dissolves change every frame a little instead of one frame a lot: a run of frames
that each change more than the shot around them (twin comparison, Zhang et al. 1993) whose
ends differ as much as a cut's two sides is a gradual transition, when its middle frame is
the blend of its ends (a dissolve) or darker than both (a fade through black); a pan is
neither. The new shot starts in the middle of the transition.

A pass that leaves frames out (decode.py: B-frames between samples) feeds fewer than every
frame: the scores are then between the frames fed, the windows count frames fed (at their
rate, not the video's), and a hard cut found between two fed frames with others left out
between them is a `Cut` whose exact frame `pinpoint` finds among those, decoded again.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from batch.reframer.decode import AnalysisFrame, Gray

FloatArray = NDArray[np.float64]

# A frame-to-frame change below this is never a cut (0 = same picture, 1 = nothing alike);
# the contrast below does most of the work. Cuts on the suite and its real clips score
# 0.33-0.78, but a dark cartoon cutting between angles of one candle-lit room (Megamind.avi,
# OpenCV's sample data) only 0.26-0.30, against 0.003-0.007 within its shots: at 0.3 it came
# out as one shot, framed on a face in the background. At 0.15 a car passing through bikes'
# cyclist shot became a cut (compared across the frames the pass leaves undecoded); 0.2 and
# 0.25 find every cut of bikes, its later starts and 10 re-encodes, and none else.
MIN_CUT_SCORE = 0.2
# ...and it must stand this many times above the typical change around it.
CUT_CONTRAST = 3.0
# A jump cut (the next shot on the same background, its subject elsewhere) barely changes the
# colours or the average layout (0.02-0.15), but one part of the picture changes at once and
# then holds: a block of the layout changes by at least this much (0-1)...
JUMP_MIN_BLOCK_CHANGE = 0.1
# ...this many times more than at the frames either side and than typically around it...
JUMP_CONTRAST = 3.5
# ...with at least this much change overall. Measured on 18 jump cuts of random clips
# (`python -m bench quality --held-out`, seeds 3 and 4): 15 have all three (a block change of
# 0.12-0.54, 3.6-36 times that around, 0.020-0.147 overall); the other 3, against a subject
# moving before and after, a contrast of 2.1 or under. On the suite, the real clips and their
# later starts nothing else has all three: the closest, the rabbit of Big Buck Bunny leaping
# (a contrast of 3.6, 0.012 overall) and carphone's passenger turning (3.3, a block 0.09).
JUMP_MIN_SCORE = 0.018
# Those 3, and their like on later seeds, change blocks of the layout far more than any block
# within this many changed the frame before (where the subject lands) or changes the frame
# after (where it left); a subject moving on is found that near (the fastest on the suite and
# the random clips move 1-2 blocks between the frames fed)...
MOTION_REACH_BLOCKS = 2
# ...by more than this a block (0-1, below is noise and compression)...
UNEXPLAINED_MIN_BLOCK_CHANGE = 0.02
# ...by this much in all (the sum over the blocks, the smaller of the two: against the frame
# before and against the frame after), this many times that at the frames either side and
# around, with the overall change this many times that around. Measured on the shot detector fed
# as the pipeline feeds it: of the 11 jump cuts of seeds 12-16 the other rules missed, 4 have
# 0.9-1.9 (7 have 0.14-0.63: a small or still subject on one side); on every other frame of 540
# random clips (seeds 3-20), the suite, the real clips and their later starts the most with both
# contrasts is 0.64 (a face stopping and going). At 0.7, 9 more of the 446 cuts of seeds 3-20
# are found and nothing else; at 0.45, 15 more and 3 false cuts.
JUMP_MIN_UNEXPLAINED = 0.7
JUMP_UNEXPLAINED_CONTRAST = 4.0
JUMP_SCORE_CONTRAST = 3.0
# (the typical change around taken as at least this much: a still picture's is about 0)
JUMP_MIN_CHANGE = 0.002
# Where a face jumps or the faces vanish between two samples (face_jumps.py), the frame
# between them whose change motion does not explain is largest needs only this much (the 4
# of 5 missed jump cuts of seeds 28-33 that have any: 0.30-0.51), this many times that around,
# and the picture changing this little at the least (times JUMP_SCORE_CONTRAST). Measured
# (session 34) on the shot detector's inputs of 599 clips (the suite, the real clips at every
# start and framing, seeds 80-91, 82, 83, 85, 87 and 88 in other formats; 460 cuts): of the 252
# witnessed frames, 60 are not at a cut, and none of them has more than 0.023 unexplained with
# the picture changing three times its typical change; two cuts were missed by these alone: a
# small face on a flat picture jumping to another place (0.178, the picture changing 0.005
# where 0.006 was asked) and one on a panning photograph (1.41, 3.8 times the frame after).
# With these they are found and nothing else is (nothing else at 0.1, 3.0 and 0.0005 either).
# The floor was 0.15 until session 40: on 371 clips (the suite, the real clips at every start,
# held-out seeds 105, 107 and 109-113, and 105, 112 and 113 in other formats; 293 hard cuts)
# 0.10 finds two jump cuts between two faces on one background that a face witnessed (0.118
# and 0.129 unexplained) and no false cut; nor does any floor down to 0.03.
FACE_JUMP_MIN_UNEXPLAINED = 0.10
FACE_JUMP_UNEXPLAINED_CONTRAST = 3.5
FACE_JUMP_MIN_CHANGE = 0.001
# Where no face witnesses it, a jump cut that changes the picture at one frame only (a step:
# this many times the change at the frames either side) and one block of the layout this
# many times more than around and either side needs only this much change motion does not
# explain, with the same contrasts as above. Measured (session 35) on the shot detector's
# inputs of 1,379 clips (the suite, the real clips at every start and framing, seeds 3-12,
# 73-96 and nine seeds in other formats; 1,098 cuts): 8 more cuts are found (0.19-0.58
# left unexplained: jump cuts on one background where no face was detected far enough from
# the next to witness it), none false; the frames with every contrast but no cut leave at
# most 0.15 (an arm at the picture's edge in the rolling ball's real clip, started 1 frame
# later) or are dropped as flashes or at the clip's end. Chosen on 899 of those clips; the other 510
# (seeds 3-12 and 73-79) then gained one cut and no false one.
STEP_JUMP_MIN_UNEXPLAINED = 0.17
STEP_JUMP_STEP = 3.5
STEP_JUMP_BLOCK_CONTRAST = 2.5
# Below MIN_CUT_SCORE a cut between two like pictures (two textures of one colour, the next
# shot's picture of the same room) is one that changes at least this much (0-1)...
QUIET_CUT_MIN_SCORE = 0.06
# ...this many times the typical change around it and this many times the change at the
# frames either side (a step, where a subject moving changes every frame about alike)...
QUIET_CUT_CONTRAST = 5.0
QUIET_CUT_STEP = 3.0
# ...and holds: the picture half a second later still differs from the one before the cut by
# this share of the change. Measured on every frame changing 0.06-0.2 of the generated suite,
# the real clips and their 4 later starts and 210 random clips (seeds 3-9): the 29 cuts there
# have a contrast of 7.2-33, a step of 4.2-32 and hold 0.99-1.18; no other frame has all
# three (the closest: a noisy flat picture whose compression changed, contrast 11, step 12,
# holding 0.75; and an exposure change 4 frames before a real clip's end, with no half
# second after it).
QUIET_CUT_HOLDS = 0.9
# A quiet cut where a block of the layout changes by JUMP_MIN_BLOCK_CHANGE or more (the next
# shot on the same flat background, its subject another) needs only this much change, with
# the same contrasts. Measured on the suite, the real clips at every start and seeds 3-12 and
# 73-75 (461 clips, 374 cuts): it finds one cut more (74-19 at frame 45: a change of 0.047,
# 9.5 times that around it, a step 5.6 times those beside it, holding 0.95, a block 0.135)
# and nothing else; the other frames with both contrasts are two noisy flat pictures whose
# compression shifted their colours (blocks 0.01) and two clips' last frames, where nothing
# shows a change holds. Then on a fresh seed (76, 30 clips) it found the one cut the other
# rules missed (76-28 at 60: 0.041, 6.2 times, a step of 3.2, holding 0.96, a block 0.23),
# and nothing else there or on seed 77.
QUIET_JUMP_MIN_SCORE = 0.03
# The layout's changes between two pictures darker than this (their blocks' mean luma, 0..1)
# are scaled up to what they would be at this brightness: the floors above are set on
# pictures of ordinary brightness (measured: a jump cut in a clip at 0.35 of its brightness
# changed its largest block by 0.073 and left 0.50 unexplained, where the same cut in the
# bright clip changed them by 0.207 and 1.69; found with this. Another, darkened to a mean of
# about 0.19, is still missed: 0.092 where it needs 0.1. Nothing else changed on the suite,
# the real clips, seeds 80-84 and 60 of their clips in other formats; the only value tried).
DARK_LUMA = 0.25
# A change of at least this much (half a hard cut's floor)...
MOTION_CHECK_MIN_SCORE = 0.1
# ...that warping the frame before onto this one by the dense optical flow between them (DIS,
# on the luma thumbnails) shrinks to this share or less is motion, not a cut. Measured on the
# cuts every rule finds on the generated suite, 300 random clips (seeds 6 and 36-44), the real
# clips and their later starts: 0.58 or more at the 200 true ones changing that much;
# 0.17-0.24 at the 12 false ones, all in a cockatoo filmed close up by hand (its beak
# crossing the picture, a fast swing). Smaller changes are left alone: flow partly explains a
# jump cut to one background, a subject leaping elsewhere (0.30 and 0.38 at two of them).
MOTION_EXPLAINS = 0.35
# Flow does not explain away a change this many times the typical change around it and this
# many times that at the frames either side: warping can fill where a thing vanished with
# the flat picture around it, as if it had moved (a motorcycle on a flat grey picture cut to
# a ball elsewhere on it: 0.25 left, 23 times the change around, 6.1 times either side),
# while a camera swung from rest changes the frames either side as much. Measured (session
# 35) on the shot detector's inputs of 1,379 clips: the veto removes 16 false cuts, all in
# the handheld cockatoo at 3.1-5.1 times the change around them, and without these two
# bounds it removed that true cut too (the same clip in two formats).
MOTION_VETO_MAX_CONTRAST = 10.0
MOTION_VETO_MAX_STEP = 4.0
# Shots shorter than this are merged: a camera cannot settle in less...
MIN_SHOT_SECONDS = 0.4
# ...except the first and the last, which have no neighbour on one side to merge into: a clear
# cut this close to the start or the end still starts another scene.
MIN_EDGE_SHOT_SECONDS = 0.2
# Gradual transitions: each frame of the run changes at least this much and this many times
# the typical change of the second around it...
GRADUAL_MIN_STEP = 0.03
GRADUAL_CONTRAST = 2.0
# ...for at least this many frames and at most this long...
GRADUAL_MIN_FRAMES = 4
GRADUAL_MAX_SECONDS = 2.0
# ...and its middle is within this share of the ends' difference from their blend.
BLEND_TOLERANCE = 0.35


@dataclass(frozen=True)
class Shot:
    """Frames [start, end) of one continuous take."""

    start: int
    end: int

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Cut:
    """A new shot starting at `frame`; `after` is the frame analysed before it: if frames
    lie between the two (left undecoded), the cut is one of `after + 1 .. frame`."""

    frame: int
    after: int

    @property
    def exact(self) -> bool:
        return self.frame - self.after <= 1


def _signature(frame: AnalysisFrame) -> FloatArray:
    parts = []
    # 32 luma bins and 16 per chroma plane: fine enough to tell scenes apart, coarse enough
    # that noise and small movements barely change them.
    for plane, bins in ((frame.luma, 32), (frame.chroma_u, 16), (frame.chroma_v, 16)):
        # OpenCV's histogram: the same counts as numpy's bincount, a third of the time.
        hist = cv2.calcHist([plane], [0], None, [bins], [0, 256]).ravel().astype(np.float64)
        parts.append(hist / max(plane.size, 1))
    return np.concatenate(parts)


def _tiny(luma: NDArray[np.uint8]) -> FloatArray:
    """A 16x9-ish block average: the layout of the picture, blind to noise."""
    rows, cols = max(1, luma.shape[0] // 9), max(1, luma.shape[1] // 16)
    cut = luma[: rows * (luma.shape[0] // rows), : cols * (luma.shape[1] // cols)]
    blocks = cut.reshape(cut.shape[0] // rows, rows, cut.shape[1] // cols, cols)
    return np.asarray(blocks.mean(axis=(1, 3)), dtype=np.float64) / 255.0


def _described(
    signatures: list[NDArray[np.float32]], layouts: list[NDArray[np.float32]], i: int
) -> tuple[FloatArray, FloatArray]:
    """Frame i's signature and layout as kept (float32), back in the form `_distance` takes."""
    return signatures[i].astype(np.float64), layouts[i].astype(np.float64)


def _distance(a: tuple[FloatArray, FloatArray], b: tuple[FloatArray, FloatArray]) -> float:
    # Histogram distance: 0.5 * L1 per plane, averaged over the three planes.
    histogram = float(np.abs(a[0] - b[0]).sum()) / 6.0
    layout = float(np.abs(a[1] - b[1]).mean()) * 4.0
    return 0.6 * histogram + 0.4 * min(1.0, layout)


class ShotDetector:
    """Fed the analysis frames in order (every frame, or every one decoded: their indices say
    which); `cuts()` and `shots()` give the boundaries at the end."""

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self._scores: list[float] = [0.0]
        self._skip_scores: list[float] = [0.0]
        # The largest change of one block of the layout from the frame before (jump cuts).
        self._block_changes: list[float] = [0.0]
        self._previous: list[tuple[FloatArray, FloatArray]] = []
        # Every frame's signature and layout, small (about 1 kB a frame), for the gradual
        # transitions found at the end.
        self._signatures: list[NDArray[np.float32]] = []
        self._layouts: list[NDArray[np.float32]] = []
        self._indices: list[int] = []
        self._grid: tuple[int, int] = (0, 0)
        # Per frame fed: the share of a big change from the frame before that optical flow
        # leaves unexplained (`motion_explained`; 1 where the change is small).
        self._unexplained_by_flow: list[float] = [1.0]
        self._previous_luma: Gray | None = None
        self._flow: cv2.DISOpticalFlow | None = None

    @property
    def frame_count(self) -> int:
        """Frames up to the last one fed."""
        return self._indices[-1] + 1 if self._indices else 0

    def add(self, frame: AnalysisFrame) -> None:
        current = (_signature(frame), _tiny(frame.luma))
        self._grid = (current[1].shape[0], current[1].shape[1])
        if self._previous:
            score = _distance(self._previous[-1], current)
            self._scores.append(score)
            before = self._previous[-2] if len(self._previous) > 1 else self._previous[-1]
            self._skip_scores.append(_distance(before, current))
            left = 1.0
            if score >= MOTION_CHECK_MIN_SCORE and self._previous_luma is not None:
                if self._flow is None:
                    self._flow = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
                left = motion_explained(self._flow, self._previous_luma, frame.luma)
            self._unexplained_by_flow.append(left)
        self._previous = [*self._previous[-1:], current]
        self._previous_luma = frame.luma
        self._signatures.append(current[0].astype(np.float32))
        self._layouts.append(current[1].astype(np.float32).ravel())
        if len(self._layouts) > 1:
            change = _layout_change(self._layouts[-2], self._layouts[-1])
            self._block_changes.append(float(change.max()))
        self._indices.append(frame.index)

    def cuts(
        self,
        face_witnesses: Sequence[tuple[int, int]] = (),
        face_stays: Sequence[tuple[int, int]] = (),
    ) -> list[Cut]:
        """The frames that start a new shot. Windows and shortest shots are measured in the
        frames fed, at the rate they were fed. `face_witnesses`: (a, b) frames between which a
        face jumped or the faces vanished; `face_stays`: between which every face stayed where
        it was (face_jumps.py)."""
        fed = len(self._indices)
        if fed < 2:
            return []
        rate = self.fps * (fed - 1) / max(1, self._indices[-1] - self._indices[0])
        scores = np.array(self._scores)
        blocks = np.array(self._block_changes)
        held = self._held_changes(scores, rate)
        unexplained = unexplained_changes(self._layouts, self._grid)
        at = np.array(self._indices)
        witnessed = _witnessed(at, face_witnesses, unexplained)
        faces_stayed = np.zeros(fed, dtype=bool)
        for before, after in face_stays:
            faces_stayed[_fed_between(at, before, after)] = True
        hard = find_cuts(
            scores,
            np.array(self._skip_scores),
            rate,
            blocks,
            held,
            unexplained,
            witnessed,
            np.array(self._unexplained_by_flow),
            faces_stayed,
        )
        gradual = find_gradual(scores, self._signatures, self._layouts, rate)
        # A gradual transition's middle is a frame inside it, never one to pinpoint.
        return [
            Cut(int(at[i]), int(at[i - 1]) if i in hard else int(at[i]) - 1)
            for i in merge_cuts(hard, gradual, rate, fed)
        ]

    def _held_changes(self, scores: FloatArray, rate: float) -> FloatArray:
        """Per frame changing at least QUIET_JUMP_MIN_SCORE: how much the picture half a second
        later differs from the one before it (0 elsewhere, and where the video ends sooner:
        nothing shows it holds; measured: a real clip's exposure shifts 4 frames before its
        end, which came out as a cut)."""
        held = np.zeros(len(scores))
        later = max(1, round(rate / 2))
        for i in np.flatnonzero(scores >= QUIET_JUMP_MIN_SCORE).tolist():
            before, after = i - 1, i + later
            if before < 0 or after >= len(self._signatures):
                continue
            held[i] = _distance(
                _described(self._signatures, self._layouts, before),
                _described(self._signatures, self._layouts, after),
            )
        return held

    def shots(self, frame_count: int | None = None) -> list[Shot]:
        """The shots between the cuts, as found (not pinpointed), to `frame_count` frames."""
        return shots_between(
            [cut.frame for cut in self.cuts()],
            self.frame_count if frame_count is None else frame_count,
        )


def shots_between(cuts: list[int], frame_count: int) -> list[Shot]:
    bounds = [0, *cuts, frame_count]
    return [Shot(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def pinpoint(cut: Cut, frames: list[AnalysisFrame]) -> int:
    """The exact frame of a cut found between two decoded frames: of `frames` (every frame
    from `cut.after` to `cut.frame`), the one that differs most from the one before it."""
    by_index = {frame.index: frame for frame in frames}
    if any(i not in by_index for i in range(cut.after, cut.frame + 1)):
        return cut.frame  # some no longer decode: keep where it was found
    described = [
        (_signature(by_index[i]), _tiny(by_index[i].luma)) for i in range(cut.after, cut.frame + 1)
    ]
    changes = [_distance(a, b) for a, b in itertools.pairwise(described)]
    return cut.after + 1 + int(np.argmax(changes))


def _fed_between(at: NDArray[np.int_], before: int, after: int) -> NDArray[np.intp]:
    """The places, among the frames fed (`at`), of those after frame `before` up to `after`:
    the changes a face's samples `before` and `after` say something about."""
    return np.flatnonzero((at > before) & (at <= after))


def _witnessed(
    at: NDArray[np.int_], face_witnesses: Sequence[tuple[int, int]], unexplained: FloatArray
) -> NDArray[np.bool_]:
    """Per frame fed (`at`): the one between the two frames of a face's jump or vanishing
    whose change motion does not explain is largest."""
    witnessed = np.zeros(len(at), dtype=bool)
    for before, after in face_witnesses:
        between = _fed_between(at, before, after)
        if len(between):
            witnessed[between[np.argmax(unexplained[between])]] = True
    return witnessed


def find_cuts(
    scores: FloatArray,
    skip_scores: FloatArray,
    fps: float,
    blocks: FloatArray | None = None,
    held: FloatArray | None = None,
    unexplained: FloatArray | None = None,
    witnessed: NDArray[np.bool_] | None = None,
    left_by_flow: FloatArray | None = None,
    faces_stayed: NDArray[np.bool_] | None = None,
) -> list[int]:
    """Frame indices that start a new shot.

    `scores[i]` is the change from frame i-1 to i; `skip_scores[i]` the change from i-2 to i,
    which tells a flash (one odd frame) from a cut; `blocks[i]`, the largest change of one
    block of the layout from frame i-1 to i, and `unexplained[i]` (`unexplained_changes`)
    find jump cuts, on less of it where `witnessed[i]` (a face jumped or vanished there);
    `held[i]`, the change from frame i-1 to half a second after i, finds quiet cuts;
    `left_by_flow[i]` (`motion_explained`) tells motion from a cut where much changed;
    where `faces_stayed[i]` (every face stayed where it was across it), only a change of
    MIN_CUT_SCORE or more is a cut.
    """
    n = len(scores)
    if n < 2:
        return []
    half_window = max(2, round(fps / 2))
    candidates: list[int] = []
    for i in range(1, n):
        score = scores[i]
        if score < MIN_CUT_SCORE:
            if faces_stayed is not None and faces_stayed[i]:
                continue
            quiet = held is not None and _quiet_cut(scores, held, i, half_window, blocks)
            jump = blocks is not None and _jump_cut(scores, blocks, i, half_window)
            seen_by_a_face = witnessed is not None and bool(witnessed[i])
            past_motion = _jump_past_motion(scores, unexplained, i, half_window, seen_by_a_face)
            stepped = blocks is not None and _jump_in_one_step(
                scores, blocks, unexplained, i, half_window
            )
            if not (quiet or jump or past_motion or stepped):
                continue
        elif score < CUT_CONTRAST * max(_typical_around(scores, i, half_window), 0.02):
            continue
        # A flash: the frame after looks like the frame before (entering it), or this frame
        # looks like the one before the last (leaving it).
        if i + 1 < n and skip_scores[i + 1] < 0.5 * score:
            continue
        if i >= 2 and skip_scores[i] < 0.5 * score:
            continue
        if _explained_by_motion(scores, left_by_flow, i, half_window):
            continue
        candidates.append(i)
    min_gap = max(1, round(MIN_SHOT_SECONDS * fps))
    min_edge = max(2, round(MIN_EDGE_SHOT_SECONDS * fps))
    cuts: list[int] = []
    for i in candidates:
        if i < min_edge or n - i < min_edge:
            continue
        if cuts and i - cuts[-1] < min_gap:
            if scores[i] > scores[cuts[-1]]:
                cuts[-1] = i
            continue
        cuts.append(i)
    return cuts


def motion_explained(flow: cv2.DISOpticalFlow, before: Gray, after: Gray) -> float:
    """The share of the change from `before` to `after` (mean absolute difference) left once
    `before` is warped onto `after` by the dense optical flow from `after` back to it: near 0
    where things moved, about 1 or more where the picture changed (a cut)."""
    change = float(cv2.absdiff(before, after).mean())
    if change == 0.0:
        return 1.0
    height, width = after.shape
    field = flow.calc(after, before, np.zeros((height, width, 2), np.float32))
    columns, rows = np.meshgrid(
        np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    )
    warped = cv2.remap(
        before,
        columns + field[..., 0],
        rows + field[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return float(cv2.absdiff(warped, after).mean()) / change


def _explained_by_motion(
    scores: FloatArray, left_by_flow: FloatArray | None, i: int, half_window: int
) -> bool:
    """Whether the change into frame i is motion: the flow leaves little of it, unless it
    stands far above the typical change around it and at the frames either side."""
    if left_by_flow is None or left_by_flow[i] > MOTION_EXPLAINS:
        return False
    return bool(
        scores[i] < MOTION_VETO_MAX_CONTRAST * _typical_around(scores, i, half_window)
        or scores[i] < MOTION_VETO_MAX_STEP * _beside(scores, i)
    )


def _quiet_cut(
    scores: FloatArray,
    held: FloatArray,
    i: int,
    half_window: int,
    blocks: FloatArray | None,
) -> bool:
    """Whether frame i is a cut between two like pictures: a step in the change, far above
    the frames around and either side, that holds (the picture does not come back); a
    smaller one where a block of the layout changes too (`blocks`, as `find_cuts` takes)."""
    score = float(scores[i])
    jumped = blocks is not None and float(blocks[i]) >= JUMP_MIN_BLOCK_CHANGE
    if score < (QUIET_JUMP_MIN_SCORE if jumped else QUIET_CUT_MIN_SCORE):
        return False
    return (
        score >= QUIET_CUT_CONTRAST * max(_typical_around(scores, i, half_window), 0.005)
        and score >= QUIET_CUT_STEP * max(_beside(scores, i), 0.005)
        and float(held[i]) >= QUIET_CUT_HOLDS * score
    )


def _jump_cut(scores: FloatArray, blocks: FloatArray, i: int, half_window: int) -> bool:
    """Whether frame i is a jump cut: one part of the picture changes at once, far more than
    at the frames either side and around, and holds (a subject moving changes the picture
    at every frame; one that jumps, at one)."""
    change = float(blocks[i])
    if change < JUMP_MIN_BLOCK_CHANGE or scores[i] < JUMP_MIN_SCORE:
        return False
    return change >= JUMP_CONTRAST * _block_change_around(blocks, i, half_window)


def _jump_past_motion(
    scores: FloatArray,
    unexplained: FloatArray | None,
    i: int,
    half_window: int,
    seen_by_a_face: bool = False,
) -> bool:
    """Whether frame i is a jump cut against a subject moving before and after: much change
    that motion nearby does not explain (`unexplained_changes`), far more than at the frames
    either side and around, while the picture changes more than around; less of each where a
    face's detections jumped or vanished across it (`seen_by_a_face`)."""
    floor, contrast, least = (
        (FACE_JUMP_MIN_UNEXPLAINED, FACE_JUMP_UNEXPLAINED_CONTRAST, FACE_JUMP_MIN_CHANGE)
        if seen_by_a_face
        else (JUMP_MIN_UNEXPLAINED, JUMP_UNEXPLAINED_CONTRAST, JUMP_MIN_CHANGE)
    )
    return _unexplained_stands_out(scores, unexplained, i, half_window, floor, contrast, least)


def _jump_in_one_step(
    scores: FloatArray,
    blocks: FloatArray,
    unexplained: FloatArray | None,
    i: int,
    half_window: int,
) -> bool:
    """Whether frame i is a jump cut that no face witnessed: the picture changes at this
    frame far more than at the frames either side, one block of it far more than around,
    and motion nearby does not explain what changed (less of that is asked than of a jump
    past motion, `_jump_past_motion`, which may come with the frames either side changing
    too)."""
    return bool(
        _unexplained_stands_out(
            scores,
            unexplained,
            i,
            half_window,
            STEP_JUMP_MIN_UNEXPLAINED,
            JUMP_UNEXPLAINED_CONTRAST,
            JUMP_MIN_CHANGE,
        )
        and scores[i] >= STEP_JUMP_STEP * max(_beside(scores, i), 1e-4)
        and blocks[i] >= STEP_JUMP_BLOCK_CONTRAST * _block_change_around(blocks, i, half_window)
    )


def _unexplained_stands_out(
    scores: FloatArray,
    unexplained: FloatArray | None,
    i: int,
    half_window: int,
    floor: float,
    contrast: float,
    least: float,
) -> bool:
    """Whether frame i's change that motion does not explain is at least `floor` and
    `contrast` times that at the frames either side and around, while the picture changes
    JUMP_SCORE_CONTRAST times its typical change around (taken as at least `least`)."""
    if unexplained is None or unexplained[i] < floor:
        return False
    typical = max(_typical_around(unexplained, i, half_window), _beside(unexplained, i), 0.01)
    return bool(
        unexplained[i] >= contrast * typical
        and scores[i] >= JUMP_SCORE_CONTRAST * max(_typical_around(scores, i, half_window), least)
    )


def _block_change_around(blocks: FloatArray, i: int, half_window: int) -> float:
    """The largest block change typical around frame i or at the frames either side (taken
    as at least 0.005: a still picture's is about 0)."""
    return max(_typical_around(blocks, i, half_window), _beside(blocks, i), 0.005)


def unexplained_changes(layouts: list[NDArray[np.float32]], grid: tuple[int, int]) -> FloatArray:
    """Per frame fed, how far its blocks change beyond the largest change within
    MOTION_REACH_BLOCKS of them the frame before, summed over the blocks where that exceeds
    UNEXPLAINED_MIN_BLOCK_CHANGE, and the same against the frame after: the smaller of the two
    (0 for the first and last frames; `layouts`: one flattened `grid` of blocks a frame). A
    subject moving changes each block about as much as those a block or two away changed the
    frame before and will the frame after; one that jumps changes the blocks where it lands
    far more than anything near them changed before, and those it left far more than anything
    near them changes after. One frame at a time: an hour of video is 100,000 layouts."""
    n = len(layouts)
    unexplained = np.zeros(n)
    if n < 3:
        return unexplained

    def change_into(k: int) -> NDArray[np.float32]:
        return _layout_change(layouts[k - 1], layouts[k]).reshape(grid)

    # cv2.dilate with this kernel is a running maximum over the square around each block.
    side = 2 * MOTION_REACH_BLOCKS + 1
    kernel = np.ones((side, side), np.uint8)

    def reach(change: NDArray[np.float32]) -> NDArray[np.float32]:
        return np.asarray(cv2.dilate(change, kernel), np.float32)

    # Each change is spread once: it is the frame after for one frame, then the frame before
    # for the next.
    change = change_into(1)
    reach_before, reach_now = np.zeros_like(change), reach(change)
    for i in range(1, n - 1):
        after = change_into(i + 1)
        reach_after = reach(after)
        appears = change - reach_before
        goes = change - reach_after
        unexplained[i] = min(
            float(appears[appears > UNEXPLAINED_MIN_BLOCK_CHANGE].sum()),
            float(goes[goes > UNEXPLAINED_MIN_BLOCK_CHANGE].sum()),
        )
        change, reach_before, reach_now = after, reach_now, reach_after
    return unexplained


def _layout_change(before: NDArray[np.float32], after: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each block's change of luma between two layouts, scaled up where both are darker than
    `DARK_LUMA`."""
    brightness = max(float(before.mean()), float(after.mean()), 1e-3)
    scale = max(1.0, DARK_LUMA / brightness)
    return np.asarray(np.abs(after - before) * scale, np.float32)


def _beside(values: FloatArray, i: int) -> float:
    """The larger of `values` at the frames either side of frame i (frame 0 has nothing
    before it and counts as 0)."""
    before = float(values[i - 1]) if i > 1 else 0.0
    after = float(values[i + 1]) if i + 1 < len(values) else 0.0
    return max(before, after)


def _typical_around(values: FloatArray, i: int, half_window: int) -> float:
    """The median of `values` over `half_window` frames on each side of frame i, without it
    (and without frame 0, which has nothing before it)."""
    around = np.concatenate(
        (values[max(1, i - half_window) : i], values[i + 1 : i + 1 + half_window])
    )
    return float(np.median(around)) if around.size else 0.0


def _rolling_median(values: FloatArray, half_window: int) -> FloatArray:
    padded = np.pad(values, half_window, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half_window + 1)
    return np.asarray(np.median(windows, axis=1), dtype=np.float64)


def _is_transition(layouts: list[NDArray[np.float32]], before: int, after: int) -> bool:
    """Is the middle frame a blend of the two ends (dissolve) or darker than both (fade)?"""
    a, b = layouts[before].astype(np.float64), layouts[after].astype(np.float64)
    middle = layouts[(before + after) // 2].astype(np.float64)
    apart = float(np.abs(b - a).mean())
    if apart <= 1e-6:
        return False
    blended = float(np.abs(middle - (a + b) / 2).mean()) <= BLEND_TOLERANCE * apart
    faded = float(middle.mean()) < 0.5 * min(float(a.mean()), float(b.mean()))
    return blended or faded


def find_gradual(
    scores: FloatArray,
    signatures: list[NDArray[np.float32]],
    layouts: list[NDArray[np.float32]],
    fps: float,
) -> list[int]:
    """The middle frames of fades and dissolves (see the module's docstring)."""
    n = len(scores)
    if n < GRADUAL_MIN_FRAMES + 2:
        return []
    typical = _rolling_median(scores, max(2, round(fps)))
    active = scores > np.maximum(GRADUAL_MIN_STEP, GRADUAL_CONTRAST * typical)
    active[0] = False
    # One quiet frame inside a run does not end it.
    bridged = active.copy()
    bridged[1:-1] |= active[:-2] & active[2:]
    found = []
    longest = GRADUAL_MAX_SECONDS * fps
    edges = np.flatnonzero(np.diff(np.concatenate(([0], bridged.astype(np.int8), [0]))))
    for first, end in zip(edges[::2], edges[1::2], strict=True):
        if not GRADUAL_MIN_FRAMES <= end - first <= longest:
            continue
        before, after = first - 1, end - 1
        a = _described(signatures, layouts, before)
        b = _described(signatures, layouts, after)
        if _distance(a, b) >= MIN_CUT_SCORE and _is_transition(layouts, before, after):
            found.append(int(first + end) // 2)
    return found


def merge_cuts(hard: list[int], gradual: list[int], fps: float, frames: int) -> list[int]:
    """Hard cuts, plus the gradual transitions no hard cut was found in (a fade's dark middle
    often scores as a cut of its own)."""
    min_gap = max(1, round(MIN_SHOT_SECONDS * fps))
    cuts = list(hard)
    for cut in gradual:
        if cut < min_gap or frames - cut < min_gap:
            continue
        if all(abs(cut - other) >= min_gap for other in cuts):
            cuts.append(cut)
    return sorted(cuts)
