"""Stage 2, decode: a stream of small analysis frames, never the whole video in memory.

Where the container lists every frame (MP4, Matroska; H.264, HEVC: frame_table.py), only
the frames sampled and those other frames refer to are decoded: the samples are the very
frames, with the very pixels, a pass over every frame gives, and the frames between them
that nothing refers to (most B-frames) are left out. Each frame keeps its index in display
order, so shots and the crop path still count every frame; a cut found between two decoded
frames with others left out between them is pinpointed later (`frames_between`).

Every decoded frame yields a tiny luma/chroma thumbnail (strided straight out of the decoder's
planes, so it costs almost nothing) for shot detection and motion; every `step`-th frame also
yields a colour frame at analysis size for the face detector. With `optional_samples`, every
other one of those comes without it, made only if the consumer takes the sample
(`AnalysisFrame.taken`; sample_rate.py decides). All arrays are turned upright (rotation
applied), so every later stage measures in displayed pixels.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TypeVar

import av
import av.error
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter
from numpy.typing import NDArray

from batch.reframer import media_policy
from batch.reframer.errors import InvalidMedia
from batch.reframer.frame_table import FrameTable, seeks_exactly
from batch.reframer.probe import MediaInfo

Gray = NDArray[np.uint8]
T = TypeVar("T")

# Candidate samples come this many times a second (faces and motion are looked at on all of
# them where the subject moves fast, on every other one where the shot is calm:
# sample_rate.py), and the subject's box is interpolated on the frames between: a subject
# crossing the frame in under a second moves a tenth of it between two looks (measured: at 3
# a second the crop lost fast subjects; at 5 everywhere, on the quality suite, the fast class
# kept its subject in 72% of frames and the bikes clip in 88%, against 100% and 99% at 10,
# though the pass took a third less CPU).
SAMPLES_PER_SECOND = 10.0
# Long side of the colour frames the face detector sees (480x270 for 16:9 sources).
DETECTION_LONG_SIDE = 480
# Once a second a larger colour frame is made too, for a second look when no face is found
# at the usual size (a face 25 pixels tall there is 50 here).
LARGE_DETECTION_LONG_SIDE = 960
# Long side the strided thumbnails aim for.
THUMBNAIL_LONG_SIDE = 200
# Analysis frames decoded ahead of the consumer, on a thread of their own.
READ_AHEAD_FRAMES = 48
# Sources up to this many pixels are decoded on one thread; larger ones on FFmpeg's threads.
ONE_DECODER_THREAD_UP_TO = 1920 * 1080

_PLANAR_8BIT = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"}


@dataclass(frozen=True)
class AnalysisFrame:
    index: int
    time: float
    luma: Gray
    chroma_u: Gray
    chroma_v: Gray
    # Colour (BGR) frame for face detection, only on sampled frames.
    bgr: NDArray[np.uint8] | None
    # Makes a larger one, on sampled frames, when the source is larger than `bgr`: made only
    # if the face detector takes a larger look (due about once a second: `large_due`; or
    # chasing a lost small face: from the decoded frame where the sample keeps it anyway,
    # else by growing `bgr`).
    make_large: Callable[[], NDArray[np.uint8]] | None = field(default=None, repr=False)
    large_due: bool = False
    # The frame's presentation time stamp (stream time base), to find it again.
    pts: int | None = None
    # On an optional sample: makes its colour frame, if the sample is taken.
    make_bgr: Callable[[], NDArray[np.uint8]] | None = field(default=None, repr=False)

    @property
    def sampled(self) -> bool:
        return self.bgr is not None

    @property
    def optional(self) -> bool:
        """A sample the consumer may take (`taken`) or pass over (`passed_over`)."""
        return self.make_bgr is not None

    def taken(self) -> AnalysisFrame:
        """This optional sample with its colour frame: a sampled frame like the others."""
        assert self.make_bgr is not None
        return replace(self, bgr=self.make_bgr(), make_bgr=None)

    def passed_over(self) -> AnalysisFrame:
        """This optional sample as a frame between samples (the decoded frame let go)."""
        return replace(self, make_bgr=None)

    def settled(self) -> AnalysisFrame:
        """This frame without the colour frames it could still make: what is kept of it once
        the face detector has looked (the decoded frame let go)."""
        return replace(self, make_bgr=None, make_large=None)


class FrameTableMismatch(Exception):
    """A decoded frame's time stamp is not in the table: the pass must decode every frame."""


@dataclass(frozen=True)
class AnalysisGeometry:
    """How analysis pixels map to displayed source pixels."""

    step: int
    detection_size: tuple[int, int]
    thumbnail_size: tuple[int, int]
    source_size: tuple[int, int]
    # Frames between two larger looks (0: none, the source is small) and their size.
    large_step: int = 0
    large_size: tuple[int, int] = (0, 0)

    @property
    def large_scale(self) -> float:
        return self.source_size[0] / self.large_size[0] if self.large_size[0] else 0.0

    @property
    def detection_scale(self) -> float:
        """Multiply a detection-frame coordinate by this to get a source coordinate."""
        return self.source_size[0] / self.detection_size[0]

    @property
    def thumbnail_scale(self) -> float:
        return self.source_size[0] / self.thumbnail_size[0]


def _upright(array: NDArray[np.uint8], rotation: int) -> NDArray[np.uint8]:
    # np.rot90 turns counter-clockwise for positive k; the rotation is clockwise.
    return array if rotation == 0 else np.ascontiguousarray(np.rot90(array, k=-rotation // 90))


def _plane(frame: av.VideoFrame, index: int) -> Gray:
    plane = frame.planes[index]
    rows: Gray = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]


def _stride(info: MediaInfo) -> int:
    return max(1, max(info.coded_width, info.coded_height) // THUMBNAIL_LONG_SIDE)


def geometry(info: MediaInfo) -> AnalysisGeometry:
    long_side = max(info.width, info.height)
    factor = min(1.0, DETECTION_LONG_SIDE / long_side)
    detection = (max(2, round(info.width * factor)), max(2, round(info.height * factor)))
    stride = _stride(info)
    thumb = (-(-info.width // stride), -(-info.height // stride))
    step = max(1, round(info.fps / SAMPLES_PER_SECOND))
    large_factor = min(1.0, LARGE_DETECTION_LONG_SIDE / long_side)
    if large_factor <= factor * 1.5:
        return AnalysisGeometry(step, detection, thumb, (info.width, info.height))
    large = (max(2, round(info.width * large_factor)), max(2, round(info.height * large_factor)))
    large_step = step * max(1, round(info.fps / step))
    return AnalysisGeometry(step, detection, thumb, (info.width, info.height), large_step, large)


def _thumbnails(frame: av.VideoFrame, stride: int) -> tuple[Gray, Gray, Gray]:
    if frame.format.name in _PLANAR_8BIT:
        luma = _plane(frame, 0)[::stride, ::stride]
        u, v = _plane(frame, 1), _plane(frame, 2)
        sy = max(1, round(stride * u.shape[0] / frame.height))
        sx = max(1, round(stride * u.shape[1] / frame.width))
        return luma.copy(), u[::sy, ::sx].copy(), v[::sy, ::sx].copy()
    # Other layouts (10-bit, NV12, RGB): let swscale shrink and convert them.
    small = frame.reformat(
        width=-(-frame.width // stride), height=-(-frame.height // stride), format="yuv444p"
    )
    return _plane(small, 0).copy(), _plane(small, 1).copy(), _plane(small, 2).copy()


@contextmanager
def _video(info: MediaInfo) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    """The source opened for analysis decoding: the container and its video stream."""
    try:
        container = av.open(str(info.path), options=media_policy.AV_OPEN_OPTIONS)
    except av.error.FFmpegError as error:
        raise InvalidMedia(f"the video could not be opened ({error})") from error
    with container:
        stream = container.streams.video[0]
        if info.width * info.height > ONE_DECODER_THREAD_UP_TO:
            stream.thread_type = "AUTO"
        else:
            # The decode runs on a thread of its own beside the detectors (read_ahead): up to
            # 1080p one decoder thread keeps up, and frame threads only add their overhead
            # (measured: 0.2-0.4 s CPU less on 30 s of 1080p, the same wall time).
            stream.thread_count = 1
        # Analysis pictures are thumbnails and 480-pixel frames: the deblocking filter's
        # smoothing is invisible at that size, and skipping it saves a fifth of the decode.
        stream.codec_context.options = {"skip_loop_filter": "all"}
        yield container, stream


class _Colour:
    """BGR pictures of one size from decoded frames. One swscale context serves every frame
    (`VideoFrame.to_ndarray` would set one up per call: 40% of the conversion's cost)."""

    def __init__(self, size: tuple[int, int], rotation: int) -> None:
        # The size once turned upright: before, a quarter turn swaps the sides.
        self._size = (size[1], size[0]) if rotation in (90, 270) else size
        self._rotation = rotation
        self._reformatter = VideoReformatter()

    def __call__(self, frame: av.VideoFrame) -> NDArray[np.uint8]:
        width, height = self._size
        converted = self._reformatter.reformat(frame, width=width, height=height, format="bgr24")
        return _upright(converted.to_ndarray().astype(np.uint8, copy=False), self._rotation)


def _grown(bgr: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.uint8]:
    """A colour frame grown to the larger look's size: a chase's stand-in for the larger frame
    where the decoded one was let go (measured on photographs: 3.5-4.1 grey levels from it on
    average)."""
    return np.asarray(cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR), np.uint8)


def analysis_frames(
    info: MediaInfo,
    layout: AnalysisGeometry,
    optional_samples: bool = False,
    table: FrameTable | None = None,
) -> Iterator[AnalysisFrame]:
    """Decode the video once, yielding analysis frames in display order.

    Without a `table`, every frame is decoded and counted. With one, only those it says
    (`FrameTable.decoded`), each indexed by its time stamp's place in the table; a frame
    missing from it raises `FrameTableMismatch`.

    Every `step`-th frame is sampled. With `optional_samples`, every other one (the odd
    ones: the 2nd, 4th...) is optional, unless it carries a larger frame: its colour frame
    is made by the consumer's thread if it takes the sample, so a sample passed over costs
    nothing. The larger frames are made there too, when asked for."""
    stride = _stride(info)
    colour = _Colour(layout.detection_size, info.rotation)
    # The consumer's own: one swscale context is used by one thread.
    colour_later = _Colour(layout.detection_size, info.rotation)
    colour_large = _Colour(layout.large_size, info.rotation)
    count = 0
    index = -1
    with _video(info) as (container, stream):
        start: float | None = None
        try:
            for frame in _decoded(container, stream, table, layout.step):
                if table is None:
                    index += 1
                    time = frame.time
                    if time is None:
                        time = index / info.fps
                    if start is None:
                        start = time
                    time -= start
                else:
                    found = table.index_of(frame.pts)
                    if found is None or found <= index:
                        raise FrameTableMismatch(f"frame {frame.pts} is not in the table")
                    index = found
                    time = float(table.times[index])
                luma, u, v = _thumbnails(frame, stride)
                bgr = make_large = make_bgr = None
                large_due = bool(layout.large_step) and index % layout.large_step == 0
                if index % layout.step == 0:
                    optional = optional_samples and not large_due and index // layout.step % 2
                    if optional:
                        make_bgr = partial(colour_later, frame)
                    else:
                        bgr = colour(frame)
                    if layout.large_step and (optional or large_due or not optional_samples):
                        make_large = partial(colour_large, frame)
                    elif layout.large_step and bgr is not None:
                        # Every other sample lets its decoded frame go: its larger picture,
                        # if a chase asks for one, is its colour frame grown (measured:
                        # holding the decoded frame for it, peak memory 261 -> 290 MB on
                        # 30 s of 1080p).
                        make_large = partial(_grown, bgr, layout.large_size)
                yield AnalysisFrame(
                    index=index,
                    time=time,
                    luma=_upright(luma, info.rotation),
                    chroma_u=_upright(u, info.rotation),
                    chroma_v=_upright(v, info.rotation),
                    bgr=bgr,
                    make_large=make_large,
                    large_due=large_due,
                    pts=frame.pts,
                    make_bgr=make_bgr,
                )
                count += 1
        except av.error.FFmpegError as error:
            if count == 0:
                raise InvalidMedia(f"the video could not be decoded ({error})") from error
            # A damaged tail: keep what was decoded; the last crop holds for the rest.
    if count == 0:
        raise InvalidMedia("the video stream has no decodable frames")


def _decoded(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    table: FrameTable | None,
    step: int,
) -> Iterator[av.VideoFrame]:
    """The frames decoded: all of them without a table; with one, those other frames refer to
    and those the table adds (`FrameTable.decoded`)."""
    if table is None:
        yield from container.decode(stream)
        return
    decoded = table.decoded(step)

    def wanted(pts: int | None) -> bool:
        at = table.index_of(pts)
        return at is None or bool(decoded[at])

    yield from _decoded_where(container, stream, wanted)


def _decoded_where(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    wanted: Callable[[int | None], bool],
) -> Iterator[av.VideoFrame]:
    """The frames from where the container stands whose time stamp is `wanted`, and those
    other frames refer to (FFmpeg decodes them anyway): `skip_frame` set packet by packet."""
    context = stream.codec_context
    for packet in container.demux(stream):
        context.skip_frame = "DEFAULT" if wanted(packet.pts) else "NONREF"
        yield from packet.decode()


@dataclass(frozen=True)
class FrameRef:
    """Where an analysis frame was: its index in the analysis pass and its time stamp."""

    index: int
    pts: int | None


def colour_frames_again(
    info: MediaInfo, layout: AnalysisGeometry, runs: Sequence[Sequence[FrameRef]]
) -> Iterator[tuple[int, NDArray[np.uint8]]]:
    """The colour analysis frames (`AnalysisFrame.bgr`, the same pixels) of sampled frames
    seen before, as (index, bgr) in display order: a later stage that needs a few frames of
    some shots decodes them again instead of the analysis pass keeping every frame in memory.

    `runs` are groups of wanted frames in display order (a shot's, say). Where the container
    seeks exactly, each run is decoded from the keyframe before its first frame to its last,
    its frames found by time stamp; elsewhere the video is decoded once from the start to
    the last wanted frame, its frames counted. A frame that no longer decodes is left out."""
    return _again(info, runs, _Colour(layout.detection_size, info.rotation))


def frames_between(
    info: MediaInfo, table: FrameTable, spans: Sequence[tuple[int, int]]
) -> list[list[AnalysisFrame]]:
    """Every frame of each span of display indices (first and last included), with its
    thumbnails but no colour frame: the frames a reference-only pass left undecoded where it
    found a cut between two frames it did decode (shots.pinpoint)."""
    stride = _stride(info)
    runs = [[FrameRef(i, int(table.pts[i])) for i in range(a, b + 1)] for a, b in spans]
    found = dict(_again(info, runs, partial(_thumbnails, stride=stride)))
    return [
        [
            AnalysisFrame(
                index=i,
                time=float(table.times[i]),
                luma=_upright(found[i][0], info.rotation),
                chroma_u=_upright(found[i][1], info.rotation),
                chroma_v=_upright(found[i][2], info.rotation),
                bgr=None,
                pts=int(table.pts[i]),
            )
            for i in range(a, b + 1)
            if i in found
        ]
        for a, b in spans
    ]


def _again(
    info: MediaInfo, runs: Sequence[Sequence[FrameRef]], convert: Callable[[av.VideoFrame], T]
) -> Iterator[tuple[int, T]]:
    """Frames seen before, decoded again (every frame) and converted: see
    `colour_frames_again`."""
    runs = [run for run in runs if run]
    if not runs:
        return
    with _video(info) as (container, stream):
        if seeks_exactly(container) and all(ref.pts is not None for run in runs for ref in run):
            for run in runs:
                yield from _run_again(container, stream, run, convert)
        else:
            yield from _counted(container, stream, [ref for run in runs for ref in run], convert)


def _run_again(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    run: Sequence[FrameRef],
    convert: Callable[[av.VideoFrame], T],
) -> Iterator[tuple[int, T]]:
    """One run decoded from the keyframe before its first frame, its frames found by time
    stamp; counted from the start instead if the seek fails or lands past that frame."""
    first = min(ref.pts for ref in run if ref.pts is not None)
    try:
        container.seek(first, stream=stream)
        landed = next(container.demux(stream), None)
    except av.error.FFmpegError:
        landed = None
    if landed is None or landed.pts is None or landed.pts > first or not landed.is_keyframe:
        container.seek(0, stream=stream)
        yield from _counted(container, stream, run, convert)
        return
    # Back to that keyframe, for the decoder to start from.
    container.seek(landed.pts, stream=stream)
    index_at = {ref.pts: ref.index for ref in run}
    last = max(ref.pts for ref in run if ref.pts is not None)
    try:
        # On the way from the keyframe, only the frames the run's frames refer to.
        for frame in _decoded_where(container, stream, lambda pts: pts is None or pts >= first):
            if frame.pts is None:
                continue
            if frame.pts in index_at:
                yield index_at[frame.pts], convert(frame)
            if frame.pts >= last:
                return
    except av.error.FFmpegError:
        return


def _counted(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    wanted: Sequence[FrameRef],
    convert: Callable[[av.VideoFrame], T],
) -> Iterator[tuple[int, T]]:
    """The wanted frames by their count, decoding from the start of the video."""
    # Every frame counts: none may be left out, whatever an earlier run here asked for.
    stream.codec_context.skip_frame = "DEFAULT"
    indices = {ref.index for ref in wanted}
    last = max(indices)
    try:
        for count, frame in enumerate(container.decode(stream)):
            if count in indices:
                yield count, convert(frame)
            if count >= last:
                return
    except av.error.FFmpegError:
        return


def read_ahead(items: Iterator[T], depth: int = READ_AHEAD_FRAMES) -> Iterator[T]:
    """Run `items` on a background thread, `depth` items ahead of the consumer.

    Decoding (FFmpeg) and face detection (libfacedetection) both release the GIL, so the two
    halves of the analysis pass share the two cores instead of taking turns. A failure on the
    thread is raised here; leaving the loop early stops the thread.
    """
    buffer: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
            outcome: tuple[str, object] = ("end", None)
        except BaseException as error:
            outcome = ("error", error)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        while not stop.is_set():
            try:
                buffer.put(outcome, timeout=0.1)
                return
            except queue.Full:
                continue

    worker = threading.Thread(target=produce, name="reframer-decode", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = buffer.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)
