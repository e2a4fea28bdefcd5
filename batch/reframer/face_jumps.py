"""Jump cuts a face witnesses: the one face detected on a sample is, on the next, somewhere
a face cannot move in that time, or the faces on a sample are gone on the next, nowhere near
the picture's edge (neither the detector nor optical flow finds them: flow follows a face the
detector misses, and loses it where the picture is another).

A jump cut against subjects moving on both sides changes what motion nearby does not explain
(`shots.unexplained_changes`) by 0.30-0.51 on the cut frame and by nothing within half a
second (measured at 4 of the 5 jump cuts held-out seeds 28-33 missed), less than the 0.7 a
cut needs on that evidence alone (a face stopping and going reaches 0.64). Faces tell them
apart: between two samples a tenth of a second apart a face moved at most 1.5 of its widths
inside a shot (1623 pairs of single-face detections on seeds 31 and 33), and further than
two at 13 of the 27 cuts there. A calm shot is sampled half as often (sample_rate.py): 0.2 s
apart, a face moved at most 1.98 widths inside a shot (1260 pairs on seeds 36-39 and the
generated suite), and further than 3.3 at 27 of the 41 cuts there, so the distance asked for
grows with the time between the samples. Faces vanishing tell them apart too: over held-out
seeds 36-38 (90 clips) and the generated suite, 16 samples had faces and the next one, at
most 0.12 s later, none: 5 at a cut (the change motion does not explain, largest between the
two samples: 0.47-18.6; 2 of those cuts were missed before) and 11 inside a shot (at most
0.09). A vanishing counts there, where each face was at least half its width inside the
picture (one walking out of it vanishes without a cut). `shots.ShotDetector.cuts` takes the
frame between two such samples whose change motion does not explain is largest as a cut on
less of it.

The detector often misses a face on the last samples before a cut, where flow carries it: a
face flow carried to one sample and one detected far from it on the next witness a jump too
(on 581 clips, the suite, the real clips and their later starts and held-out seeds 6 and
36-51, 32 such pairs, all at a cut; one cut of seed 51 found that was missed). So do a face
detected on one sample and one flow carried back to the next from a later detection (a
small face after the cut that only the larger look, once a second, finds): on those clips
12 more pairs, all at a cut, and the cut of a seed-63 clip found that was missed once the
face after it was found (a face carried forward from the first sample is the same face
followed, and does not count: one such pair inside a shot).

A face that swerves witnesses a jump too: one moving steadily that lands, on the next sample,
further from where its speed would carry it than a face swerves inside a shot (a face
crossing to the left, cut to another face a width and a half to its right: 1.5-1.6 widths
from where it was, under the 2 a jump needs, but 2.1 from where it was heading). Measured in
session 40 on 371 clips (the suite, the real clips at every start, held-out seeds 105, 107
and 109-113, and 105, 112 and 113 in other formats): over 7,716 pairs of samples inside a
shot, a face landed at most 1.74 of its widths from where its speed carried it (1.38 at the
99.9th percentile), past that only in a dissolve's double picture and where the sample
before was across a cut; at the two jump cuts it finds, 2.07 (1.75 is asked: 1.5 and 2.0 find
the same cuts, and the face still after such a cut lands 1.55 from where the cut's jump would
carry it). Where this or a jump witnesses a cut, `shots.FACE_JUMP_*` decide.

Faces also say where no jump cut is: where every face detected on a sample is detected again
on the next, where it was and at its size (`face_stays`), the picture around them did not
cut, however much of its change motion fails to explain. A portrait 396 pixels tall that
stops on a flat picture and goes again changes, on the first frame it moves, 0.711 that
motion does not explain (nothing moved before it), past the 0.7 a cut asks; it moved 0.30 of
its width between the samples either side. Measured in session 41 on the shot detector's
inputs of 490 clips (the 371 of session 40, held-out seed 116 in both formats and foreign
seeds 1 and 2; 383 cuts): of the cuts found on the weak evidence (a change under
`shots.MIN_CUT_SCORE`), the face nearest where it was moved 0.87 of its width at least; the
cuts where it moved less changed the picture far more (0.37-0.96) and need no such evidence.
Half a width (anything from 0.35 to 0.75 alike) takes that false cut away and keeps every
cut; a whole width lost one (111-22's, the face 0.87 of its width from where it was).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence

from batch.reframer.faces import Face
from batch.reframer.geometry import Box

# Two samples at most this far apart...
WITHIN_SECONDS = 0.12
# ...with one face detected on each, this many of the larger face's widths apart...
MIN_JUMP_WIDTHS = 2.0
# ...or, further apart but within this (a calm shot's samples), as many more as the time is.
CALM_WITHIN_SECONDS = 0.25
# A single face on three samples in a row, each gap within CALM_WITHIN_SECONDS, that lands on
# the third this many widths (scaled as above) from where its speed between the first two
# would carry it.
MIN_SWERVE_WIDTHS = 1.75
# A face vanishing witnesses a cut only where it was this many of its widths inside the
# picture's edges.
MIN_EDGE_WIDTHS = 0.5
# Faces stayed between two samples within CALM_WITHIN_SECONDS where each is found again at
# most this many of its widths from where it was, its width changed by at most this factor.
STAY_WITHIN_WIDTHS = 0.5
STAY_SIZE_RATIO = 1.3


def face_jumps(faces: Sequence[Face], fps: float) -> list[tuple[int, int]]:
    """(a, b): frames one after the other and at most CALM_WITHIN_SECONDS apart with a single
    face each, the two further apart than a face moves in that time: among the frames with
    detections, a face detected on both; among all frames with faces, a face flow carried to
    a and one detected on b, or one detected on a and one flow carried back to b. Also, among
    all frames with faces, b where the face swerved from the way it was going (`_swerved`)."""
    detected: dict[int, list[Face]] = defaultdict(list)
    present: dict[int, list[Face]] = defaultdict(list)
    for face in faces:
        present[face.frame].append(face)
        if face.detected_at is None:
            detected[face.frame].append(face)
    with_faces = sorted(present)
    jumps = {
        (a, b)
        for a, b in itertools.pairwise(sorted(detected))
        if _jumped(detected[a], detected[b], b - a, fps)
    }
    jumps |= {
        (a, b)
        for a, b in itertools.pairwise(with_faces)
        if (
            (_followed(present[a]) and _detected(present[b]))
            or (_detected(present[a]) and _followed(present[b], back_to=b))
        )
        and _jumped(present[a], present[b], b - a, fps)
    }
    jumps |= {
        (a, b)
        for earlier, a, b in zip(with_faces, with_faces[1:], with_faces[2:], strict=False)
        if _swerved(present[earlier], present[a], present[b], (earlier, a, b), fps)
    }
    return sorted(jumps)


def _detected(faces: Sequence[Face]) -> bool:
    return all(face.detected_at is None for face in faces)


def _followed(faces: Sequence[Face], back_to: int | None = None) -> bool:
    """Whether every face was carried by flow (with `back_to`, back from a later detection)."""
    return all(
        face.detected_at is not None and (back_to is None or face.detected_at > back_to)
        for face in faces
    )


def _jumped(before: Sequence[Face], after: Sequence[Face], frames: int, fps: float) -> bool:
    """Whether the single face `before` and the single face `after`, `frames` apart, lie
    further apart than a face moves in that time."""
    if frames > CALM_WITHIN_SECONDS * fps or len(before) != 1 or len(after) != 1:
        return False
    first, second = before[0].box, after[0].box
    apart = math.hypot(second.cx - first.cx, second.cy - first.cy)
    return apart > _widths_in(frames, fps, MIN_JUMP_WIDTHS) * max(first.w, second.w)


def _widths_in(frames: int, fps: float, widths: float) -> float:
    """`widths` for samples up to WITHIN_SECONDS apart, as many more as the time is beyond."""
    return widths * max(1.0, frames / (WITHIN_SECONDS * fps))


def _swerved(
    earliest: Sequence[Face],
    before: Sequence[Face],
    after: Sequence[Face],
    frames: tuple[int, int, int],
    fps: float,
) -> bool:
    """Whether the single face on three samples (`frames`) lands on the last further from
    where its speed over the first two would carry it than a face swerves in that time."""
    first, second, third = frames
    reach = CALM_WITHIN_SECONDS * fps
    if second - first > reach or third - second > reach:
        return False
    if len(earliest) != 1 or len(before) != 1 or len(after) != 1:
        return False
    # A face that jumped between the first two (a cut there) has no speed to go by.
    if _jumped(earliest, before, second - first, fps):
        return False
    start, middle, end = earliest[0].box, before[0].box, after[0].box
    share = (third - second) / (second - first)
    heading_x = middle.cx + (middle.cx - start.cx) * share
    heading_y = middle.cy + (middle.cy - start.cy) * share
    off = math.hypot(end.cx - heading_x, end.cy - heading_y)
    return off > _widths_in(third - second, fps, MIN_SWERVE_WIDTHS) * max(middle.w, end.w)


def face_vanishings(
    faces: Sequence[Face], sampled: Sequence[int], fps: float, picture: tuple[int, int]
) -> list[tuple[int, int]]:
    """(a, b): samples one after the other, at most WITHIN_SECONDS apart, with faces (detected
    or followed) on a, none on b, and each face on a well inside the `picture` (width,
    height)."""
    on: dict[int, list[Face]] = defaultdict(list)
    for face in faces:
        on[face.frame].append(face)
    reach = WITHIN_SECONDS * fps
    return [
        (a, b)
        for a, b in itertools.pairwise(sorted(sampled))
        if b - a <= reach and on[a] and not on[b] and all(_inside(f.box, picture) for f in on[a])
    ]


def face_stays(faces: Sequence[Face], fps: float) -> list[tuple[int, int]]:
    """(a, b): frames with detections one after the other, at most CALM_WITHIN_SECONDS apart,
    with as many faces detected on each, every face on a detected on b near where it was and
    at about its size (`STAY_*`). Faces flow carried do not count: flow follows a picture
    across a cut too."""
    detected: dict[int, list[Face]] = defaultdict(list)
    for face in faces:
        if face.detected_at is None:
            detected[face.frame].append(face)
    return [
        (a, b)
        for a, b in itertools.pairwise(sorted(detected))
        if b - a <= CALM_WITHIN_SECONDS * fps
        and len(detected[a]) == len(detected[b])
        and all(_stayed(face.box, [f.box for f in detected[b]]) for face in detected[a])
    ]


def _stayed(box: Box, later: Sequence[Box]) -> bool:
    nearest = min(later, key=lambda other: math.hypot(other.cx - box.cx, other.cy - box.cy))
    apart = math.hypot(nearest.cx - box.cx, nearest.cy - box.cy)
    wider, narrower = max(box.w, nearest.w), min(box.w, nearest.w)
    return apart <= STAY_WITHIN_WIDTHS * wider and wider <= STAY_SIZE_RATIO * narrower


def _inside(box: Box, picture: tuple[int, int]) -> bool:
    margin = MIN_EDGE_WIDTHS * box.w
    width, height = picture
    return (
        box.x >= margin
        and box.y >= margin
        and box.right <= width - margin
        and box.bottom <= height - margin
    )
