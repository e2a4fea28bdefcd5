from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import CurrentAccount, SessionDep, SettingsDep, require_feature, require_session
from app.api.schemas.api_keys import ApiKeyResponse, CreateApiKeyRequest, CreatedApiKeyResponse
from app.api.schemas.problems import problem_responses
from app.db.models import Account
from app.domain.plans import Feature
from app.services.auth import api_keys

router = APIRouter(
    prefix="/api/api-keys",
    tags=["api-keys"],
    responses=problem_responses(401, 403, 422),
    # A key never mints, lists or revokes keys: a leaked one cannot outlive its revocation.
    dependencies=[Depends(require_session)],
)

# Creating needs the feature; listing and revoking stay open after a downgrade.
ApiKeysAccount = Annotated[Account, Depends(require_feature(Feature.API_KEYS))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedApiKeyResponse,
    responses=problem_responses(409),
)
async def create_api_key(
    body: CreateApiKeyRequest, account: ApiKeysAccount, session: SessionDep, settings: SettingsDep
) -> CreatedApiKeyResponse:
    created = await api_keys.create_api_key(session, settings, account, body.name, body.scopes)
    return CreatedApiKeyResponse.of_created(created)


@router.get("", response_model=list[ApiKeyResponse])
async def list_api_keys(account: CurrentAccount, session: SessionDep) -> list[ApiKeyResponse]:
    return [ApiKeyResponse.of(key) for key in await api_keys.list_api_keys(session, account)]


@router.delete(
    "/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404)
)
async def revoke_api_key(
    key_id: uuid.UUID, account: CurrentAccount, session: SessionDep
) -> Response:
    await api_keys.revoke_api_key(session, account, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
