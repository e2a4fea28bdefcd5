"""The quality the customer pays for, measured on every job: does the subject stay in the crop,
and does the crop move calmly?"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from batch.reframer.shots import Shot
from batch.reframer.tracking import SubjectTrack

FloatArray = NDArray[np.float64]


def kept(
    boxes: FloatArray, x: FloatArray, y: FloatArray, window: tuple[int, int]
) -> NDArray[np.bool_]:
    """Per frame: is the subject kept? Its whole box inside the crop where the box fits in
    one, else its centre (a subject larger than the crop is kept when the crop is on it)."""
    slack = 0.5
    fits = (boxes[:, 2] <= window[0]) & (boxes[:, 3] <= window[1])
    whole = (
        (boxes[:, 0] >= x - slack)
        & (boxes[:, 1] >= y - slack)
        & (boxes[:, 0] + boxes[:, 2] <= x + window[0] + slack)
        & (boxes[:, 1] + boxes[:, 3] <= y + window[1] + slack)
    )
    cx, cy = boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2
    centre = (cx >= x) & (cx <= x + window[0]) & (cy >= y) & (cy <= y + window[1])
    return np.where(fits, whole, centre)


def lost_frames(track: SubjectTrack, source: tuple[int, int]) -> NDArray[np.bool_]:
    """Frames of the shot where a face was being followed and then lost inside the
    picture: no box, and the nearest box before or after is away from the picture's edges
    (a subject that walked out, or has not yet walked in, is not lost). They count against
    retention unless the sightings on both sides are in the crop."""
    known = ~np.isnan(track.dense_raw[:, 0])
    lost = np.zeros(len(known), dtype=bool)
    # Motion pauses when the subject stands still: a gap in it is not a loss.
    if track.kind != "face" or not known.any():
        return lost
    edge_x, edge_y = EDGE_SHARE * source[0], EDGE_SHARE * source[1]
    indices = np.flatnonzero(known)
    boxes = track.dense_raw

    def inside(frame: int) -> bool:
        x, y, w, h = boxes[frame]
        return bool(
            x > edge_x and y > edge_y and x + w < source[0] - edge_x and y + h < source[1] - edge_y
        )

    for frame in np.flatnonzero(~known):
        before = indices[indices < frame]
        after = indices[indices > frame]
        near = [int(before[-1])] if len(before) else []
        near += [int(after[0])] if len(after) else []
        lost[frame] = all(inside(f) for f in near)
    return lost


def _kept_while_lost(
    track: SubjectTrack,
    lost: NDArray[np.int64],
    x: FloatArray,
    y: FloatArray,
    window: tuple[int, int],
    fps: float | None,
) -> int:
    """Lost frames the face most likely stayed in the crop through. Between two sightings:
    both lie inside the crop where it is then (a face turned away; one found again elsewhere
    is not counted as kept). Before the first sighting or after the last, given the `fps`:
    the face carried on at its speed there, with a reach growing by its own size a second
    each way (`LOST_REACH`), stays wholly inside the crop (a face that leaves the crop, or
    may have, counts against: measured, counting a second past the last sighting as kept
    claimed 0.85 on a clip whose truth is 0.62)."""
    known = np.flatnonzero(~np.isnan(track.dense_raw[:, 0]))
    count = 0
    for frame in lost:
        before, after = known[known < frame], known[known > frame]
        at = track.shot.start + int(frame)
        if len(before) and len(after):
            sides = track.dense_raw[[before[-1], after[0]]]
            inside = kept(sides, np.full(2, x[at]), np.full(2, y[at]), window)
            count += int(inside.all())
            continue
        if fps is None:
            continue
        box = _where_it_could_be(track.dense_raw, known, int(frame), fps)
        fits = box[2] <= window[0] and box[3] <= window[1]
        count += int(fits and kept(box[None], x[at : at + 1], y[at : at + 1], window)[0])
    return count


def _where_it_could_be(
    boxes: FloatArray, known: NDArray[np.int64], frame: int, fps: float
) -> FloatArray:
    """The box a subject lost before its first sighting or after its last could be anywhere
    in on `frame`: carried on at its speed at that end of its track (`boxes` known on the
    frames `known`), grown each way by `LOST_REACH` times its size a second."""
    end, beside = (known[-1], known[-2:-1]) if frame > known[-1] else (known[0], known[1:2])
    box: FloatArray = boxes[end].copy()
    if len(beside):
        speed = (box[:2] - boxes[beside[0], :2]) / (end - beside[0])
        box[:2] += speed * (frame - end)
    reach = LOST_REACH * box[2:] * abs(frame - int(end)) / fps
    box[:2] -= reach
    box[2:] += 2 * reach
    return box


def _person_kept(
    people: FloatArray,
    x: FloatArray,
    y: FloatArray,
    window: tuple[int, int],
    source: tuple[int, int] | None,
) -> NDArray[np.bool_]:
    """Per frame: is the person a face belongs to kept too (where it is known)? Its box is
    cut to the picture first (a box carried along with a face can reach past it)."""
    known = ~np.isnan(people[:, 0])
    boxes = np.nan_to_num(people.copy())
    if source is not None:
        boxes = _in_picture(boxes, source)
    return ~known | kept(boxes, x, y, window)


def _in_picture(boxes: FloatArray, source: tuple[int, int]) -> FloatArray:
    """The boxes cut to the picture: what of the subject there is to keep."""
    left, top = np.maximum(boxes[:, 0], 0), np.maximum(boxes[:, 1], 0)
    right = np.minimum(boxes[:, 0] + boxes[:, 2], source[0])
    bottom = np.minimum(boxes[:, 1] + boxes[:, 3], source[1])
    return np.stack((left, top, right - left, bottom - top), axis=1)


def _judged(track: SubjectTrack) -> bool:
    return bool((~np.isnan(track.dense_raw[:, 0])).any())


def unfound_frames(tracks: list[SubjectTrack]) -> int:
    """Frames of the shots where no subject was found although something moved, and no
    saliency look says what stood out (a shot where nothing moves and no face shows has
    nothing to lose)."""
    return sum(
        t.shot.frames for t in tracks if t.kind == "none" and t.unfollowed_motion and not _judged(t)
    )


def stand_in_frames(tracks: list[SubjectTrack]) -> int:
    """Frames of the shots where no subject was found although something moved, or where the
    picture itself moved under a salient region held still, judged against what stood out on
    each saliency look instead (tracking.subject_of_shot)."""
    return sum(
        t.shot.frames
        for t in tracks
        if (t.kind == "none" and _judged(t)) or (t.kind == "salient" and t.picture_moves)
    )


def guessed_frames(tracks: list[SubjectTrack]) -> int:
    """Frames of the shots followed by where several things moved at once: which of them the
    viewer watches is unknown, so the retention there is a guess (measured on the benchmark:
    the runs with such shots are those whose claim is more than 0.05 from the truth, up to
    0.11 on a ball thrown beside the thrower)."""
    return sum(t.shot.frames for t in tracks if t.several_movers)


def retention(
    tracks: list[SubjectTrack],
    x: FloatArray,
    y: FloatArray,
    window: tuple[int, int],
    source: tuple[int, int] | None = None,
    fps: float | None = None,
) -> tuple[float | None, int]:
    """Share of the frames with a known subject (the dense per-frame track, as detected, not
    smoothed) on which the crop keeps it (None when no frame had a subject), and how many
    frames that share is over. With `source`, frames where a face was lost inside the picture
    count too, as not kept unless it was in the crop on both sides of the gap (or, given the
    `fps`, before its first sighting or after its last, could not have left it), and, where some
    shot has a subject, so do the frames of shots where no subject was found but something
    moved: judged against what stood out on their saliency looks (tracking.subject_of_shot),
    or, without looks, as lost: nobody knows the crop kept what the shot is about (measured:
    leaving them out claimed 0.99 on a real clip whose truth is 0.55). A clip without a
    subject anywhere makes no claim."""
    kept_frames = total = 0
    for track in tracks:
        known = ~np.isnan(track.dense_raw[:, 0])
        if track.kind == "none" or not known.any():
            continue
        boxes = track.dense_raw
        if source is not None:
            # A subject carried on past its last sighting can run past the picture's edge:
            # what is left in the picture is kept or not, and once nothing is, it has left.
            boxes = _in_picture(np.nan_to_num(boxes), source)
            known &= (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
        frames = np.arange(track.shot.start, track.shot.end)[known]
        inside = kept(boxes[known], x[frames], y[frames], window)
        if track.dense_person is not None:
            inside &= _person_kept(track.dense_person[known], x[frames], y[frames], window, source)
        kept_frames += int(inside.sum())
        total += len(inside)
        if source is not None:
            lost = np.flatnonzero(lost_frames(track, source))
            kept_frames += _kept_while_lost(track, lost, x, y, window, fps)
            total += len(lost)
    if total and source is not None:
        for track in tracks:
            if track.kind == "none" and _judged(track):
                frames = np.arange(track.shot.start, track.shot.end)
                kept_frames += int(kept(track.dense_raw, x[frames], y[frames], window).sum())
                total += track.shot.frames
        total += unfound_frames(tracks)
    return (kept_frames / total if total else None), total


# A face lost before its first sighting or after its last may have gone this many times its
# own size a second, any way, from where its speed would have carried it.
LOST_REACH = 1.0
# A box within this share of the picture's size from its edge is leaving or entering it.
EDGE_SHARE = 0.03
# Below this retention a job says so (`low_retention` and a warning in its metrics).
LOW_RETENTION_BELOW = 0.9
# ...and when the subject was known on less than this share of the frames, it warns that the
# retention speaks for few frames.
LOW_COVERAGE_BELOW = 0.5


def summary(
    kept_share: float | None,
    judged: int,
    frames: int,
    unfound: int = 0,
    stand_in: int = 0,
    guessed: int = 0,
) -> dict[str, Any]:
    """The job's honest quality block: retention over the dense per-frame subject track (and
    the `unfound` frames of shots without a subject, counted as lost, and the `stand_in` ones,
    judged against what stood out), how many frames it speaks for, and warnings a customer
    should read (among them the `guessed` frames: several things moved and the crop followed
    them)."""
    followed = judged - unfound - stand_in if kept_share is not None else judged
    coverage = followed / frames if frames else 0.0
    warnings = []
    low = kept_share is not None and kept_share < LOW_RETENTION_BELOW
    if low:
        warnings.append(
            f"the subject is outside the crop, or was lost, on {1 - (kept_share or 0.0):.0%} "
            "of the frames"
        )
    if kept_share is None:
        warnings.append("no subject was found: the crop holds the centre")
    elif coverage < LOW_COVERAGE_BELOW:
        warnings.append(f"a subject was followed on only {coverage:.0%} of the frames")
    if kept_share is not None and unfound:
        warnings.append(
            f"no subject was found on {unfound / frames:.0%} of the frames (whole shots): "
            "they count as lost"
        )
    if kept_share is not None and guessed:
        warnings.append(
            f"several things move at once on {guessed / frames:.0%} of the frames (whole "
            "shots): the crop follows them, and whether it keeps the one that matters is a "
            "guess"
        )
    if kept_share is not None and stand_in:
        warnings.append(
            f"no subject was found on {stand_in / frames:.0%} of the frames (whole shots): "
            "the crop is judged there against what stood out"
        )
    return {
        "subject_retention": None if kept_share is None else round(kept_share, 4),
        "subject_frames": judged,
        "subject_coverage": round(coverage, 4),
        "low_retention": low,
        "warnings": warnings,
    }


def centre_retention(
    tracks: list[SubjectTrack], source: tuple[int, int], window: tuple[int, int], frames: int
) -> float | None:
    """The same share for a fixed centre crop: the baseline the pipeline has to beat."""
    x = np.full(frames, (source[0] - window[0]) / 2)
    y = np.full(frames, (source[1] - window[1]) / 2)
    return retention(tracks, x, y, window)[0]


def _steps(values: FloatArray, shots: list[Shot]) -> list[FloatArray]:
    return [np.diff(values[s.start : s.end]) for s in shots if s.frames > 1]


def jitter(x: FloatArray, y: FloatArray, shots: list[Shot]) -> float:
    """Mean change of the crop's velocity inside shots, in source pixels per frame per frame.

    0 for a camera that holds still or pans at constant speed; a shaky crop scores high. Cuts
    are excluded: a jump at a cut is intended.
    """
    total, count = 0.0, 0
    for dx, dy in zip(_steps(x, shots), _steps(y, shots), strict=True):
        if len(dx) < 2:
            continue
        total += float(np.hypot(np.diff(dx), np.diff(dy)).sum())
        count += len(dx) - 1
    return total / count if count else 0.0


def max_step_in_shots(x: FloatArray, y: FloatArray, shots: list[Shot]) -> float:
    """The largest crop move between two frames of the same shot, in source pixels."""
    steps = [
        np.hypot(dx, dy).max()
        for dx, dy in zip(_steps(x, shots), _steps(y, shots), strict=True)
        if len(dx)
    ]
    return float(max(steps, default=0.0))
