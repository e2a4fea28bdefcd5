from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.domain.plans import Plan
from app.services.usage import UsageReport


class PlanLimits(BaseModel):
    max_upload_bytes: int
    max_source_seconds: int
    jobs_per_month: int
    concurrent_jobs: int
    max_resolution: str
    aspect_ratios: list[str]
    features: list[str]

    @classmethod
    def of(cls, plan: Plan) -> PlanLimits:
        return cls(
            max_upload_bytes=plan.max_upload_bytes,
            max_source_seconds=plan.max_source_seconds,
            jobs_per_month=plan.jobs_per_month,
            concurrent_jobs=plan.concurrent_jobs,
            max_resolution=plan.max_resolution,
            aspect_ratios=sorted(a.value for a in plan.aspect_ratios),
            features=sorted(f.value for f in plan.features),
        )


class UsageResponse(BaseModel):
    plan: str
    period_start: datetime
    resets_at: datetime = Field(description="the next calendar month, UTC")
    jobs: int = Field(description="jobs confirmed this period (counted at confirm)")
    jobs_remaining: int
    source_minutes: float = Field(
        description=(
            "source minutes of this period's jobs: a job's declared duration_seconds counts at "
            "confirm, and the duration the pipeline measures replaces it when the job succeeds "
            "(a job without a hint counts 0 until then)"
        )
    )
    active_jobs: int = Field(description="queued, submitted or running now")
    limits: PlanLimits

    @classmethod
    def of(cls, report: UsageReport) -> UsageResponse:
        plan = report.plan
        return cls(
            plan=plan.name.value,
            period_start=report.period.start,
            resets_at=report.period.resets_at,
            jobs=report.usage.jobs,
            jobs_remaining=max(0, plan.jobs_per_month - report.usage.jobs),
            source_minutes=round(report.usage.source_seconds / 60, 2),
            active_jobs=report.active_jobs,
            limits=PlanLimits.of(plan),
        )
