"""Usage counting: jobs and source seconds per calendar month (UTC), counted at confirm.

Quotas and `GET /api/usage` read the same counters, so they always agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Account, Job, UsageCounter
from app.domain.clock import utcnow
from app.domain.job_states import ACTIVE_STATES, JobStatus
from app.domain.periods import Period, month_of
from app.domain.plans import PLANS, Plan, get_plan


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    jobs: int
    source_seconds: float


@dataclass(frozen=True, slots=True)
class UsageReport:
    plan: Plan
    period: Period
    usage: PeriodUsage
    active_jobs: int


async def period_usage(session: AsyncSession, account_id: uuid.UUID, period: str) -> PeriodUsage:
    row = await session.get(UsageCounter, (account_id, period), populate_existing=True)
    if row is None:
        return PeriodUsage(jobs=0, source_seconds=0.0)
    return PeriodUsage(jobs=row.jobs, source_seconds=row.source_seconds)


@dataclass(frozen=True, slots=True)
class PlanAndUsage:
    plan: Plan
    usage: PeriodUsage
    email: str
    email_verified: bool
    pending_uploads: int  # jobs created and not confirmed yet


# Built once: this read runs on every POST /api/jobs, where building and keying a select per
# call showed in the profile.
# Counted no further than the largest plan's cap: past it every plan refuses, so the count
# reads at most that many index entries however many jobs wait.
_PENDING_COUNT_BOUND = max(plan.pending_uploads for plan in PLANS.values())
_PENDING_UPLOADS = (
    select(func.count())
    .select_from(
        select(Job.id)
        .where(
            Job.account_id == bindparam("account_id"),
            Job.status == JobStatus.PENDING_UPLOAD.value,
        )
        .limit(_PENDING_COUNT_BOUND)
        .subquery()
    )
    .scalar_subquery()
)
_PLAN_AND_USAGE = (
    select(
        Account.plan,
        Account.email,
        Account.email_verified_at,
        UsageCounter.jobs,
        UsageCounter.source_seconds,
        _PENDING_UPLOADS.label("pending_uploads"),
    )
    .outerjoin(
        UsageCounter,
        and_(
            UsageCounter.account_id == Account.id,
            UsageCounter.period == bindparam("period"),
        ),
    )
    .where(Account.id == bindparam("account_id"))
)


async def plan_and_usage(
    session: AsyncSession, account_id: uuid.UUID, period: str
) -> PlanAndUsage | None:
    """The account's plan, its usage in `period`, whether its address is verified and how many
    of its jobs wait for an upload, in one query; None if no such account."""
    # On the session's connection: a Core read, with no entities for the ORM to load.
    connection = await session.connection()
    row = (
        await connection.execute(_PLAN_AND_USAGE, {"account_id": account_id, "period": period})
    ).one_or_none()
    if row is None:
        return None
    return PlanAndUsage(
        plan=get_plan(row.plan),
        usage=PeriodUsage(jobs=row.jobs or 0, source_seconds=row.source_seconds or 0.0),
        email=row.email,
        email_verified=row.email_verified_at is not None,
        pending_uploads=int(row.pending_uploads or 0),
    )


async def active_jobs(session: AsyncSession, account_id: uuid.UUID) -> int:
    """Confirmed, unfinished jobs: a handful at most, read through (account_id, status)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.account_id == account_id, Job.status.in_([s.value for s in ACTIVE_STATES]))
    )
    return int(count or 0)


async def add_usage(
    session: AsyncSession,
    account_id: uuid.UUID,
    period: str,
    *,
    jobs: int = 0,
    source_seconds: float = 0.0,
) -> None:
    """An atomic upsert-and-add: concurrent writers never lose each other's counts."""
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(UsageCounter).values(
        account_id=account_id, period=period, jobs=jobs, source_seconds=source_seconds
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[UsageCounter.account_id, UsageCounter.period],
            set_={
                "jobs": UsageCounter.jobs + statement.excluded.jobs,
                "source_seconds": UsageCounter.source_seconds + statement.excluded.source_seconds,
            },
        )
    )


async def usage_report(session: AsyncSession, account: Account) -> UsageReport:
    period = month_of(utcnow())
    return UsageReport(
        plan=get_plan(account.plan),
        period=period,
        usage=await period_usage(session, account.id, period.key),
        active_jobs=await active_jobs(session, account.id),
    )
