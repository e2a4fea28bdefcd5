from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.usage import PlanLimits
from app.domain.plans import PLANS, Plan


class PlanDescription(BaseModel):
    name: str
    rank: int = Field(description="plans are ordered: a higher rank includes more")
    limits: PlanLimits
    requests_per_minute: int

    @classmethod
    def of(cls, plan: Plan) -> PlanDescription:
        return cls(
            name=plan.name.value,
            rank=plan.rank,
            limits=PlanLimits.of(plan),
            requests_per_minute=plan.requests_per_minute,
        )


class PlanList(BaseModel):
    data: list[PlanDescription] = Field(description="every plan, cheapest first")

    @classmethod
    def every(cls) -> PlanList:
        ordered = sorted(PLANS.values(), key=lambda plan: plan.rank)
        return cls(data=[PlanDescription.of(plan) for plan in ordered])
