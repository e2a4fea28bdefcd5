from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from app.api.schemas.fields import SingleLineText
from app.db.models import WebhookDelivery, WebhookEndpoint
from app.services.webhooks.deliveries import DeliveryPage
from app.services.webhooks.endpoints import EndpointWithSecret
from contracts.ssrf import MAX_URL_LENGTH

# The event types an endpoint can subscribe to (`webhook.test` is sent on request only).
SubscribableEventType = Literal[
    "job.queued", "job.started", "job.succeeded", "job.failed", "job.canceled"
]

EventTypes = Annotated[
    list[SubscribableEventType],
    Field(min_length=1, max_length=20, examples=[["job.succeeded", "job.failed"]]),
]
Description = Annotated[SingleLineText, StringConstraints(strip_whitespace=True, max_length=500)]
WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_LENGTH),
    Field(examples=["https://example.com/webhooks/reframer"]),
]


class CreateWebhookEndpointRequest(BaseModel):
    url: WebhookUrl
    events: EventTypes
    description: Description = ""


class UpdateWebhookEndpointRequest(BaseModel):
    """Only the fields sent change; the URL is fixed (create another endpoint to move)."""

    model_config = ConfigDict(extra="forbid")

    events: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None


class WebhookEndpointResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    description: str
    events: list[str] = Field(validation_alias=AliasChoices("event_types", "events"))
    enabled: bool
    disabled_reason: str | None = Field(
        description="manual, gone (the receiver answered 410) or consecutive_failures"
    )
    disabled_at: datetime | None
    secret_rotated_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="until then, deliveries are signed with the previous secret as well"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookEndpointResponse:
        return cls.model_validate(endpoint)


class CreatedWebhookEndpointResponse(WebhookEndpointResponse):
    secret: str = Field(description="the signing secret (whsec_...); shown only this once")

    @classmethod
    def of_created(cls, created: EndpointWithSecret) -> CreatedWebhookEndpointResponse:
        shown = WebhookEndpointResponse.of(created.endpoint)
        return cls(**shown.model_dump(), secret=created.secret)


class RotatedSecretResponse(BaseModel):
    secret: str = Field(description="the new signing secret; shown only this once")
    previous_secret_expires_at: datetime

    @classmethod
    def of(cls, rotated: EndpointWithSecret) -> RotatedSecretResponse:
        expires_at = rotated.endpoint.previous_secret_expires_at
        assert expires_at is not None  # a rotation always sets it
        return cls(secret=rotated.secret, previous_secret_expires_at=expires_at)


class WebhookAttemptResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    attempted_at: datetime
    outcome: str = Field(description="success, http_error, gone, network_error or refused")
    status_code: int | None
    latency_ms: int | None
    error: str | None


class WebhookDeliveryResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID = Field(description="also the webhook-id header the receiver sees")
    event_type: str
    status: str = Field(description="pending, delivered, failed or canceled")
    attempt_count: int
    next_attempt_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    attempts: list[WebhookAttemptResponse]

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> WebhookDeliveryResponse:
        return cls.model_validate(delivery)


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpointResponse]
    has_more: bool = Field(False, description="always false: every endpoint fits on one page")

    @classmethod
    def of(cls, endpoints: list[WebhookEndpoint]) -> WebhookEndpointList:
        return cls(data=[WebhookEndpointResponse.of(e) for e in endpoints])


class WebhookDeliveryList(BaseModel):
    data: list[WebhookDeliveryResponse]
    has_more: bool = Field(description="pass the last delivery's id as `starting_after` for more")

    @classmethod
    def of(cls, page: DeliveryPage) -> WebhookDeliveryList:
        return cls(
            data=[WebhookDeliveryResponse.of(d) for d in page.deliveries], has_more=page.has_more
        )
