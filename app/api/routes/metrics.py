"""`GET /metrics`: Prometheus text exposition, for a scraper, not for customers.

Never rate limited and never behind a user's token. With `REFRAMER_METRICS_TOKEN` set,
the scraper must send `Authorization: Bearer <that token>`; production serves the page
only then (without a token it answers 404, as if there were nothing here).
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.deps import SessionmakerDep, require_scraper
from app.observability import prometheus
from app.observability.tracing import suppressed
from app.outbox.backlog import OutboxBacklog, backlog
from app.services.jobs.ages import StateAge, job_state_ages

logger = logging.getLogger("app.metrics")

router = APIRouter(tags=["operations"])

BACKLOG_TIMEOUT_SECONDS = 2.0


async def _read_from_database(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[OutboxBacklog | None, list[StateAge] | None]:
    """None for what the database does not answer in time: the page still serves the rest."""
    try:
        # A scrape every few seconds is not worth a trace each.
        with suppressed():
            async with (
                asyncio.timeout(BACKLOG_TIMEOUT_SECONDS),
                sessionmaker() as session,
            ):
                return await backlog(session), await job_state_ages(session)
    except Exception:
        logger.warning("outbox backlog and job ages unreadable for /metrics", exc_info=True)
        return None, None


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(require_scraper)])
async def metrics(sessionmaker: SessionmakerDep) -> Response:
    body = prometheus.render(*await _read_from_database(sessionmaker))
    return Response(body, media_type=prometheus.CONTENT_TYPE)
