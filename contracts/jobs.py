"""The job vocabulary every side speaks: statuses, pipeline stages, failure codes, options."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class JobStatus(StrEnum):
    PENDING_UPLOAD = "pending_upload"
    QUEUED = "queued"
    SUBMITTED = "submitted"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"


class ProgressStage(StrEnum):
    """The pipeline's stages, in the order it runs them."""

    PROBE = "probe"
    DECODE = "decode"
    SHOTS = "shots"
    FACES = "faces"
    SALIENCY = "saliency"
    TRACKING = "tracking"
    CAMERA = "camera"
    RENDER = "render"
    OUTPUTS = "outputs"


class FailureCode(StrEnum):
    INVALID_MEDIA = "invalid_media"
    # The measured source is longer than the job's plan takes (the spec's
    # `max_source_seconds`): a refusal in the tier_limit shape, and nothing is charged.
    SOURCE_TOO_LONG = "source_too_long"
    PIPELINE_ERROR = "pipeline_error"
    TIMEOUT = "timeout"
    CANCELED = "canceled"
    UPLOAD_FAILED = "upload_failed"
    # Set by the sweeper, never by a container: it stopped reporting (killed, host lost) or
    # its Batch job never started.
    CONTAINER_LOST = "container_lost"
    # Set by the sweeper: the job stayed queued through every dispatch attempt (the
    # dispatcher, the API or Batch was unavailable, or its message went to the DLQ).
    DISPATCH_FAILED = "dispatch_failed"
    # A child of a long source's split render (or its join) failed: the source was analysed,
    # the render is worth another attempt.
    SEGMENT_FAILED = "segment_failed"


class AspectRatio(StrEnum):
    VERTICAL = "9:16"
    SQUARE = "1:1"
    PORTRAIT = "4:5"


Resolution = Literal["480p", "720p", "1080p", "2160p"]


class JobOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aspect_ratio: AspectRatio = Field(
        AspectRatio.VERTICAL, description="the output's shape; plans list the ones they include"
    )
    resolution: Resolution = Field(
        "720p", description="the output's short side; 2160p needs the 4k_output feature"
    )
