from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.schemas.fields import SingleLineText


class CreateApiKeyRequest(BaseModel):
    name: Annotated[
        SingleLineText, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ] = Field(examples=["production server"])


class ApiKeyResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="the first characters of the key, to recognise it")
    created_at: datetime
    last_used_at: datetime | None


class CreatedApiKeyResponse(ApiKeyResponse):
    key: str = Field(description="the full key; shown only this once")
