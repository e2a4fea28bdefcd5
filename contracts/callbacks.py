"""The Batch container's callbacks (`/internal/jobs/{id}/start|progress|complete|fail`) and
the job state every internal job route answers with."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from contracts.dispatch import BatchJobId, BatchJobReport
from contracts.fields import StorableText
from contracts.jobs import FailureCode, JobStatus, ProgressStage

S3Uri = Annotated[str, Field(min_length=6, max_length=1024, pattern=r"^s3://[^\x00-\x1f\x7f]+$")]
MAX_METRICS_DEPTH = 8
MAX_FAILURE_MESSAGE_CHARS = 4000

# The container's start callback carries its Batch job id, as the dispatcher's does.
StartCallback = BatchJobReport


def _storable(value: Any, depth: int = 0) -> bool:
    """What both databases' JSON columns take: finite numbers, strings without NUL."""
    if depth > MAX_METRICS_DEPTH:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, list):
        return all(_storable(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v, depth + 1) for k, v in value.items())
    return value is None or isinstance(value, bool | int)


def _storable_metrics(value: dict[str, Any]) -> dict[str, Any]:
    if not _storable(value):
        raise ValueError(
            f"must be JSON with finite numbers, no NUL characters, "
            f"nested at most {MAX_METRICS_DEPTH} deep"
        )
    return value


class ProgressCallback(BaseModel):
    """`percent` is the job's; from a child of a split render, the job's if every child were
    as far along as this one (the API adds the children up)."""

    model_config = ConfigDict(extra="forbid")

    stage: ProgressStage
    percent: int = Field(ge=0, le=100)
    child: int | None = Field(None, ge=0, lt=10_000, description="the array child's index")
    children: int | None = Field(None, ge=1, le=10_000, description="the array's size")
    handed_off: bool = Field(
        False,
        description="this container's step of a split render is done and the render goes on "
        "in another Batch job, which may wait for capacity: no heartbeat until it starts",
    )

    @model_validator(mode="after")
    def _child_of_children(self) -> ProgressCallback:
        if (self.child is None) != (self.children is None):
            raise ValueError("child and children come together")
        if self.child is not None and self.children is not None and self.child >= self.children:
            raise ValueError("child must be below children")
        return self


class Outputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video: S3Uri
    thumbnail: S3Uri
    manifest: S3Uri


class CompleteCallback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outputs: Outputs
    metrics: Annotated[dict[str, Any], AfterValidator(_storable_metrics)] = Field(
        default_factory=dict,
        description="free-form; `duration_seconds` (the measured source) corrects usage",
    )


class FailCallback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: FailureCode
    message: Annotated[StorableText, Field(min_length=1, max_length=MAX_FAILURE_MESSAGE_CHARS)]
    duration_seconds: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="the measured source, when the probe got that far (source_too_long)",
    )


class JobState(BaseModel):
    """The job as the dispatcher and the container see it after a callback."""

    job_id: uuid.UUID
    status: JobStatus
    batch_job_id: str | None
    stage: ProgressStage | None
    percent: int | None


__all__ = [
    "BatchJobId",
    "CompleteCallback",
    "FailCallback",
    "JobState",
    "Outputs",
    "ProgressCallback",
    "S3Uri",
    "StartCallback",
]
