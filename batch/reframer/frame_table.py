"""Every frame of a video stream, listed from the container before any decoding: its time
stamp, and whether other frames refer to it.

The analysis pass (decode.py) needs the frames it samples (every `step`-th) and, to decode
them, the frames they refer to; the others (B-frames between samples: 270 of the bench
clip's 900) are left out, with FFmpeg's `skip_frame=nonref` set packet by packet. The table
gives each decoded frame its place in display order and says which packets those are.

Whether a frame is referred to is in its first slice's NAL header: `nal_ref_idc` 0 in H.264,
a sub-layer non-reference type in HEVC, the very tests FFmpeg's decoders make for
`skip_frame=nonref`. PyAV does not expose them; the header is one byte after each NAL unit's
length (MP4, Matroska) or start code, so it is read here. Other codecs get no table and are
decoded whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from batch.reframer import media_policy
from batch.reframer.probe import MediaInfo

# Containers whose index sends a seek to the keyframe at or before a time stamp (MP4 and
# QuickTime, Matroska and WebM): decoding from there gives the same pixels as a pass from
# the start, and every packet carries its frame's time stamp. MPEG streams and AVI seek less
# exactly (measured: after a seek, a third of the frames of an MPEG-TS copy were missing or
# differed).
SEEKABLE_FORMATS = ("mov", "matroska")
# Codecs whose NAL headers say whether a frame is referred to.
_CODECS = ("h264", "hevc")


@dataclass(frozen=True)
class FrameTable:
    """Every frame in display order: its time stamp (`pts`, in the stream's time base), its
    time in seconds from the first, and whether other frames refer to it."""

    pts: NDArray[np.int64]
    times: NDArray[np.float64]
    referenced: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.pts)

    def index_of(self, pts: int | None) -> int | None:
        """The display index of the frame with this time stamp, if it is one of them."""
        if pts is None:
            return None
        at = int(np.searchsorted(self.pts, pts))
        return at if at < len(self.pts) and self.pts[at] == pts else None

    def decoded(self, step: int) -> NDArray[np.bool_]:
        """The frames a pass sampling every `step`-th frame decodes: those it samples, and
        those other frames refer to (the others are never needed)."""
        sampled: NDArray[np.bool_] = np.arange(len(self.pts)) % step == 0
        return self.referenced | sampled


def seeks_exactly(container: av.container.InputContainer) -> bool:
    names = container.format.name.split(",")
    return any(name in names for name in SEEKABLE_FORMATS)


def frame_table(info: MediaInfo) -> FrameTable | None:
    """The table, read from the container's packets (no decoding: 0.03 s for 30 s of 1080p,
    0.11 s for 5 minutes), or None where it cannot be trusted: containers that do not seek
    exactly, codecs other than H.264 and HEVC, a frame without a time stamp or with the same
    one as another."""
    try:
        container = av.open(str(info.path), options=media_policy.AV_OPEN_OPTIONS)
    except av.error.FFmpegError:
        return None
    with container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if not seeks_exactly(container) or codec not in _CODECS:
            return None
        length_size = _length_size(bytes(stream.codec_context.extradata or b""), codec)
        stamps: list[int] = []
        referenced: list[bool] = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue  # the demuxer's end-of-stream marker, not a frame
                if packet.pts is None:
                    return None
                stamps.append(packet.pts)
                referenced.append(referred_to(bytes(packet), codec, length_size))
        except av.error.FFmpegError:
            pass  # a damaged tail: the frames before it
        if not stamps:
            return None
        order = np.argsort(np.array(stamps, dtype=np.int64), kind="stable")
        pts = np.array(stamps, dtype=np.int64)[order]
        if np.any(np.diff(pts) == 0):
            return None
        times = (pts - pts[0]).astype(np.float64) * float(stream.time_base or 0)
        return FrameTable(pts, times, np.array(referenced, dtype=bool)[order])


def _length_size(extradata: bytes, codec: str) -> int | None:
    """Bytes of each NAL unit's length prefix (avcC, hvcC), or None: start codes (Annex B)."""
    if codec == "h264" and len(extradata) > 4 and extradata[0] == 1:
        return (extradata[4] & 3) + 1
    if codec == "hevc" and len(extradata) > 21 and extradata[0] == 1:
        return (extradata[21] & 3) + 1
    return None


def _nal_headers(data: bytes, length_size: int | None) -> Iterator[int]:
    """The first header byte of each NAL unit in a packet."""
    if length_size is not None:
        at = 0
        while at + length_size < len(data):
            size = int.from_bytes(data[at : at + length_size], "big")
            yield data[at + length_size]
            at += length_size + size
        return
    at = data.find(b"\x00\x00\x01")
    while at != -1 and at + 3 < len(data):
        yield data[at + 3]
        at = data.find(b"\x00\x00\x01", at + 3)


def referred_to(data: bytes, codec: str, length_size: int | None) -> bool:
    """Whether other frames may refer to this one, from its first slice's NAL header; a
    packet without a slice counts as referred to (it is then always decoded)."""
    for header in _nal_headers(data, length_size):
        if codec == "h264":
            if header & 0x1F in (1, 5):  # a slice, of a non-IDR or an IDR picture
                return header & 0x60 != 0  # nal_ref_idc
        else:
            kind = (header >> 1) & 0x3F
            if kind < 32:  # a slice: types 0-14 even are sub-layer non-reference pictures
                return not (kind <= 14 and kind % 2 == 0)
    return True
