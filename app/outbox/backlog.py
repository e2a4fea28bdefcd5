"""What is waiting in the outbox, read for `/metrics` on each scrape."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import OutboxMessage
from app.domain.clock import utcnow


@dataclass(frozen=True)
class BacklogEntry:
    destination: str
    pending: int
    oldest_created_at: datetime


@dataclass(frozen=True)
class OutboxBacklog:
    """What is waiting in the outbox, per destination, at `measured_at`."""

    entries: Sequence[BacklogEntry]
    measured_at: datetime


async def backlog(session: AsyncSession) -> OutboxBacklog:
    """Unpublished rows per destination and the oldest one's age (index-backed: `sent_at`)."""
    rows = await session.execute(
        select(
            OutboxMessage.destination,
            func.count(),
            func.min(OutboxMessage.created_at),
        )
        .where(OutboxMessage.sent_at.is_(None))
        .group_by(OutboxMessage.destination)
    )
    return OutboxBacklog(
        entries=[
            BacklogEntry(destination=destination, pending=count, oldest_created_at=oldest)
            for destination, count, oldest in rows.all()
        ],
        measured_at=utcnow(),
    )
