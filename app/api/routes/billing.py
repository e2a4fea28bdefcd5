from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from app.api.deps import CurrentAccount, SessionDep, SettingsDep, StripeDep, require_session
from app.api.schemas.billing import (
    CheckoutRequest,
    RedirectResponse,
    SubscriptionResponse,
    WebhookReceipt,
)
from app.api.schemas.fields import PRINTABLE_ASCII_PATTERN
from app.api.schemas.problems import problem_responses
from app.domain.plans import PlanName
from app.services.billing import checkout, stripe_events

router = APIRouter(prefix="/api/billing", tags=["billing"], responses=problem_responses(422))

# Billing is the account owner's business: API keys never reach it.
SESSION_ONLY = [Depends(require_session)]

# Stripe's idempotency keys hold 255 characters; ours wraps the caller's in ~60 more.
MAX_IDEMPOTENCY_KEY_LENGTH = 190


@router.post(
    "/checkout",
    response_model=RedirectResponse,
    summary="Start a subscription: a Stripe Checkout page for the plan",
    responses=problem_responses(401, 403, 409, 429, 502, 503),
    dependencies=SESSION_ONLY,
)
async def start_checkout(
    body: CheckoutRequest,
    account: CurrentAccount,
    session: SessionDep,
    settings: SettingsDep,
    stripe: StripeDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
            pattern=PRINTABLE_ASCII_PATTERN,
            description="retrying with the same key returns the same checkout page",
        ),
    ] = None,
) -> RedirectResponse:
    url = await checkout.start_checkout(
        session, settings, stripe, account, PlanName(body.plan.value), idempotency_key
    )
    return RedirectResponse(url=url)


@router.post(
    "/portal",
    response_model=RedirectResponse,
    summary="Manage the subscription: a Stripe customer-portal page",
    responses=problem_responses(401, 403, 409, 429, 502, 503),
    dependencies=SESSION_ONLY,
)
async def open_billing_portal(
    account: CurrentAccount, session: SessionDep, settings: SettingsDep, stripe: StripeDep
) -> RedirectResponse:
    return RedirectResponse(url=await checkout.open_portal(session, settings, stripe, account))


@router.get(
    "/subscription",
    response_model=SubscriptionResponse,
    responses=problem_responses(401, 403, 429),
    dependencies=SESSION_ONLY,
)
async def get_billing_subscription(
    account: CurrentAccount, session: SessionDep, settings: SettingsDep
) -> SubscriptionResponse:
    return SubscriptionResponse.of(await checkout.get_subscription(session, settings, account))


@router.post(
    "/stripe-webhook",
    response_model=WebhookReceipt,
    summary="Stripe's webhook endpoint (signed with the endpoint's secret)",
    responses=problem_responses(400, 502, 503),
)
async def receive_stripe_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    stripe: StripeDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookReceipt:
    # The signature covers the exact bytes, so the body is read raw, never re-serialised.
    event = stripe_events.verify_event(settings, await request.body(), stripe_signature)
    outcome = await stripe_events.handle_event(session, settings, stripe, event)
    return WebhookReceipt(outcome=outcome.value)
