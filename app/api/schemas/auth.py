from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from app.api.schemas.fields import SingleLineText
from app.db.models import Account
from app.services.auth.sessions import TokenPair

# Any Unicode, 8 to 1024 characters; nothing is truncated (bcrypt_sha256 hashes every byte).
Password = Annotated[str, Field(min_length=8, max_length=1024, examples=["correct horse battery"])]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={
        "examples": [{"email": "ada@example.com", "password": "correct horse battery"}]
    })  # fmt: skip

    email: EmailStr
    password: Password


class LoginRequest(BaseModel):
    email: EmailStr
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class TokenForm(BaseModel):
    """OAuth2's password grant, as the Authorize button of /docs sends it."""

    grant_type: Annotated[str | None, Field(pattern="^password$")] = None
    username: Annotated[SingleLineText, StringConstraints(min_length=1, max_length=320)] = Field(
        description="the account's email address"
    )
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    scope: str = ""


class RefreshRequest(BaseModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class ChangePasswordRequest(BaseModel):
    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: Password


# Tokens mailed in links are 43 characters; the bound only refuses absurd input.
EmailLinkToken = Annotated[str, Field(min_length=1, max_length=512)]


class VerifyEmailRequest(BaseModel):
    token: EmailLinkToken = Field(description="the `token` parameter of the emailed link")


class ForgotPasswordRequest(BaseModel):
    email: EmailStr


class ResetPasswordRequest(BaseModel):
    token: EmailLinkToken = Field(description="the `token` parameter of the emailed link")
    new_password: Password


class AcceptedResponse(BaseModel):
    detail: str


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="seconds until the access token expires")

    @classmethod
    def of(cls, pair: TokenPair) -> TokenResponse:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type=pair.token_type,
            expires_in=pair.expires_in,
        )


class AccountResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    plan: str
    email_verified: bool = Field(description="the owner opened a link sent to `email`")
    notify_on_job_done: bool = Field(description="email when a job succeeds or fails")
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountResponse:
        return cls.model_validate(account)
