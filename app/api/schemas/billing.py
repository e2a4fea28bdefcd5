from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.services.billing.checkout import SubscriptionView


class PaidPlan(StrEnum):
    PRO = "pro"
    BUSINESS = "business"


class CheckoutRequest(BaseModel):
    plan: PaidPlan = Field(examples=["pro"])


class RedirectResponse(BaseModel):
    url: str = Field(description="the Stripe page to send the customer to")


class SubscriptionResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    plan: str = Field(description="the plan the account has now")
    subscribed_plan: str | None = Field(
        description="the plan the subscription pays for, while it is in good standing"
    )
    status: str | None = Field(
        description="Stripe's subscription status (active, past_due, canceled, ...); "
        "null if the account never subscribed"
    )
    current_period_end: datetime | None = Field(
        description="when the paid period ends (and renews, unless canceled)"
    )
    cancel_at_period_end: bool = Field(
        description="the subscription ends, and the plan falls back to free, at period end"
    )

    @classmethod
    def of(cls, view: SubscriptionView) -> SubscriptionResponse:
        return cls.model_validate(view)


class WebhookReceipt(BaseModel):
    received: bool = True
    outcome: str = Field(description="applied, stale, ignored or duplicate")
