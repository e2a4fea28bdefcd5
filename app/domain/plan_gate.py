"""The one place that turns a plan's limits into refusals with upgrade hints.

Features and per-job limits refuse with `tier_limit` (`feature`, `required_plan`,
`upgrade_url`); counted quotas refuse with `quota_exceeded` (`quota`, `limit`, `usage`,
`resets_at`). Limits no plan can lift are plain 422s with the figures. Pure: the caller says
where to upgrade (`settings.upgrade_url`).
"""

from __future__ import annotations

from typing import Any

from app.domain.errors import QuotaExceeded, SourceTooLong, TierLimit, UploadTooLarge
from app.domain.periods import Period
from app.domain.plans import (
    PLANS,
    RESOLUTIONS,
    AspectRatio,
    Feature,
    Plan,
    cheapest_plan_for_aspect,
    cheapest_plan_for_duration,
    cheapest_plan_for_resolution,
    cheapest_plan_for_upload,
    cheapest_plan_with,
    get_plan,
)

FOUR_K_SHORT_SIDE = 2160


def tier_limit(
    upgrade_url: str, feature: str, required: Plan, detail: str, **figures: Any
) -> TierLimit:
    return TierLimit(
        detail,
        feature=feature,
        required_plan=required.name.value,
        upgrade_url=upgrade_url,
        **figures,
    )


def ensure_feature(upgrade_url: str, plan_name: str, feature: Feature) -> None:
    if get_plan(plan_name).allows(feature):
        return
    required = cheapest_plan_with(feature)
    raise tier_limit(
        upgrade_url,
        feature.value,
        required,
        f"The {plan_name} plan does not include {feature.value}; "
        f"upgrade to {required.name.value} to use it.",
    )


def ensure_upload_size(upgrade_url: str, plan: Plan, size_bytes: int) -> None:
    # Sources too large for one S3 PUT upload in parts, so only the plans bound the size.
    if size_bytes <= plan.max_upload_bytes:
        return
    required = cheapest_plan_for_upload(size_bytes)
    if required is None:
        raise UploadTooLarge(
            "No plan accepts a file this large.",
            size_bytes=size_bytes,
            limit_bytes=plan.max_upload_bytes,
        )
    raise tier_limit(
        upgrade_url,
        "upload_size",
        required,
        f"The {plan.name.value} plan accepts uploads up to {plan.max_upload_bytes} bytes.",
        size_bytes=size_bytes,
        limit_bytes=plan.max_upload_bytes,
    )


def ensure_source_duration(upgrade_url: str, plan: Plan, seconds: float | None) -> None:
    if seconds is None or seconds <= plan.max_source_seconds:
        return
    required = cheapest_plan_for_duration(seconds)
    if required is None:
        raise SourceTooLong(
            "No plan accepts a source this long.",
            duration_seconds=seconds,
            limit_seconds=plan.max_source_seconds,
        )
    raise tier_limit(
        upgrade_url,
        "source_duration",
        required,
        f"The {plan.name.value} plan accepts sources up to {plan.max_source_seconds} seconds.",
        duration_seconds=seconds,
        limit_seconds=plan.max_source_seconds,
    )


def source_limit_details(upgrade_url: str, plan: Plan, measured: float | None) -> dict[str, Any]:
    """What a job refused for its measured length reports, in the tier_limit shape: the plan
    that takes it (None when no plan does) and where to upgrade."""
    required = cheapest_plan_for_duration(measured) if measured is not None else None
    if required is None and measured is None:
        # Not measured: any longer plan is the hint.
        required = min(
            (p for p in PLANS.values() if p.max_source_seconds > plan.max_source_seconds),
            key=lambda p: p.rank,
            default=None,
        )
    return {
        "duration_seconds": measured,
        "tier_limit": {
            "feature": "source_duration",
            "required_plan": required.name.value if required is not None else None,
            "upgrade_url": upgrade_url,
            "limit_seconds": plan.max_source_seconds,
        },
    }


def ensure_output_options(
    upgrade_url: str, plan: Plan, aspect_ratio: AspectRatio, resolution: str
) -> None:
    if aspect_ratio not in plan.aspect_ratios:
        raise tier_limit(
            upgrade_url,
            "aspect_ratio",
            cheapest_plan_for_aspect(aspect_ratio),
            f"The {plan.name.value} plan does not include the {aspect_ratio.value} aspect ratio.",
            aspect_ratio=aspect_ratio.value,
            allowed=sorted(a.value for a in plan.aspect_ratios),
        )
    if RESOLUTIONS[resolution] >= FOUR_K_SHORT_SIDE and not plan.allows(Feature.OUTPUT_4K):
        raise tier_limit(
            upgrade_url,
            Feature.OUTPUT_4K.value,
            cheapest_plan_with(Feature.OUTPUT_4K),
            f"The {plan.name.value} plan does not include 4K output.",
            resolution=resolution,
            max_resolution=plan.max_resolution,
        )
    if not plan.allows_resolution(resolution):
        raise tier_limit(
            upgrade_url,
            "output_resolution",
            cheapest_plan_for_resolution(resolution),
            f"The {plan.name.value} plan renders up to {plan.max_resolution}.",
            resolution=resolution,
            max_resolution=plan.max_resolution,
        )


def ensure_monthly_jobs(upgrade_url: str, plan: Plan, used: int, period: Period) -> None:
    if used < plan.jobs_per_month:
        return
    raise QuotaExceeded(
        f"The {plan.name.value} plan includes {plan.jobs_per_month} jobs a month; "
        f"the count resets at {period.resets_at.isoformat()}.",
        quota="jobs_per_month",
        limit=plan.jobs_per_month,
        usage=used,
        resets_at=period.resets_at.isoformat(),
        upgrade_url=upgrade_url,
    )


def ensure_pending_uploads(upgrade_url: str, plan: Plan, pending: int) -> None:
    """Each job waiting for its upload holds a live upload URL: a plan holds a few at once."""
    if pending < plan.pending_uploads:
        return
    raise QuotaExceeded(
        f"The {plan.name.value} plan holds {plan.pending_uploads} jobs waiting for an upload; "
        "upload and confirm one, or cancel one, first.",
        quota="pending_uploads",
        limit=plan.pending_uploads,
        usage=pending,
        # Frees up when a waiting job is confirmed, canceled or expires.
        resets_at=None,
        upgrade_url=upgrade_url,
    )


def ensure_concurrency(upgrade_url: str, plan: Plan, active: int) -> None:
    if active < plan.concurrent_jobs:
        return
    raise QuotaExceeded(
        f"The {plan.name.value} plan runs {plan.concurrent_jobs} job(s) at a time; "
        "confirm again when one finishes.",
        quota="concurrent_jobs",
        limit=plan.concurrent_jobs,
        usage=active,
        # Frees up when a running job finishes, not at a fixed time.
        resets_at=None,
        upgrade_url=upgrade_url,
    )
