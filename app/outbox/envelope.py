"""What a publisher is handed: a plain copy of an outbox row, and what it answers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# Each message's error, or None where its destination accepted it.
PublishResults = dict[uuid.UUID, str | None]


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message on its way out: publishers never see (or change) the database row."""

    id: uuid.UUID
    destination: str
    payload: dict[str, Any]
    group_id: str | None = None
    dedup_id: str | None = None


class Publisher(Protocol):
    async def publish(self, envelopes: Sequence[Envelope]) -> PublishResults: ...
