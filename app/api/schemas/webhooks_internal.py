from __future__ import annotations

import uuid
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from app.api.schemas.fields import Int32, StorableText


class DeliveryToSendResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    delivery_id: uuid.UUID
    event_id: uuid.UUID = Field(description="the webhook-id: the same on every attempt")
    event_type: str
    url: str
    payload: str = Field(description="the exact text to send and sign (UTF-8)")
    secrets: list[str] = Field(description="every secret to sign with; empty when not deliverable")
    attempt_count: int = Field(description="attempts recorded so far; report attempt_count + 1")
    max_attempts: int
    deliverable: bool
    reason: str | None = Field(description="why not deliverable: delivered, failed, canceled, ...")
    require_https: bool


class AttemptReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attempt: Int32 = Field(ge=1, description="which attempt this is (1-based)")
    attempted_at: AwareDatetime
    status_code: Annotated[int, Field(ge=100, le=599)] | None = None
    latency_ms: Annotated[Int32, Field(ge=0)] | None = None
    error: Annotated[StorableText, Field(min_length=1, max_length=2000)] | None = None
    refused_reason: Annotated[StorableText, Field(min_length=1, max_length=500)] | None = Field(
        None, description="set when the SSRF guard refused the target: nothing was sent"
    )

    @model_validator(mode="after")
    def _one_kind_of_result(self) -> Self:
        if self.refused_reason is not None and self.status_code is not None:
            raise ValueError("a refused attempt has no status code: nothing was sent")
        if self.status_code is None and self.error is None and self.refused_reason is None:
            raise ValueError("report a status_code, an error or a refused_reason")
        return self


class AttemptResultResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    next: str = Field(description="delivered, retry, failed or endpoint_disabled")
    delivery_status: str
    retry_after_seconds: int | None = Field(description="with retry: hide the message this long")
    dead_letter: bool = Field(description="the retry schedule is exhausted: dead-letter it")
    endpoint_disabled: bool
