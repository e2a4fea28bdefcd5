"""What each plan includes: public, so a visitor can compare before signing up."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.schemas.plans import PlanList

router = APIRouter(prefix="/api/plans", tags=["plans"])

# Built once: the plan table is code, not data, and answering it costs less than limiting it.
EVERY_PLAN = PlanList.every()


@router.get("", response_model=PlanList, summary="Every plan and its limits, cheapest first")
async def list_plans() -> PlanList:
    return EVERY_PLAN
