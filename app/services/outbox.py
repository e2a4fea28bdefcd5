"""Writing to the outbox: the message commits with the change that implies it, or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import OutboxMessage
from app.domain.clock import utcnow
from app.observability.tracing import TRACE_CONTEXT_MEMBER, trace_carrier


class Destination(StrEnum):
    """Where the relay sends a message; `app.publishers` maps each to a publisher."""

    JOBS = "jobs"
    WEBHOOKS = "webhooks"
    EMAIL = "email"


# SQS carries the trace context as message attributes; email has nowhere to put it.
TRACED_DESTINATIONS = frozenset({Destination.JOBS, Destination.WEBHOOKS})


def enqueue(
    session: AsyncSession,
    destination: Destination,
    payload: dict[str, Any],
    *,
    group_id: str | None = None,
    dedup_id: str | None = None,
) -> OutboxMessage:
    """Adds the message to the caller's transaction; the caller commits.

    While tracing is on, an SQS-bound message remembers the trace it was enqueued in.
    """
    if destination in TRACED_DESTINATIONS:
        carrier = trace_carrier()
        if carrier:
            payload = {**payload, TRACE_CONTEXT_MEMBER: carrier}
    message = OutboxMessage(
        destination=destination.value, payload=payload, group_id=group_id, dedup_id=dedup_id
    )
    session.add(message)
    return message


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
