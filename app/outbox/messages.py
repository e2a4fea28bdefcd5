"""Writing to the outbox: the message commits with the change that implies it, or not at all."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import OutboxMessage
from app.observability.tracing import TRACE_CONTEXT_MEMBER, trace_carrier


class Destination(StrEnum):
    """Where the relay sends a message; `app.outbox.publishers` maps each to a publisher."""

    JOBS = "jobs"
    WEBHOOKS = "webhooks"
    EMAIL = "email"


# SQS carries the trace context as message attributes; email has nowhere to put it.
TRACED_DESTINATIONS = frozenset({Destination.JOBS, Destination.WEBHOOKS})

# Sent emails lose their bodies: they may carry single-use links, and the outbox keeps sent
# rows for days (`app.retention`).
REDACTED = "(removed after sending)"
REDACTED_WHEN_SENT: dict[str, tuple[str, ...]] = {Destination.EMAIL: ("text", "html")}


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


def kept_after_sending(destination: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What a sent message's row keeps of its payload: the same object unless something goes."""
    redacted = REDACTED_WHEN_SENT.get(destination, ())
    if not redacted:
        return payload
    return {**payload, **dict.fromkeys(redacted, REDACTED)}
