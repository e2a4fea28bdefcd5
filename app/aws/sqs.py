"""Publishing outbox rows to SQS, ten to a batch call."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from app.db.models import OutboxMessage

SQS_BATCH_LIMIT = 10


class SqsPublisher:
    """One queue; FIFO queues get the row's group and deduplication ids."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.fifo = queue_url.endswith(".fifo")

    def _entry(self, index: int, message: OutboxMessage) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Id": str(index),
            "MessageBody": json.dumps(message.payload, separators=(",", ":")),
        }
        if self.fifo:
            entry["MessageGroupId"] = message.group_id or "default"
            entry["MessageDeduplicationId"] = message.dedup_id or str(message.id)
        return entry

    async def publish(self, messages: Sequence[OutboxMessage]) -> dict[uuid.UUID, str | None]:
        """Returns each message's error, or None where SQS accepted it."""
        results: dict[uuid.UUID, str | None] = {}
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            chunk = messages[start : start + SQS_BATCH_LIMIT]
            try:
                response = await self.sqs.send_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[self._entry(i, m) for i, m in enumerate(chunk)],
                )
            except Exception as exc:  # unreachable, throttled, credentials: retry later
                results.update({m.id: f"{type(exc).__name__}: {exc}"[:500] for m in chunk})
                continue
            for ok in response.get("Successful", []):
                results[chunk[int(ok["Id"])].id] = None
            for failed in response.get("Failed", []):
                reason = f"{failed.get('Code')}: {failed.get('Message')}"
                results[chunk[int(failed["Id"])].id] = reason[:500]
        return results
