from __future__ import annotations

from fastapi import APIRouter, Depends

from app.api.deps import CurrentAccount, SessionDep, require_scope
from app.api.schemas.problems import problem_responses
from app.api.schemas.usage import UsageResponse
from app.domain.api_key_scopes import Scope
from app.services.usage import usage_report

router = APIRouter(
    prefix="/api/usage",
    tags=["usage"],
    responses=problem_responses(401, 403),
    dependencies=[Depends(require_scope(Scope.USAGE_READ))],
)


@router.get("", response_model=UsageResponse, summary="This month's usage and the plan's limits")
async def get_usage(account: CurrentAccount, session: SessionDep) -> UsageResponse:
    return UsageResponse.of(await usage_report(session, account))
