"""The dispatcher's side: the jobs queue's message, the spec `/dispatch` answers with, and
the `/submitted` callback."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.jobs import JobOptions

BatchQueue = Literal["standard", "priority"]
BatchJobId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_:.\-]+$")]


class JobMessage(BaseModel):
    """The body of a jobs queue (FIFO) message; the job id doubles as its deduplication id."""

    # The outbox adds its own members (the trace context) beside these.
    model_config = ConfigDict(extra="ignore")

    job_id: uuid.UUID
    account_id: uuid.UUID


class RenderSplit(BaseModel):
    """When and how a long source renders as an AWS Batch array job (the API's settings)."""

    threshold_seconds: int = Field(
        gt=0, description="a source declared longer than this renders in segments"
    )
    segment_seconds: int = Field(gt=0, description="about how long each segment is")
    max_children: int = Field(ge=2, le=10_000, description="the array job's largest size")


class DispatchSpec(BaseModel):
    """`POST /internal/jobs/{id}/dispatch`: what the dispatcher submits to Batch."""

    job_id: uuid.UUID
    account_id: uuid.UUID
    plan: str
    input_uri: str
    output_prefix: str
    options: JobOptions
    max_source_seconds: int = Field(
        gt=0, description="the plan's longest source: the container refuses a longer one"
    )
    batch_queue: BatchQueue
    source_seconds: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="the source's duration as declared"
    )
    render_split: RenderSplit | None = Field(
        None, description="absent: every source renders in one container"
    )
    callback_url: str
    callback_token: str = Field(description="for this job's callbacks only; replaces any earlier")


class BatchJobReport(BaseModel):
    """`/submitted` (the dispatcher) and `/start` (the container): the Batch job's id."""

    model_config = ConfigDict(extra="forbid")

    batch_job_id: BatchJobId
