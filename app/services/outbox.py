"""Writing to the outbox: the message commits with the change that implies it, or not at all."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import OutboxMessage


class Destination(StrEnum):
    """Where the relay sends a message; `app.publishers` maps each to a publisher."""

    JOBS = "jobs"
    WEBHOOKS = "webhooks"
    EMAIL = "email"


def enqueue(
    session: AsyncSession,
    destination: Destination,
    payload: dict[str, Any],
    *,
    group_id: str | None = None,
    dedup_id: str | None = None,
) -> OutboxMessage:
    """Adds the message to the caller's transaction; the caller commits."""
    message = OutboxMessage(
        destination=destination.value, payload=payload, group_id=group_id, dedup_id=dedup_id
    )
    session.add(message)
    return message
