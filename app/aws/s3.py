"""Presigned URLs and HEAD on the media bucket (presigning is local, HEAD is I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from app.aws.presigning import Presigner
from app.domain.errors import ServiceUnavailable

# The client's wait before it confirms again while the media store is away.
RETRY_AFTER_SECONDS = 5

# HEAD has no body, so S3 reports a missing key by status alone.
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


@dataclass(frozen=True, slots=True)
class StoredObject:
    size_bytes: int
    content_type: str | None


async def presign_put(
    presigner: Presigner, key: str, *, content_type: str, size_bytes: int, ttl_seconds: int
) -> str:
    """A PUT URL whose signature covers the content type and length: S3 refuses others."""
    return await presigner.url(
        "PUT",
        key,
        ttl_seconds=ttl_seconds,
        headers={"Content-Type": content_type, "Content-Length": str(size_bytes)},
    )


async def presign_get(presigner: Presigner, key: str, *, ttl_seconds: int) -> str:
    return await presigner.url("GET", key, ttl_seconds=ttl_seconds)


async def head_object(s3: Any, bucket: str, key: str) -> StoredObject | None:
    """The object's size and type, or None when it is not there.

    S3 answers a missing key with 403 instead of 404 unless the caller may list the bucket:
    the API's role needs s3:ListBucket for "missing" to be told apart from "forbidden".
    """
    try:
        response = await s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in _MISSING_CODES:
            return None
        raise ServiceUnavailable(
            "The media store refused to describe the upload.", retry_after=RETRY_AFTER_SECONDS
        ) from exc
    except BotoCoreError as exc:
        raise ServiceUnavailable(
            "The media store is unreachable; try again shortly.", retry_after=RETRY_AFTER_SECONDS
        ) from exc
    return StoredObject(
        size_bytes=int(response["ContentLength"]), content_type=response.get("ContentType")
    )
