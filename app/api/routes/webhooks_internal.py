"""The webhook_delivery Lambda's side of the API: what to send, and how the attempt went.

Only that function's token opens these; bodies and answers are the contract's models.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from app.api.deps import (
    SessionDep,
    SettingsDep,
    require_plain_internal_path,
    require_webhook_sender_token,
)
from app.api.schemas.problems import problem_responses
from app.api.schemas.webhooks_internal import attempt_outcome, delivery_to_send
from app.services.webhooks import deliveries
from contracts.webhooks import AttemptOutcome, AttemptReport, DeliveryToSend

router = APIRouter(
    prefix="/internal/webhooks",
    tags=["internal"],
    dependencies=[Depends(require_plain_internal_path), Depends(require_webhook_sender_token)],
    responses=problem_responses(401, 403, 404, 422),
)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryToSend)
async def get_delivery_to_send(
    delivery_id: uuid.UUID, session: SessionDep, settings: SettingsDep
) -> DeliveryToSend:
    return delivery_to_send(await deliveries.delivery_to_send(session, settings, delivery_id))


@router.post(
    "/deliveries/{delivery_id}/attempts",
    response_model=AttemptOutcome,
    responses=problem_responses(409),
)
async def report_delivery_attempt(
    delivery_id: uuid.UUID, body: AttemptReport, session: SessionDep, settings: SettingsDep
) -> AttemptOutcome:
    result = await deliveries.record_attempt(
        session,
        settings,
        delivery_id,
        deliveries.AttemptReport(
            attempt=body.attempt,
            attempted_at=body.attempted_at,
            status_code=body.status_code,
            latency_ms=body.latency_ms,
            error=body.error,
            refused_reason=body.refused_reason,
        ),
    )
    return attempt_outcome(result)
