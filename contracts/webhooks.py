"""The webhook_delivery Lambda's side: the webhooks queue's message, the delivery to send,
the attempt it reports and the outcome the API answers with."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from contracts.fields import Int32, StorableText

MAX_ERROR_CHARS = 2000
MAX_REFUSED_REASON_CHARS = 500


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELED = "canceled"  # the endpoint was disabled before the delivery finished


class NextStep(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    ENDPOINT_DISABLED = "endpoint_disabled"


class DeliveryMessage(BaseModel):
    """The body of a webhooks queue message."""

    # The outbox adds its own members (the trace context) beside this one.
    model_config = ConfigDict(extra="ignore")

    delivery_id: uuid.UUID


class DeliveryToSend(BaseModel):
    """`GET /internal/webhooks/deliveries/{id}`: one attempt's worth of work."""

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


class AttemptReport(BaseModel):
    """`POST /internal/webhooks/deliveries/{id}/attempts`: how one attempt went."""

    model_config = ConfigDict(extra="forbid")

    attempt: Int32 = Field(ge=1, description="which attempt this is (1-based)")
    attempted_at: AwareDatetime
    status_code: Annotated[int, Field(ge=100, le=599)] | None = None
    latency_ms: Annotated[Int32, Field(ge=0)] | None = None
    error: Annotated[StorableText, Field(min_length=1, max_length=MAX_ERROR_CHARS)] | None = None
    refused_reason: (
        Annotated[StorableText, Field(min_length=1, max_length=MAX_REFUSED_REASON_CHARS)] | None
    ) = Field(None, description="set when the SSRF guard refused the target: nothing was sent")

    @model_validator(mode="after")
    def _one_kind_of_result(self) -> Self:
        if self.refused_reason is not None and self.status_code is not None:
            raise ValueError("a refused attempt has no status code: nothing was sent")
        if self.status_code is None and self.error is None and self.refused_reason is None:
            raise ValueError("report a status_code, an error or a refused_reason")
        return self


class AttemptOutcome(BaseModel):
    """What the API decided after an attempt, and so what the Lambda does with the message."""

    model_config = ConfigDict(from_attributes=True)

    next: NextStep = Field(description="delivered, retry, failed or endpoint_disabled")
    delivery_status: DeliveryStatus
    retry_after_seconds: int | None = Field(description="with retry: hide the message this long")
    dead_letter: bool = Field(description="the retry schedule is exhausted: dead-letter it")
    endpoint_disabled: bool
