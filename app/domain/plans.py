"""The plan tiers and their limits: the one table every tier check reads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts.jobs import AspectRatio as AspectRatio  # re-exported: the contract owns it


class PlanName(StrEnum):
    FREE = "free"
    PRO = "pro"
    BUSINESS = "business"


class Feature(StrEnum):
    API_KEYS = "api_keys"
    WEBHOOKS = "webhooks"
    PRIORITY_QUEUE = "priority_queue"
    OUTPUT_4K = "4k_output"


# Output resolutions by the height of the short side; ordered so a plan's cap is a comparison.
RESOLUTIONS: dict[str, int] = {"480p": 480, "720p": 720, "1080p": 1080, "2160p": 2160}

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True, slots=True)
class Plan:
    name: PlanName
    rank: int
    max_upload_bytes: int
    max_source_seconds: int
    jobs_per_month: int
    concurrent_jobs: int
    # Jobs created but not yet confirmed, each holding a live upload URL.
    pending_uploads: int
    max_resolution: str
    aspect_ratios: frozenset[AspectRatio]
    features: frozenset[Feature]
    requests_per_minute: int

    def allows(self, feature: Feature) -> bool:
        return feature in self.features

    def allows_resolution(self, resolution: str) -> bool:
        return RESOLUTIONS[resolution] <= RESOLUTIONS[self.max_resolution]


PLANS: dict[PlanName, Plan] = {
    PlanName.FREE: Plan(
        name=PlanName.FREE,
        rank=0,
        max_upload_bytes=200 * MIB,
        max_source_seconds=2 * 60,
        jobs_per_month=10,
        concurrent_jobs=1,
        pending_uploads=5,
        max_resolution="720p",
        aspect_ratios=frozenset({AspectRatio.VERTICAL}),
        features=frozenset(),
        requests_per_minute=60,
    ),
    PlanName.PRO: Plan(
        name=PlanName.PRO,
        rank=1,
        max_upload_bytes=2 * GIB,
        max_source_seconds=30 * 60,
        jobs_per_month=500,
        concurrent_jobs=5,
        pending_uploads=25,
        max_resolution="1080p",
        aspect_ratios=frozenset(AspectRatio),
        features=frozenset({Feature.API_KEYS, Feature.WEBHOOKS}),
        requests_per_minute=600,
    ),
    PlanName.BUSINESS: Plan(
        name=PlanName.BUSINESS,
        rank=2,
        max_upload_bytes=10 * GIB,
        max_source_seconds=3 * 60 * 60,
        jobs_per_month=5000,
        concurrent_jobs=25,
        pending_uploads=100,
        max_resolution="2160p",
        aspect_ratios=frozenset(AspectRatio),
        features=frozenset(Feature),
        requests_per_minute=3000,
    ),
}


def get_plan(name: str) -> Plan:
    return PLANS[PlanName(name)]


def cheapest_plan_with(feature: Feature) -> Plan:
    return min((p for p in PLANS.values() if p.allows(feature)), key=lambda p: p.rank)


def cheapest_plan_for_resolution(resolution: str) -> Plan:
    return min((p for p in PLANS.values() if p.allows_resolution(resolution)), key=lambda p: p.rank)


def cheapest_plan_for_aspect(aspect: AspectRatio) -> Plan:
    return min((p for p in PLANS.values() if aspect in p.aspect_ratios), key=lambda p: p.rank)


def cheapest_plan_for_upload(size_bytes: int) -> Plan | None:
    fitting = [p for p in PLANS.values() if size_bytes <= p.max_upload_bytes]
    return min(fitting, key=lambda p: p.rank) if fitting else None


def cheapest_plan_for_duration(seconds: float) -> Plan | None:
    fitting = [p for p in PLANS.values() if seconds <= p.max_source_seconds]
    return min(fitting, key=lambda p: p.rank) if fitting else None
