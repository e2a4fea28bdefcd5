from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import SessionDep, SettingsDep
from app.api.rate_limits import limit_by_client_ip
from app.api.schemas.auth import (
    AccountResponse,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
)
from app.api.schemas.problems import problem_responses
from app.services.auth import AuthService, TokenPair

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=problem_responses(401, 422))

# Per client IP: these take passwords or refresh tokens, so a guesser would hammer them.
PER_CLIENT_IP = [Depends(limit_by_client_ip)]


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountResponse,
    dependencies=PER_CLIENT_IP,
    responses=problem_responses(409, 429),
)
async def register(body: RegisterRequest, session: SessionDep, settings: SettingsDep) -> object:
    return await AuthService(session, settings).register(body.email, body.password)


@router.post(
    "/login",
    response_model=TokenResponse,
    dependencies=PER_CLIENT_IP,
    responses=problem_responses(429),
)
async def login(body: LoginRequest, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    return _tokens(await AuthService(session, settings).login(body.email, body.password))


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="OAuth2 password flow (for /docs)",
    dependencies=PER_CLIENT_IP,
    responses=problem_responses(429),
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenResponse:
    return _tokens(await AuthService(session, settings).login(form.username, form.password))


@router.post(
    "/refresh",
    response_model=TokenResponse,
    dependencies=PER_CLIENT_IP,
    responses=problem_responses(429),
)
async def refresh(
    body: RefreshRequest, session: SessionDep, settings: SettingsDep
) -> TokenResponse:
    return _tokens(await AuthService(session, settings).refresh(body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> Response:
    await AuthService(session, settings).logout(body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
