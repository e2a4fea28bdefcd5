from __future__ import annotations

import math
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.api.schemas.fields import StorableText
from app.api.schemas.jobs import JobOptions
from app.db.models import Job
from app.domain.job_states import JobStatus
from app.domain.jobs import FailureCode, ProgressStage
from app.domain.plans import AspectRatio
from app.services.jobs.callbacks import JobSpec

BatchJobId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_:.\-]+$")]
S3Uri = Annotated[str, Field(min_length=6, max_length=1024, pattern=r"^s3://[^\x00-\x1f\x7f]+$")]
MAX_METRICS_DEPTH = 8


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


class DispatchResponse(BaseModel):
    job_id: uuid.UUID
    account_id: uuid.UUID
    plan: str
    input_uri: str
    output_prefix: str
    options: JobOptions
    batch_queue: Literal["standard", "priority"]
    callback_url: str
    callback_token: str = Field(description="for this job's callbacks only; replaces any earlier")

    @classmethod
    def of(cls, spec: JobSpec) -> DispatchResponse:
        return cls(
            job_id=spec.job_id,
            account_id=spec.account_id,
            plan=spec.plan,
            input_uri=spec.input_uri,
            output_prefix=spec.output_prefix,
            options=JobOptions(
                aspect_ratio=AspectRatio(spec.aspect_ratio),
                resolution=spec.resolution,
            ),
            batch_queue=spec.batch_queue,
            callback_url=spec.callback_url,
            callback_token=spec.callback_token,
        )


class BatchJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_job_id: BatchJobId


class ProgressRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: ProgressStage
    percent: int = Field(ge=0, le=100)


class Outputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video: S3Uri
    thumbnail: S3Uri
    manifest: S3Uri


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outputs: Outputs
    metrics: Annotated[dict[str, Any], AfterValidator(_storable_metrics)] = Field(
        default_factory=dict,
        description="free-form; `duration_seconds` (the measured source) corrects usage",
    )


class FailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: FailureCode
    message: Annotated[StorableText, Field(min_length=1, max_length=4000)]


class InternalJobResponse(BaseModel):
    """The job as the dispatcher and the container see it after a callback."""

    job_id: uuid.UUID
    status: JobStatus
    batch_job_id: str | None
    stage: ProgressStage | None
    percent: int | None

    @classmethod
    def of(cls, job: Job) -> InternalJobResponse:
        return cls(
            job_id=job.id,
            status=JobStatus(job.status),
            batch_job_id=job.batch_job_id,
            stage=ProgressStage(job.stage) if job.stage else None,
            percent=job.percent,
        )
