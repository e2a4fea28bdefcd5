"""Webhook event types and the thin envelope every event is sent in."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class WebhookEventType(StrEnum):
    JOB_QUEUED = "job.queued"
    JOB_STARTED = "job.started"
    JOB_SUCCEEDED = "job.succeeded"
    JOB_FAILED = "job.failed"
    JOB_CANCELED = "job.canceled"
    WEBHOOK_TEST = "webhook.test"


# `webhook.test` goes to the one endpoint a customer tests, never through a subscription.
SUBSCRIBABLE_EVENT_TYPES: frozenset[WebhookEventType] = frozenset(
    t for t in WebhookEventType if t is not WebhookEventType.WEBHOOK_TEST
)


def _json_default(value: object) -> str:
    # Callers hand over ids and timestamps as they have them; anything else is a bug.
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in a webhook payload")


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, milliseconds: what receivers parse most easily."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_envelope(
    event_id: uuid.UUID, event_type: WebhookEventType, created_at: datetime, data: dict[str, Any]
) -> str:
    """The exact text sent and signed: `{id, type, created_at, data}`, compact JSON.

    Serialised once, when the event is recorded, so every retry signs the same bytes.
    """
    envelope = {
        "id": str(event_id),
        "type": event_type.value,
        "created_at": format_timestamp(created_at),
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, default=_json_default)
