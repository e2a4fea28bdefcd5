"""The one place that turns a plan's limits into refusals with upgrade hints."""

from __future__ import annotations

from app.config import Settings
from app.db.models import Account
from app.domain.errors import TierLimit
from app.domain.plans import Feature, Plan, cheapest_plan_with, get_plan


def plan_of(account: Account) -> Plan:
    return get_plan(account.plan)


def tier_limit(settings: Settings, feature: str, required: Plan, detail: str) -> TierLimit:
    return TierLimit(
        detail,
        feature=feature,
        required_plan=required.name.value,
        upgrade_url=settings.upgrade_url,
    )


def ensure_feature(settings: Settings, account: Account, feature: Feature) -> None:
    if plan_of(account).allows(feature):
        return
    required = cheapest_plan_with(feature)
    raise tier_limit(
        settings,
        feature.value,
        required,
        f"The {account.plan} plan does not include {feature.value}; "
        f"upgrade to {required.name.value} to use it.",
    )
