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


class DispatchSpec(BaseModel):
    """`POST /internal/jobs/{id}/dispatch`: what the dispatcher submits to Batch."""

    job_id: uuid.UUID
    account_id: uuid.UUID
    plan: str
    input_uri: str
    output_prefix: str
    options: JobOptions
    batch_queue: BatchQueue
    callback_url: str
    callback_token: str = Field(description="for this job's callbacks only; replaces any earlier")


class BatchJobReport(BaseModel):
    """`/submitted` (the dispatcher) and `/start` (the container): the Batch job's id."""

    model_config = ConfigDict(extra="forbid")

    batch_job_id: BatchJobId
