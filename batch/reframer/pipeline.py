"""The nine stages chained: input URI in, reframed video, thumbnail and manifest out."""

from __future__ import annotations

import resource
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from batch.reframer import camera, decode, outputs, probe, quality, render, shots, storage, tracking
from batch.reframer.face_jumps import face_jumps, face_stays, face_vanishings
from batch.reframer.faces import Face, FaceSampler
from batch.reframer.follow import Follower, Gray, gray
from batch.reframer.frame_table import FrameTable, frame_table
from batch.reframer.geometry import Box, OutputSpec, crop_window
from batch.reframer.head_centre import centred_on_heads
from batch.reframer.memory import release_freed_memory
from batch.reframer.motion import MotionDetector
from batch.reframer.objects import DetectedObject, ObjectSampler
from batch.reframer.salience import SalienceLook, SalienceLooker
from batch.reframer.sample_rate import SampleRate
from batch.reframer.segments import Split, hand_off

# The overall progress (percent) at which each stage ends, in the order they run. The analysis
# pass (decode, shots, faces, saliency) is one sweep over the frames; the render is the rest.
_ENDS_AT = {
    "probe": 2, "decode": 40, "shots": 41, "faces": 42, "saliency": 43,
    "tracking": 44, "camera": 45, "render": 95, "outputs": 100,
}  # fmt: skip
_STARTS_AT = {"decode": 2, "render": 45}

Reporter = Callable[[str, int], None]

# A face the detector misses is followed by optical flow for at most this long after its
# last detection (past that a flow-only box has more often drifted than not)...
MAX_FOLLOW_SECONDS = 3.0
# A face detected for the first time is followed back this long (the samples are kept).
FOLLOW_BACK_SECONDS = 1.0
# A followed face counts for this share of its detection's confidence.
FOLLOWED_CONFIDENCE = 0.5
# Objects are followed by optical flow between the object detector's looks (a third of a
# second apart: a cat swinging turns between two), the largest this many at once, on the
# samples without faces (where objects can be the subject).
OBJECTS_FOLLOWED = 3
# What needs a frame's faces (following, objects, motion) runs on a thread of its own, up to
# this many frames behind the face detector: the two share the cores instead of taking turns
# (libfacedetection and LiteRT both let go of the GIL while they compute). As many as the
# decoder reads ahead: a run of object looks there then no longer stops the face detector
# (measured on the bench clip, 5 runs each: the pass's wall time 2.22 s -> 2.05 s median
# against 16 frames, for the same CPU; the frames held are ~10 MB).
BEHIND_FRAMES = 48


@dataclass(frozen=True)
class Result:
    outputs: dict[str, str]
    metrics: dict[str, Any]


def _cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished children (ffmpeg)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _Stopwatch:
    """Seconds spent per stage; stages interleaved in the analysis pass add up separately.

    CPU seconds are kept too: on a shared machine they are the steadier measure of cost.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    @contextmanager
    def stage(self, name: str, cpu: bool = False) -> Iterator[None]:
        started, cpu_started = time.perf_counter(), _cpu_seconds() if cpu else 0.0
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started
            if cpu:
                self.cpu[name] += _cpu_seconds() - cpu_started


class _Analysis:
    """The pass over the frames: its detectors, and what they found, in frame order."""

    def __init__(self, info: probe.MediaInfo, layout: decode.AnalysisGeometry) -> None:
        self.layout = layout
        self.detector = shots.ShotDetector(info.fps)
        self.motion = MotionDetector(info.fps, layout.step, layout.detection_scale)
        self.sampler = FaceSampler(layout.detection_scale)
        self.rate = SampleRate(layout.step, info.width)
        self.object_sampler = ObjectSampler(layout.detection_scale, info.fps, layout.step)
        # Saliency looks, taken later in the shots that need them.
        self.salience = SalienceLooker(info, layout)
        self.faces: list[Face] = []
        self.objects: list[DetectedObject] = []
        self.times: list[float] = []
        # The frames sampled (optional samples passed over are not), in order.
        self.sampled: list[int] = []
        # Samples in a row, up to the last, with a face found.
        self._faces_in_a_row = 0

    @property
    def object_step(self) -> int:
        """Frames between two looks of the object detector."""
        return self.object_sampler.every

    def taken_or_passed_over(self, frame: decode.AnalysisFrame) -> decode.AnalysisFrame:
        """An optional sample taken, or passed over while the shot is calm (sample_rate.py);
        any other frame as it is."""
        if not frame.optional:
            return frame
        if self.rate.take(frame.luma):
            return frame.taken()
        self.sampler.passed_over()
        return frame.passed_over()

    def motion_beside_faces(self, found: list[Face]) -> bool:
        """Whether a sample's motion is beside faces (`Motion.beside_faces`; called once a
        sample, in order: it counts the run of samples with faces): where faces were found on
        as many samples in a row as a face track needs to carry a shot (`tracking.MIN_LOOKS`).
        Before that, a face seen once or twice, a passer-by or a texture, leaves the shot to
        what moves (measured: a thrower's face showing at the picture's edge on the last two
        samples of his ball's shot left the ball's last bounce unmeasured, and the crop kept
        it on 0.890 of the frames; 0.993 with those measured and the ball, back inside after
        bouncing off the edge, not taken for cut by it: motion.py)."""
        self._faces_in_a_row = self._faces_in_a_row + 1 if found else 0
        return self._faces_in_a_row >= tracking.MIN_LOOKS

    def sampled_in(self, shot: shots.Shot) -> NDArray[np.int64]:
        """The frames of the shot that were sampled."""
        return _within(self.sampled, shot)

    def motion_compared_in(self, shot: shots.Shot) -> NDArray[np.int64]:
        """The frames of the shot compared for its subject (not beside faces)."""
        return _within(self.motion.compared, shot)


def _within(frames: list[int], shot: shots.Shot) -> NDArray[np.int64]:
    ordered = np.array(frames, dtype=np.int64)
    first, end = np.searchsorted(ordered, [shot.start, shot.end])
    return ordered[first:end]


def _analyse(
    info: probe.MediaInfo,
    layout: decode.AnalysisGeometry,
    clock: _Stopwatch,
    report: Reporter,
    behind: int = BEHIND_FRAMES,
    table: FrameTable | None = None,
) -> _Analysis:
    """One pass over the frames feeding shots, faces and saliency as they stream by (with a
    `table`, over the samples and the frames they refer to only: decode.py).

    Three threads share it: the decoder (read_ahead), this one (shots and faces) and one for
    what needs a frame's faces (following, objects, motion), running up to `behind` frames
    later, in order: each stage sees what it would see in one sequential loop."""
    found_so_far = _Analysis(info, layout)
    follow_frames = max(1, round(MAX_FOLLOW_SECONDS * info.fps))
    back_frames = round(FOLLOW_BACK_SECONDS * info.fps)
    follower = Follower(follow_frames, back_frames)
    object_follower = _ObjectFollower(
        Follower(follow_frames, back_frames, limit=OBJECTS_FOLLOWED), layout.detection_scale
    )
    expected = max(1, info.frame_count or round(info.duration * info.fps))
    reported = _STARTS_AT["decode"]

    def after_faces(frame: decode.AnalysisFrame, found: list[Face]) -> None:
        if frame.bgr is not None:
            with clock.stage("heads"):
                found = centred_on_heads(frame.bgr, found, layout.detection_scale)
            with clock.stage("following"):
                picture = gray(frame.bgr)
                followed = _followed(follower, frame.index, picture, found, layout)
                found_so_far.faces.extend(found + followed)
            # A face only the larger look finds may be a photograph's pattern, which gives way
            # to an object or to where the eye goes (tracking.subject_of_shot): its samples
            # are looked at as those without a face.
            faced = any(not face.larger_only for face in found)
            with clock.stage("objects"):
                looked = found_so_far.object_sampler.objects(frame.index, frame.bgr, faced)
                found_so_far.objects.extend(looked)
            with clock.stage("following"):
                if faced:
                    # Objects are the subject only where no face is: they are not followed
                    # beside faces, and not from a picture taken before them.
                    object_follower.clear()
                else:
                    found_so_far.objects.extend(object_follower(frame.index, picture, looked))
            found_so_far.salience.note(frame, faced)
        with clock.stage("saliency"):
            beside_faces = frame.bgr is not None and found_so_far.motion_beside_faces(found)
            found_so_far.motion.add(frame, beside_faces=beside_faces)

    frames = decode.read_ahead(
        decode.analysis_frames(info, layout, optional_samples=True, table=table)
    )
    with ThreadPoolExecutor(1, thread_name_prefix="reframer-after-faces") as later:
        pending: deque[Future[None]] = deque()
        while True:
            with clock.stage("decode"):
                frame = next(frames, None)
            if frame is None:
                break
            found_so_far.times.append(frame.time)
            with clock.stage("shots"):
                found_so_far.detector.add(frame)
            found: list[Face] = []
            with clock.stage("faces"):
                frame = found_so_far.taken_or_passed_over(frame)
                if frame.bgr is not None:
                    found = found_so_far.sampler.faces(
                        frame.index,
                        frame.bgr,
                        frame.luma,
                        frame.make_large,
                        layout.large_scale,
                        frame.large_due,
                    )
                    found_so_far.rate.note(frame.index, found, frame.luma)
                    found_so_far.sampled.append(frame.index)
            pending.append(later.submit(after_faces, frame.settled(), found))
            while len(pending) > behind:
                # A failure there ends the pass here, and the queue stays short.
                pending.popleft().result()
            span = _ENDS_AT["decode"] - _STARTS_AT["decode"]
            percent = _STARTS_AT["decode"] + int(span * min(1.0, (frame.index + 1) / expected))
            if percent >= reported + 5:
                reported = percent
                report("decode", percent)
        for done in pending:
            done.result()
    found_so_far.motion.finish()
    return found_so_far


def _exact_cuts(
    info: probe.MediaInfo, table: FrameTable | None, found: list[shots.Cut]
) -> list[int]:
    """The cuts' frames, those found between two decoded frames pinpointed among the frames
    between them, decoded again (from the keyframe before: a fraction of a second each, and
    rare: an encoder puts a keyframe on a cut, with a reference frame just before it)."""
    unsure = [cut for cut in found if not cut.exact]
    if table is None or not unsure:
        return [cut.frame for cut in found]
    frames = decode.frames_between(info, table, [(cut.after, cut.frame) for cut in unsure])
    exact = {cut: shots.pinpoint(cut, run) for cut, run in zip(unsure, frames, strict=True)}
    return [exact.get(cut, cut.frame) for cut in found]


def _followed(
    follower: Follower,
    frame: int,
    picture: Gray,
    detected: list[Face],
    layout: decode.AnalysisGeometry,
) -> list[Face]:
    """Faces carried by optical flow from other detections where none was detected (on the
    sample's grey `picture`)."""
    scale = layout.detection_scale
    boxes = [(face.box.scaled(1 / scale), face.confidence) for face in detected]
    return [
        Face(
            item.frame,
            item.box.scaled(scale),
            FOLLOWED_CONFIDENCE * item.confidence,
            item.detected_at,
            followed_from=item.detected.scaled(scale),
        )
        for item in follower.update(frame, picture, boxes)
    ]


class _ObjectFollower:
    """Objects carried by optical flow from the detector's looks to the samples between them
    (and back from where one is first found), labelled as the look that found them."""

    def __init__(self, follower: Follower, scale: float) -> None:
        self._follower = follower
        self._scale = scale
        # The looks' findings by (frame, box in analysis pixels): what a followed box is.
        self._looked: dict[tuple[int, Box], DetectedObject] = {}

    def __call__(
        self, frame: int, picture: Gray, detected: list[DetectedObject]
    ) -> list[DetectedObject]:
        boxes = []
        for found in detected:
            box = found.box.scaled(1 / self._scale)
            self._looked[(frame, box)] = found
            boxes.append((box, found.confidence))
        followed = []
        for item in self._follower.update(frame, picture, boxes):
            origin = self._looked[(item.detected_at, item.detected)]
            followed.append(
                DetectedObject(
                    item.frame,
                    item.box.scaled(self._scale),
                    FOLLOWED_CONFIDENCE * item.confidence,
                    origin.label,
                    origin.frame,
                    origin.box,
                )
            )
        # Looks no box is followed from any more are let go.
        alive = {(item.detected_at, item.detected) for item in self._follower.following}
        self._looked = {key: found for key, found in self._looked.items() if key in alive}
        return followed

    def clear(self) -> None:
        self._follower.clear()
        self._looked = {}


def run(
    input_uri: str,
    output_prefix: str,
    spec: OutputSpec,
    report: Reporter,
    max_duration: float | None = None,
    split: Split | None = None,
) -> Result:
    """Reframe one video; raises `PipelineError` (with its failure code) when it cannot.

    With `split`, only the analysis: the render plan goes to the children (segments.py)."""
    wall = time.perf_counter()
    if split is not None:
        report = _analysis_only(report)
    clock = _Stopwatch()
    with tempfile.TemporaryDirectory(prefix="reframer-") as scratch:
        workdir = Path(scratch)
        with clock.stage("download"):
            local = storage.fetch(input_uri, workdir)
        with clock.stage("probe"):
            info = probe.probe(local, max_duration)
        report("probe", _ENDS_AT["probe"])

        layout = decode.geometry(info)
        source = (info.width, info.height)
        window = crop_window(info.width, info.height, spec.aspect)
        with clock.stage("analysis", cpu=True):
            table = frame_table(info)
            try:
                analysis = _analyse(info, layout, clock, report, table=table)
            except decode.FrameTableMismatch:
                table = None  # the container's index and its frames disagree
                analysis = _analyse(info, layout, clock, report)
            times = np.array(analysis.times if table is None else table.times, dtype=np.float64)
            frame_count = len(times)
            witnesses = face_jumps(analysis.faces, info.fps) + face_vanishings(
                analysis.faces, analysis.sampled, info.fps, (info.width, info.height)
            )
            found_cuts = analysis.detector.cuts(witnesses, face_stays(analysis.faces, info.fps))
            cuts = _exact_cuts(info, table, found_cuts)
        found_shots = shots.shots_between(cuts, frame_count)
        motion_lag, motions = analysis.motion.lag, analysis.motion.motions
        for stage in ("decode", "shots", "faces", "saliency"):
            report(stage, _ENDS_AT[stage])

        def subject(shot: shots.Shot, salience: list[SalienceLook]) -> tracking.SubjectTrack:
            return tracking.subject_of_shot(
                shot,
                [
                    f
                    for f in analysis.faces
                    if shot.start <= f.frame < shot.end
                    # A face followed across the cut was detected in another scene.
                    and (f.detected_at is None or shot.start <= f.detected_at < shot.end)
                ],
                # Motion measured across the cut compares two different scenes.
                [m for m in motions if shot.start + motion_lag <= m.frame < shot.end],
                window,
                info.fps,
                layout.step,
                [o for o in analysis.objects if shot.start <= o.frame < shot.end],
                analysis.object_step,
                salience,
                analysis.sampled_in(shot),
                analysis.motion_compared_in(shot),
            )

        with clock.stage("tracking"):
            tracks = [subject(shot, []) for shot in found_shots]
        # Salience is the last resort: only shots that nothing else decided (their subject
        # came out "none", or a face that may be a photograph's pattern) are looked at, on
        # their frames decoded again.
        undecided = [
            i for i, track in enumerate(tracks) if track.kind == "none" or track.unconfirmed
        ]
        if undecided:
            with clock.stage("salience", cpu=True):
                spans = [(found_shots[i].start, found_shots[i].end) for i in undecided]
                looks = analysis.salience.looks_in(spans)
                for i, shot_looks in zip(undecided, looks, strict=True):
                    tracks[i] = subject(found_shots[i], shot_looks)
        report("tracking", _ENDS_AT["tracking"])

        with clock.stage("camera"):
            planned = [camera.plan_shot(t, source, window, info.fps) for t in tracks]
            x = np.concatenate([p.x for p in planned])
            y = np.concatenate([p.y for p in planned])
            # What is rendered: whole pixels inside the picture.
            x = np.clip(np.round(x), 0, info.width - window[0])
            y = np.clip(np.round(y), 0, info.height - window[1])
        report("camera", _ENDS_AT["camera"])

        size = spec.size
        video = workdir / outputs.VIDEO_NAME
        span = _ENDS_AT["render"] - _STARTS_AT["render"]
        last = [_STARTS_AT["render"]]

        def render_progress(done: float) -> None:
            percent = _STARTS_AT["render"] + int(span * done)
            if percent >= last[0] + 5:
                last[0] = percent
                report("render", percent)

        thumbnail_seconds = _thumbnail_time(tracks, info.fps)
        # The frames the pass freed go back to the kernel before ffmpeg starts (memory.py).
        release_freed_memory()
        with clock.stage("render", cpu=True):
            crop = render.CropPath(window[0], window[1], times, x, y)
            if split is None:
                # The render writes the thumbnail too (the frame at the chosen time).
                at = min(frame_count - 1, round(thumbnail_seconds * info.fps))
                thumbnail = (workdir / outputs.THUMBNAIL_NAME, max(0, at))
                render.render(info, crop, size, video, render_progress, thumbnail=thumbnail)
        report("render", _ENDS_AT["render"])

        with clock.stage("outputs"):
            kept, judged = quality.retention(tracks, x, y, window, source, info.fps)
            quality_block = quality.summary(
                kept,
                judged,
                frame_count,
                quality.unfound_frames(tracks),
                quality.stand_in_frames(tracks),
                quality.guessed_frames(tracks),
            )
            metrics: dict[str, Any] = {
                "duration_seconds": round(info.duration, 3),
                "width": size[0],
                "height": size[1],
                "fps": round(info.fps, 3),
                "frames": frame_count,
                "subject_retention": None if kept is None else round(kept, 4),
                "subject_frames": judged,
                "centre_crop_retention": _rounded(
                    quality.centre_retention(tracks, source, window, frame_count)
                ),
                "jitter": round(quality.jitter(x, y, found_shots), 4),
                "max_step_in_shots": round(quality.max_step_in_shots(x, y, found_shots), 2),
                "camera_modes": [p.mode for p in planned],
                "subjects": [t.kind for t in tracks],
                "shots": len(found_shots),
                "crop": {"width": window[0], "height": window[1]},
                "upscale": round(size[0] / window[0], 3),
                # Samples looked at, and those passed over while the shot was calm.
                "samples": {"taken": len(analysis.sampled), "passed_over": analysis.rate.passed},
                "face_detection": {
                    "detected": analysis.sampler.detected,
                    "reused": analysis.sampler.reused,
                    # New faces dropped: the detector did not find them again at other sizes.
                    "unconfirmed": analysis.sampler.unconfirmed,
                },
                "object_detection": {"detected": analysis.object_sampler.detected},
                "salience": {"looked": analysis.salience.looked},
                "quality": quality_block,
            }
            uris = outputs.output_uris(output_prefix)
            if split is None and not (workdir / outputs.THUMBNAIL_NAME).exists():
                outputs.thumbnail(video, thumbnail_seconds, workdir / outputs.THUMBNAIL_NAME)
            metrics["wall_seconds"] = round(time.perf_counter() - wall, 3)
            metrics["stage_seconds"] = {k: round(v, 3) for k, v in clock.seconds.items()}
            metrics["cpu_seconds"] = {k: round(v, 3) for k, v in clock.cpu.items()}
            manifest = {
                "input": {"uri": input_uri, **info.summary()},
                "output": {"aspect_ratio": spec.aspect, "resolution": spec.resolution, **uris},
                "shots": [
                    {
                        "start_frame": shot.start,
                        "end_frame": shot.end,
                        "start_seconds": round(shot.start / info.fps, 3),
                        "end_seconds": round(shot.end / info.fps, 3),
                        "camera_mode": plan.mode,
                        "subject": track.kind,
                        "subject_retention": _rounded(
                            quality.retention([track], x, y, window, source, info.fps)[0]
                        ),
                    }
                    for shot, plan, track in zip(found_shots, planned, tracks, strict=True)
                ],
                "crop_path": {
                    "width": window[0],
                    "height": window[1],
                    "fps": info.fps,
                    "x": x.astype(int).tolist(),
                    "y": y.astype(int).tolist(),
                },
                "metrics": metrics,
            }
            outputs.write_manifest(workdir / outputs.MANIFEST_NAME, manifest)
            if split is None:
                stored = outputs.publish(workdir, output_prefix)
            else:
                shot_starts = [shot.start for shot in found_shots]
                metrics["render_split"] = hand_off(
                    split, info, crop, size, shot_starts, manifest,
                    thumbnail_seconds, output_prefix, workdir,
                )  # fmt: skip
                stored = {}
        metrics["stage_seconds"]["outputs"] = round(clock.seconds["outputs"], 3)
        metrics["wall_seconds"] = round(time.perf_counter() - wall, 3)
        report("outputs", _ENDS_AT["outputs"])
        return Result(outputs=stored, metrics=metrics)


def _analysis_only(report: Reporter) -> Reporter:
    """The analysis step of a split render reports up to its camera path; children go on."""

    def reporting(stage: str, percent: int) -> None:
        if stage not in ("render", "outputs"):
            report(stage, percent)

    return reporting


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _thumbnail_time(tracks: list[tracking.SubjectTrack], fps: float) -> float:
    """The middle of the longest shot with a face, else of the longest shot."""
    with_face = [t for t in tracks if t.kind == "face"] or tracks
    best = max(with_face, key=lambda t: t.shot.frames)
    return (best.shot.start + best.shot.end) / 2 / fps
