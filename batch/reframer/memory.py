"""Freed memory kept in the process for the next frame instead of handed back to the kernel.

The analysis pass allocates the same large blocks for every frame it looks at:
libfacedetection's feature maps (megabytes, allocated and freed inside each call), LiteRT's
outputs, the colour frames. glibc gives blocks that large back to the kernel when they are
freed (mmap'd ones at once, the heap's top past its trim threshold), so the next frame faults
in fresh pages that the kernel zeroes first (ten face detections: 21 290 page faults; 11% of
the pass's CPU was the kernel's, 6% now). Raising glibc's two thresholds keeps those blocks in
the heap, reused frame after frame (measured on the 30 s bench clip: analysis CPU 4.5-4.9 s
-> 4.2-4.35 s); the pass's peak is the same, the same blocks come back. Set in this process
through `mallopt`, not by `MALLOC_*` variables, which the render's ffmpeg would inherit.

When the pass is over, what it freed is handed back at once (`malloc_trim`), before the
render's ffmpeg starts and needs memory of its own: the process tree's peak is then lower by
that much (the bench clip: this process 214 MB -> 127 MB while ffmpeg renders).
"""

from __future__ import annotations

import ctypes
from typing import Any

# mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to glibc's largest mmap threshold (32 MiB on 64-bit) come from the heap...
MMAP_THRESHOLD = 32 * 1024 * 1024
# ...and the heap's free top goes back to the kernel only past this.
TRIM_THRESHOLD = 1024 * 1024 * 1024


def _libc_function(name: str) -> Any:
    """A function of the C library this process runs on, None where it has no such function
    (musl, macOS: nothing changes there)."""
    return getattr(ctypes.CDLL(None), name, None)


def keep_freed_memory() -> bool:
    """Set glibc's thresholds; False where the C library has no `mallopt`."""
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success, 0 on a value it refuses.
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def release_freed_memory() -> bool:
    """Hand the heap's free blocks back to the kernel; False where there is no `malloc_trim`."""
    malloc_trim = _libc_function("malloc_trim")
    if malloc_trim is None:
        return False
    malloc_trim.argtypes = (ctypes.c_size_t,)
    malloc_trim.restype = ctypes.c_int
    malloc_trim(0)
    return True
