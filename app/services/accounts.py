"""Account lookups and plan changes, shared by auth, billing and the operator CLI."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Account
from app.domain.errors import NotFound
from app.domain.plans import PlanName


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def find_by_email(session: AsyncSession, email: str) -> Account | None:
    result = await session.execute(select(Account).where(Account.email == normalise_email(email)))
    return result.scalar_one_or_none()


async def get_account(session: AsyncSession, account_id: uuid.UUID) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound("No such account.")
    return account


def change_plan(account: Account, plan: PlanName) -> None:
    """Moves the account to `plan` inside the caller's transaction; the caller commits."""
    account.plan = plan.value


async def set_plan(session: AsyncSession, account: Account, plan: PlanName) -> Account:
    change_plan(account, plan)
    await session.commit()
    return account
