"""The webhook_delivery Lambda's side of the API: what to send, and how the attempt went."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from app.api.deps import SessionDep, SettingsDep, require_service_token
from app.api.schemas.problems import problem_responses
from app.api.schemas.webhooks_internal import (
    AttemptReportRequest,
    AttemptResultResponse,
    DeliveryToSendResponse,
)
from app.services.webhooks import deliveries

router = APIRouter(
    prefix="/internal/webhooks",
    tags=["internal"],
    dependencies=[Depends(require_service_token)],
    responses=problem_responses(401, 403, 404, 422),
)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryToSendResponse)
async def get_delivery_to_send(
    delivery_id: uuid.UUID, session: SessionDep, settings: SettingsDep
) -> object:
    return await deliveries.delivery_to_send(session, settings, delivery_id)


@router.post(
    "/deliveries/{delivery_id}/attempts",
    response_model=AttemptResultResponse,
    responses=problem_responses(409),
)
async def report_delivery_attempt(
    delivery_id: uuid.UUID, body: AttemptReportRequest, session: SessionDep, settings: SettingsDep
) -> object:
    return await deliveries.record_attempt(
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
