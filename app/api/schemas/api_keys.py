from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.schemas.fields import SingleLineText
from app.db.models import ApiKey
from app.domain.api_key_scopes import DEFAULT_SCOPES, Scope
from app.services.auth.api_keys import CreatedApiKey


class CreateApiKeyRequest(BaseModel):
    name: Annotated[
        SingleLineText, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ] = Field(examples=["production server"])
    scopes: list[Scope] = Field(
        default_factory=lambda: list(DEFAULT_SCOPES),
        min_length=1,
        max_length=len(Scope),
        description="what the key may do; by default jobs and usage. `webhooks:write` "
        "(which includes `webhooks:read`) only when chosen. Keys never manage keys, billing "
        "or the account: that takes a signed-in user.",
        examples=[[s.value for s in DEFAULT_SCOPES]],
    )


class ApiKeyResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="the first characters of the key, to recognise it")
    scopes: list[str] = Field(description="what the key may do")
    created_at: datetime
    last_used_at: datetime | None = Field(description="within a minute; null until first used")

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyResponse:
        return cls.model_validate(key)


class CreatedApiKeyResponse(ApiKeyResponse):
    key: str = Field(description="the full key; shown only this once")

    @classmethod
    def of_created(cls, created: CreatedApiKey) -> CreatedApiKeyResponse:
        return cls(**ApiKeyResponse.of(created.record).model_dump(), key=created.secret)
