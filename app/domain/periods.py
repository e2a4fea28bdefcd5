"""Usage periods: calendar months in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Period:
    key: str  # "2026-11": the usage counter's key
    start: datetime
    resets_at: datetime


def month_of(moment: datetime) -> Period:
    moment = moment.astimezone(UTC)
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    if moment.month == 12:
        resets_at = datetime(moment.year + 1, 1, 1, tzinfo=UTC)
    else:
        resets_at = datetime(moment.year, moment.month + 1, 1, tzinfo=UTC)
    return Period(key=f"{moment.year:04d}-{moment.month:02d}", start=start, resets_at=resets_at)
