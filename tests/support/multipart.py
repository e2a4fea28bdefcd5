"""A client of multipart uploads: the parts' bytes PUT straight to moto server's S3."""

from __future__ import annotations

from typing import Any

import httpx

from app.domain.plans import MIB
from tests.support.jobs import VIDEO_BYTES

# Above the test threshold, in three parts of the 8 MiB minimum: 8 MiB, 8 MiB, 1 MiB + 7.
MULTIPART_THRESHOLD = 5 * MIB
SOURCE_SIZE = 17 * MIB + 7


def source_bytes(size: int = SOURCE_SIZE) -> bytes:
    """A recognisable video header, then a pattern no two parts share at the same offset."""
    body = bytearray(VIDEO_BYTES)
    counter = 0
    while len(body) < size:
        body += counter.to_bytes(4, "big") * 256
        counter += 1
    return bytes(body[:size])


def part_of(content: bytes, upload: dict[str, Any], part_number: int) -> bytes:
    start = (part_number - 1) * upload["part_size_bytes"]
    return content[start : start + upload["part_size_bytes"]]


async def put_part(part: dict[str, Any], content: bytes) -> str:
    """PUTs one part to its presigned URL; returns the ETag storage answered with."""
    headers = {k: v for k, v in part["headers"].items() if k.lower() != "content-length"}
    async with httpx.AsyncClient() as s3:
        response = await s3.put(part["url"], content=content, headers=headers)
    assert response.status_code == 200, response.text
    etag: str = response.headers["ETag"]
    return etag
