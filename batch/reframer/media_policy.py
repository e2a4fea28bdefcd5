"""What ffmpeg, ffprobe and PyAV may open: local files only, in the containers customers
upload. A playlist (HLS) or a concat list would have the demuxer read other files or URLs
named inside the upload, so those formats are refused before any reference is followed."""

from __future__ import annotations

# Demuxers by ffmpeg's short names (a name matches a demuxer whose list contains it, so `mov`
# admits "mov,mp4,m4a,3gp,3g2,mj2"): MP4/QuickTime/3GP, Matroska/WebM, AVI, MPEG program and
# transport streams, and raw MPEG video, the content types the API accepts.
ALLOWED_FORMATS = ("mov", "matroska", "webm", "avi", "mpeg", "mpegts", "mpegvideo")
FORMAT_WHITELIST = ",".join(ALLOWED_FORMATS)
PROTOCOL_WHITELIST = "file"

# Input options for ffmpeg and ffprobe: they go before the input they govern.
INPUT_ARGS = ("-protocol_whitelist", PROTOCOL_WHITELIST, "-format_whitelist", FORMAT_WHITELIST)

# The same for PyAV's `av.open(path, options=...)`.
AV_OPEN_OPTIONS = {"protocol_whitelist": PROTOCOL_WHITELIST, "format_whitelist": FORMAT_WHITELIST}


def local_input(path: object) -> str:
    """A local path as ffmpeg's input: `file:` so a name like `concat:a|b` stays a file name."""
    return f"file:{path}"


def refused_format(ffmpeg_error: str) -> bool:
    """Whether ffmpeg's error says the whitelist refused the input's format or protocol."""
    return "not on whitelist" in ffmpeg_error
