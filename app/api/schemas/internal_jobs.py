from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.jobs import JobOptions
from app.db.models import Job
from app.domain.job_states import JobStatus
from app.domain.jobs import FailureCode, ProgressStage
from app.domain.plans import AspectRatio
from app.services.jobs.callbacks import JobSpec

BatchJobId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_:.\-]+$")]
S3Uri = Annotated[str, Field(min_length=6, max_length=1024, pattern=r"^s3://")]


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
    metrics: dict[str, Any] = Field(
        default_factory=dict,
        description="free-form; `duration_seconds` (the measured source) corrects usage",
    )


class FailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: FailureCode
    message: str = Field(min_length=1, max_length=4000)


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
