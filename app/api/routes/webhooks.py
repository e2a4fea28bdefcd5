from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.deps import (
    CurrentAccount,
    SessionDep,
    SettingsDep,
    WakeOutbox,
    require_feature,
    require_resource_scope,
)
from app.api.schemas.problems import problem_responses
from app.api.schemas.webhooks import (
    CreatedWebhookEndpointResponse,
    CreateWebhookEndpointRequest,
    RotatedSecretResponse,
    UpdateWebhookEndpointRequest,
    WebhookDeliveryList,
    WebhookDeliveryResponse,
    WebhookEndpointList,
    WebhookEndpointResponse,
)
from app.db.models import Account
from app.domain.api_key_scopes import Scope
from app.domain.plans import Feature
from app.domain.webhook_deliveries import DeliveryStatus
from app.domain.webhook_events import WebhookEventType
from app.services.webhooks import deliveries, endpoints, events

router = APIRouter(
    prefix="/api/webhooks",
    tags=["webhooks"],
    responses=problem_responses(401, 403, 422),
    dependencies=[Depends(require_resource_scope(Scope.WEBHOOKS_READ, Scope.WEBHOOKS_WRITE))],
)

# Like API keys: creating and changing need the plan; reading and deleting stay open after a
# downgrade (and a downgraded account's events are no longer sent).
WebhooksAccount = Annotated[Account, Depends(require_feature(Feature.WEBHOOKS))]


@router.post(
    "/endpoints",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedWebhookEndpointResponse,
    responses=problem_responses(409),
)
async def create_webhook_endpoint(
    body: CreateWebhookEndpointRequest,
    account: WebhooksAccount,
    session: SessionDep,
    settings: SettingsDep,
) -> CreatedWebhookEndpointResponse:
    created = await endpoints.create_endpoint(
        session,
        settings,
        account,
        url=body.url,
        event_types=[WebhookEventType(e) for e in body.events],
        description=body.description,
    )
    return CreatedWebhookEndpointResponse.of_created(created)


@router.get("/endpoints", response_model=WebhookEndpointList)
async def list_webhook_endpoints(
    account: CurrentAccount, session: SessionDep
) -> WebhookEndpointList:
    return WebhookEndpointList.of(await endpoints.list_endpoints(session, account))


@router.get(
    "/endpoints/{endpoint_id}",
    response_model=WebhookEndpointResponse,
    responses=problem_responses(404),
)
async def get_webhook_endpoint(
    endpoint_id: uuid.UUID, account: CurrentAccount, session: SessionDep
) -> WebhookEndpointResponse:
    return WebhookEndpointResponse.of(
        await endpoints.get_endpoint(session, account.id, endpoint_id)
    )


@router.patch(
    "/endpoints/{endpoint_id}",
    response_model=WebhookEndpointResponse,
    responses=problem_responses(404),
)
async def update_webhook_endpoint(
    endpoint_id: uuid.UUID,
    body: UpdateWebhookEndpointRequest,
    account: WebhooksAccount,
    session: SessionDep,
) -> WebhookEndpointResponse:
    updated = await endpoints.update_endpoint(
        session,
        account,
        endpoint_id,
        event_types=[WebhookEventType(e) for e in body.events] if body.events else None,
        description=body.description,
        enabled=body.enabled,
    )
    return WebhookEndpointResponse.of(updated)


@router.delete(
    "/endpoints/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
)
async def delete_webhook_endpoint(
    endpoint_id: uuid.UUID, account: CurrentAccount, session: SessionDep
) -> Response:
    await endpoints.delete_endpoint(session, account, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    response_model=RotatedSecretResponse,
    responses=problem_responses(404),
)
async def rotate_webhook_secret(
    endpoint_id: uuid.UUID, account: WebhooksAccount, session: SessionDep, settings: SettingsDep
) -> RotatedSecretResponse:
    rotated = await endpoints.rotate_secret(session, settings, account, endpoint_id)
    return RotatedSecretResponse.of(rotated)


@router.post(
    "/endpoints/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookDeliveryResponse,
    responses=problem_responses(404, 409),
    summary="Send a webhook.test event to this endpoint",
)
async def send_webhook_test_event(
    endpoint_id: uuid.UUID,
    account: WebhooksAccount,
    session: SessionDep,
    wake_outbox: WakeOutbox,
) -> WebhookDeliveryResponse:
    delivery = await events.send_test_event(session, account, endpoint_id)
    wake_outbox()
    return WebhookDeliveryResponse.of(delivery)


@router.get(
    "/deliveries",
    response_model=WebhookDeliveryList,
    responses=problem_responses(404),
    summary="The delivery log, newest first, with every attempt",
)
async def list_webhook_deliveries(
    account: CurrentAccount,
    session: SessionDep,
    endpoint_id: uuid.UUID | None = None,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    starting_after: Annotated[
        uuid.UUID | None, Query(description="the id of the last delivery of the previous page")
    ] = None,
) -> WebhookDeliveryList:
    page = await deliveries.list_deliveries(
        session,
        account,
        endpoint_id=endpoint_id,
        status=delivery_status,
        limit=limit,
        starting_after=starting_after,
    )
    return WebhookDeliveryList.of(page)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookDeliveryResponse,
    responses=problem_responses(404, 409),
)
async def redeliver_webhook(
    delivery_id: uuid.UUID,
    account: WebhooksAccount,
    session: SessionDep,
    wake_outbox: WakeOutbox,
) -> WebhookDeliveryResponse:
    delivery = await deliveries.redeliver(session, account, delivery_id)
    wake_outbox()
    return WebhookDeliveryResponse.of(delivery)
