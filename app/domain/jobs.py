"""Pure rules about a job's media: accepted uploads, S3 locations, pipeline progress."""

from __future__ import annotations

import secrets
import uuid

from app.domain.errors import OutputOutsidePrefix
from app.domain.plans import GIB

# Re-exported: the contract owns them.
from contracts.jobs import FailureCode as FailureCode
from contracts.jobs import ProgressStage as ProgressStage

# What a browser or server may declare for a source video; the presigned PUT signs it.
VIDEO_CONTENT_TYPES = frozenset(
    {
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/x-matroska",
        "video/x-msvideo",
        "video/x-m4v",
        "video/mpeg",
        "video/3gpp",
    }
)

# S3 refuses a single PUT over 5 GiB: larger files upload in parts (app.domain.multipart).
SINGLE_PUT_MAX_BYTES = 5 * GIB

# The files the pipeline writes under a job's output prefix.
OUTPUT_NAMES = ("video", "thumbnail", "manifest")


_STAGE_ORDER = {stage: index for index, stage in enumerate(ProgressStage)}


# Failures of the infrastructure rather than of the video: the same upload, submitted again
# as a new job, can be expected to succeed.
RETRYABLE_FAILURES = frozenset(
    {
        FailureCode.CONTAINER_LOST,
        FailureCode.UPLOAD_FAILED,
        FailureCode.DISPATCH_FAILED,
        FailureCode.SEGMENT_FAILED,
    }
)


def is_retryable(code: str) -> bool:
    return code in RETRYABLE_FAILURES


def children_percent(base: int, percents: dict[str, int], children: int) -> int:
    """A split render's progress: each child's advance past `base` (where the job stood when
    the children began) counts for 1/children of the way."""
    gained = sum(max(0, min(100, p) - base) for p in percents.values())
    return min(100, base + gained // max(1, children))


def progress_advances(
    current_stage: str | None, current_percent: int | None, stage: ProgressStage, percent: int
) -> bool:
    """A late or repeated report never moves progress backwards."""
    if current_stage is None or current_percent is None:
        return True
    current = (_STAGE_ORDER[ProgressStage(current_stage)], current_percent)
    return (_STAGE_ORDER[stage], percent) > current


def new_upload_key(job_id: uuid.UUID) -> str:
    """Scoped to the job, with a random part nobody can guess from the job id."""
    return f"uploads/{job_id}/{secrets.token_urlsafe(24)}/source"


def output_prefix_key(job_id: uuid.UUID) -> str:
    return f"outputs/{job_id}/"


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def output_key(uri: str, bucket: str, job_id: uuid.UUID) -> str:
    """The S3 key of an output URI, refusing anything outside the job's own output prefix."""
    prefix = s3_uri(bucket, output_prefix_key(job_id))
    key = uri[len(f"s3://{bucket}/") :]
    name = uri[len(prefix) :]
    if (
        not uri.startswith(prefix)
        or not name
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise OutputOutsidePrefix(
            f"Outputs must lie under {prefix}.", uri=uri, output_prefix=prefix
        )
    return key
