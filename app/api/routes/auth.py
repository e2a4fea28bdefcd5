from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, status

from app.api.deps import CurrentAccount, SessionDep, SettingsDep, require_session
from app.api.login_throttle import LoginThrottle
from app.api.rate_limits import limit_by_client_ip
from app.api.schemas.auth import (
    AcceptedResponse,
    AccountResponse,
    ForgotPasswordRequest,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    TokenForm,
    TokenResponse,
    VerifyEmailRequest,
)
from app.api.schemas.problems import problem_responses
from app.domain.errors import InvalidCredentials
from app.services.auth import password_reset
from app.services.auth.sessions import AuthService
from app.services.email import verification

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=problem_responses(401, 422))

# Per client IP: these take passwords or refresh tokens, so a guesser would hammer them.
# `/login` and `/token` take the same passwords: one budget. All fail closed (503).
SIGN_IN_BUDGET = [Depends(limit_by_client_ip("sign-in"))]
REGISTER_BUDGET = [Depends(limit_by_client_ip("register"))]
REFRESH_BUDGET = [Depends(limit_by_client_ip("refresh"))]


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountResponse,
    dependencies=REGISTER_BUDGET,
    responses=problem_responses(409, 429, 503),
)
async def register(
    body: RegisterRequest, session: SessionDep, settings: SettingsDep
) -> AccountResponse:
    return AccountResponse.of(
        await AuthService(session, settings).register(body.email, body.password)
    )


@router.post(
    "/login",
    response_model=TokenResponse,
    dependencies=SIGN_IN_BUDGET,
    responses=problem_responses(429, 503),
)
async def login(
    body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenResponse:
    return await _sign_in(request, session, settings, body.email, body.password)


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="OAuth2 password flow (for /docs)",
    dependencies=SIGN_IN_BUDGET,
    responses=problem_responses(429, 503),
)
async def token(
    form: Annotated[TokenForm, Form()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenResponse:
    return await _sign_in(request, session, settings, form.username, form.password)


async def _sign_in(
    request: Request, session: SessionDep, settings: SettingsDep, email: str, password: str
) -> TokenResponse:
    """Checks the password unless the account is waiting out failed guesses (429)."""
    throttle = LoginThrottle(request, email)
    await throttle.ensure_allowed()
    try:
        pair = await AuthService(session, settings).login(email, password)
    except InvalidCredentials:
        await throttle.failed()
        raise
    await throttle.succeeded()
    return TokenResponse.of(pair)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    dependencies=REFRESH_BUDGET,
    responses=problem_responses(429, 503),
)
async def refresh(
    body: RefreshRequest, session: SessionDep, settings: SettingsDep
) -> TokenResponse:
    return TokenResponse.of(await AuthService(session, settings).refresh(body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> Response:
    await AuthService(session, settings).logout(body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require_session)],
    responses=problem_responses(403),
    summary="Log out everywhere: every refresh and access token of the account stops working",
)
async def logout_everywhere(
    account: CurrentAccount, session: SessionDep, settings: SettingsDep
) -> Response:
    await AuthService(session, settings).log_out_everywhere(account)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/verify-email",
    response_model=AccountResponse,
    responses=problem_responses(400),
    summary="Confirm the email address with the token from the emailed link",
)
async def verify_email(
    body: VerifyEmailRequest, session: SessionDep, settings: SettingsDep
) -> AccountResponse:
    return AccountResponse.of(await verification.verify_email(session, settings, body.token))


@router.post(
    "/resend-verification",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AcceptedResponse,
    responses=problem_responses(403, 409, 429),
    dependencies=[Depends(require_session)],
    summary="Send a new verification link (a minute apart, a few an hour)",
)
async def resend_verification(
    account: CurrentAccount, session: SessionDep, settings: SettingsDep
) -> AcceptedResponse:
    await verification.resend_verification(session, settings, account)
    return AcceptedResponse(detail=f"A new verification link is on its way to {account.email}.")


@router.post(
    "/forgot-password",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AcceptedResponse,
    summary="Email a password-reset link (answers alike whether or not the account exists)",
)
async def forgot_password(
    body: ForgotPasswordRequest, session: SessionDep, settings: SettingsDep
) -> AcceptedResponse:
    await password_reset.request_password_reset(session, settings, body.email)
    return AcceptedResponse(
        detail="If an account uses this address, a link to reset its password is on its way."
    )


@router.post(
    "/reset-password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400),
    summary="Set a new password with the emailed token; every session of the account ends",
)
async def reset_password(
    body: ResetPasswordRequest, session: SessionDep, settings: SettingsDep
) -> Response:
    await password_reset.reset_password(session, settings, body.token, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
