"""Which Stripe price sells which plan (the price ids come from settings)."""

from __future__ import annotations

from app.config import Settings
from app.domain.plans import PlanName


def price_of(settings: Settings, plan: PlanName) -> str:
    prices = {
        PlanName.PRO: settings.stripe_price_pro,
        PlanName.BUSINESS: settings.stripe_price_business,
    }
    return prices[plan]


def plans_by_price(settings: Settings) -> dict[str, PlanName]:
    return {
        settings.stripe_price_pro: PlanName.PRO,
        settings.stripe_price_business: PlanName.BUSINESS,
    }
