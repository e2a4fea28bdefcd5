"""How long the oldest job has sat in each state that is not final: read at each scrape, and
logged by the sweeper (the CloudWatch alarm on stuck queued jobs reads that line)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Job
from app.domain.clock import utcnow
from app.domain.job_states import FINAL_STATES, JobStatus

NON_FINAL_STATES = tuple(status for status in JobStatus if status not in FINAL_STATES)


@dataclass(frozen=True, slots=True)
class StateAge:
    status: JobStatus
    jobs: int
    # 0 when no job is in the state: the series stays, and reads as "nothing waits".
    oldest_age_seconds: float


async def job_state_ages(session: AsyncSession, now: datetime | None = None) -> list[StateAge]:
    """One grouped query over the (status, status_changed_at) index."""
    now = now or utcnow()
    rows = await session.execute(
        select(Job.status, func.count(), func.min(Job.status_changed_at))
        .where(Job.status.in_([status.value for status in NON_FINAL_STATES]))
        .group_by(Job.status)
    )
    found = {status: (count, oldest) for status, count, oldest in rows.all()}
    ages = []
    for status in NON_FINAL_STATES:
        count, oldest = found.get(status.value, (0, None))
        age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        ages.append(StateAge(status=status, jobs=int(count), oldest_age_seconds=age))
    return ages
