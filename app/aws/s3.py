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


# ---------------------------------------------------------------- multipart uploads

# S3's answer when the upload id is unknown: completed, aborted, or never started.
_NO_SUCH_UPLOAD = "NoSuchUpload"
# ListParts pages hold at most this many parts.
_LIST_PARTS_PAGE = 1000


@dataclass(frozen=True, slots=True)
class StoredPart:
    part_number: int
    size_bytes: int
    etag: str  # without the quotes S3 wraps it in


def bare_etag(etag: str) -> str:
    return etag.strip().strip('"')


async def presign_part(
    presigner: Presigner,
    key: str,
    *,
    upload_id: str,
    part_number: int,
    size_bytes: int,
    ttl_seconds: int,
) -> str:
    """An UploadPart URL whose signature covers the part's length: S3 refuses another."""
    return await presigner.url(
        "PUT",
        key,
        ttl_seconds=ttl_seconds,
        headers={"Content-Length": str(size_bytes)},
        query=(("uploadId", upload_id), ("partNumber", str(part_number))),
    )


async def start_multipart_upload(s3: Any, bucket: str, key: str, *, content_type: str) -> str:
    """Opens the upload; the type is fixed here, so the assembled object carries it."""
    try:
        response = await s3.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=content_type
        )
    except (ClientError, BotoCoreError) as exc:
        raise _unavailable("start the upload") from exc
    upload_id: str = response["UploadId"]
    return upload_id


async def list_parts(s3: Any, bucket: str, key: str, upload_id: str) -> list[StoredPart] | None:
    """The parts S3 holds for the upload, by number; None when the upload is not open."""
    parts: list[StoredPart] = []
    marker = 0
    while True:
        try:
            response = await s3.list_parts(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MaxParts=_LIST_PARTS_PAGE,
                PartNumberMarker=marker,
            )
        except ClientError as exc:
            if _error_code(exc) == _NO_SUCH_UPLOAD:
                return None
            raise _unavailable("list the uploaded parts") from exc
        except BotoCoreError as exc:
            raise _unavailable("list the uploaded parts") from exc
        parts.extend(
            StoredPart(
                part_number=int(part["PartNumber"]),
                size_bytes=int(part["Size"]),
                etag=bare_etag(part["ETag"]),
            )
            for part in response.get("Parts", [])
        )
        if not response.get("IsTruncated"):
            return parts
        marker = int(response["NextPartNumberMarker"])


async def complete_multipart_upload(
    s3: Any, bucket: str, key: str, upload_id: str, parts: list[StoredPart]
) -> bool:
    """Assembles the object from `parts`; False when the upload is no longer open."""
    try:
        await s3.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": p.part_number, "ETag": f'"{p.etag}"'} for p in parts]
            },
        )
    except ClientError as exc:
        if _error_code(exc) == _NO_SUCH_UPLOAD:
            return False
        raise _unavailable("assemble the upload") from exc
    except BotoCoreError as exc:
        raise _unavailable("assemble the upload") from exc
    return True


async def abort_multipart_upload(s3: Any, bucket: str, key: str, upload_id: str) -> None:
    """Discards the upload and its parts; an upload already gone is fine."""
    try:
        await s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except ClientError as exc:
        if _error_code(exc) != _NO_SUCH_UPLOAD:
            raise _unavailable("discard the upload") from exc
    except BotoCoreError as exc:
        raise _unavailable("discard the upload") from exc


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code"))


def _unavailable(action: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The media store could not {action}; try again shortly.", retry_after=RETRY_AFTER_SECONDS
    )
