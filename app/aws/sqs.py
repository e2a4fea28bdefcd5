"""Publishing outbox rows to SQS, ten to a batch call."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from app.db.models import OutboxMessage
from app.metrics import SQS_MESSAGES_SENT, SQS_SEND_ERRORS
from app.observability.tracing import split_trace_context, trace_carrier

SQS_BATCH_LIMIT = 10


class SqsPublisher:
    """One queue; FIFO queues get the row's group and deduplication ids.

    Each message carries the W3C trace context (`traceparent`, `tracestate`) as String
    message attributes while tracing is on: the one the row was enqueued in, else the
    relay's own. Consumers copy `traceparent` into the headers of their calls back.
    """

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_name = queue_url.rstrip("/").rsplit("/", 1)[-1]
        self.fifo = queue_url.endswith(".fifo")

    def _entry(self, index: int, message: OutboxMessage) -> dict[str, Any]:
        body, carrier = split_trace_context(message.payload)
        entry: dict[str, Any] = {
            "Id": str(index),
            "MessageBody": json.dumps(body, separators=(",", ":")),
        }
        carrier = carrier or trace_carrier()
        if carrier:
            entry["MessageAttributes"] = {
                name: {"DataType": "String", "StringValue": value}
                for name, value in carrier.items()
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
                SQS_SEND_ERRORS.labels(self.queue_name, type(exc).__name__).inc(len(chunk))
                continue
            accepted = response.get("Successful", [])
            for ok in accepted:
                results[chunk[int(ok["Id"])].id] = None
            if accepted:
                SQS_MESSAGES_SENT.labels(self.queue_name).inc(len(accepted))
            for failed in response.get("Failed", []):
                reason = f"{failed.get('Code')}: {failed.get('Message')}"
                results[chunk[int(failed["Id"])].id] = reason[:500]
                SQS_SEND_ERRORS.labels(self.queue_name, str(failed.get("Code"))).inc()
        return results
