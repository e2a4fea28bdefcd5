from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import (
    CurrentAccount,
    SessionDep,
    SettingsDep,
    allow_any_api_key,
    require_session,
)
from app.api.schemas.auth import AccountResponse, ChangePasswordRequest
from app.api.schemas.me import ChangeEmailRequest, UpdateMeRequest
from app.api.schemas.problems import problem_responses
from app.services.auth.sessions import AuthService
from app.services.email.address_change import change_unverified_email
from app.services.email.notifications import set_job_notifications

router = APIRouter(prefix="/api/me", tags=["me"], responses=problem_responses(401, 422))


@router.get("", response_model=AccountResponse, dependencies=[Depends(allow_any_api_key)])
async def get_me(account: CurrentAccount) -> AccountResponse:
    return AccountResponse.of(account)


@router.patch(
    "",
    response_model=AccountResponse,
    dependencies=[Depends(require_session)],
    responses=problem_responses(403),
)
async def update_me(
    body: UpdateMeRequest, account: CurrentAccount, session: SessionDep
) -> AccountResponse:
    if body.notify_on_job_done is not None:
        account = await set_job_notifications(session, account, body.notify_on_job_done)
    return AccountResponse.of(account)


@router.put(
    "/email",
    response_model=AccountResponse,
    dependencies=[Depends(require_session)],
    responses=problem_responses(403, 409, 429),
    summary="Correct the address before it is confirmed; the new one gets a fresh link",
)
async def change_email(
    body: ChangeEmailRequest, account: CurrentAccount, session: SessionDep, settings: SettingsDep
) -> AccountResponse:
    return AccountResponse.of(await change_unverified_email(session, settings, account, body.email))


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require_session)],
    responses=problem_responses(403),
)
async def change_password(
    body: ChangePasswordRequest, account: CurrentAccount, session: SessionDep, settings: SettingsDep
) -> Response:
    await AuthService(session, settings).change_password(
        account, body.current_password, body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
