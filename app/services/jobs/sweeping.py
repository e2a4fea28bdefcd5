"""Housekeeping the sweeper runs: expire uploads never confirmed, drop old idempotency keys."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.models import Job
from app.domain.errors import InvalidTransition
from app.domain.job_states import Actor, JobStatus
from app.services import idempotency
from app.services.jobs.transitions import transition_job

EXPIRE_BATCH = 100


async def expire_stale_uploads(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """Jobs still waiting for their upload past the URL's expiry and the grace -> expired
    (the same deadline confirm enforces).

    One transaction per job: a confirm racing the sweeper waits on the row lock, and
    whichever comes second sees the other's outcome.
    """
    deadline = now - timedelta(seconds=settings.upload_confirm_grace_seconds)
    expired = 0
    while True:
        async with sessionmaker() as session:
            stale = list(
                (
                    await session.scalars(
                        select(Job.id)
                        .where(
                            Job.status == JobStatus.PENDING_UPLOAD.value,
                            Job.upload_expires_at < deadline,
                        )
                        .order_by(Job.upload_expires_at)
                        .limit(EXPIRE_BATCH)
                    )
                ).all()
            )
        for job_id in stale:
            async with sessionmaker() as session:
                try:
                    transition = await transition_job(
                        session,
                        settings,
                        job_id,
                        JobStatus.EXPIRED,
                        actor=Actor.SWEEPER,
                        reason="the upload was never confirmed",
                    )
                except InvalidTransition:
                    continue  # confirmed or canceled meanwhile
                await session.commit()
                expired += int(transition.changed)
        if len(stale) < EXPIRE_BATCH:
            return expired


async def delete_expired_idempotency_keys(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> int:
    async with sessionmaker() as session:
        deleted = await idempotency.delete_expired(session, now)
        await session.commit()
    return deleted
