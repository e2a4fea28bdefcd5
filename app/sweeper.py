"""The job sweeper: expires stale uploads, sends jobs stuck in queued to the dispatcher again
(and fails them after the last attempt), fails jobs whose container was lost, and runs the
retention rules (idempotency keys, webhook events, emailed links, refresh tokens, Stripe event
ids: `app.retention.rules`), in the background.

Started by the API's lifespan (off with REFRAMER_JOB_SWEEPER_ENABLED=false). Safe on several
replicas: each job changes under its row lock, and deleting a row twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.domain.clock import utcnow
from app.retention import rules as retention
from app.services.jobs.ages import job_state_ages
from app.services.jobs.multipart import abort_abandoned_uploads
from app.services.jobs.sweeping import (
    expire_stale_uploads,
    fail_lost_jobs,
    recover_queued_jobs,
)
from app.services.webhooks.abandoned import fail_abandoned_deliveries

logger = logging.getLogger("app.sweeper")

JOB_AGES_MESSAGE = "job ages"


@dataclass(frozen=True, slots=True)
class SweepResult:
    expired_jobs: int
    aborted_uploads: int
    redispatched_jobs: int
    dispatch_failed_jobs: int
    lost_jobs: int
    abandoned_webhook_deliveries: int
    deleted_idempotency_keys: int
    deleted_webhook_events: int
    deleted_email_tokens: int
    deleted_refresh_tokens: int
    deleted_stripe_events: int


class JobSweeper:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        s3: Any = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.s3 = s3  # without it, open multipart uploads are left to the bucket's lifecycle

    async def sweep_once(self, now: datetime | None = None) -> SweepResult:
        now = now or utcnow()
        expired_jobs = await expire_stale_uploads(self.sessionmaker, self.settings, now)
        aborted_uploads = (
            await abort_abandoned_uploads(self.sessionmaker, self.settings, self.s3)
            if self.s3 is not None
            else 0
        )
        queued = await recover_queued_jobs(self.sessionmaker, self.settings, now)
        lost_jobs = await fail_lost_jobs(self.sessionmaker, self.settings, now)
        abandoned = await fail_abandoned_deliveries(self.sessionmaker, now)
        pruned = await retention.prune(self.sessionmaker, self.settings, now)
        result = SweepResult(
            expired_jobs=expired_jobs,
            aborted_uploads=aborted_uploads,
            redispatched_jobs=queued.redispatched,
            dispatch_failed_jobs=queued.failed,
            lost_jobs=lost_jobs,
            abandoned_webhook_deliveries=abandoned,
            deleted_idempotency_keys=pruned.idempotency_keys,
            deleted_webhook_events=pruned.webhook_events,
            deleted_email_tokens=pruned.email_tokens,
            deleted_refresh_tokens=pruned.refresh_tokens,
            deleted_stripe_events=pruned.stripe_events,
        )
        counts = asdict(result)
        if any(counts.values()):
            logger.info("swept", extra=counts)
        await self._log_job_ages(now)
        return result

    async def _log_job_ages(self, now: datetime) -> None:
        """Every round, so a log metric filter can alarm on a job stuck in a state (the
        CloudWatch alarm on the oldest queued job, in `infra/template.yaml`)."""
        async with self.sessionmaker() as session:
            ages = await job_state_ages(session, now)
        logger.info(
            JOB_AGES_MESSAGE,
            extra={
                f"oldest_{a.status.value}_age_seconds": round(a.oldest_age_seconds) for a in ages
            },
        )

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.sweep_once()
            except Exception:  # the database is away: try again next round, never die
                logger.exception("job sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.job_sweep_interval_seconds)
