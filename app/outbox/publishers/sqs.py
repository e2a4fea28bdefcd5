"""Publishing outbox messages to SQS, ten to a batch call, a few calls at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from app.metrics import SQS_MESSAGES_SENT, SQS_SEND_ERRORS
from app.observability.tracing import split_trace_context, trace_carrier
from app.outbox.envelope import Envelope, PublishResults

SQS_BATCH_LIMIT = 10
HELD_BEHIND_FAILURE = "held: an earlier message of its group was not sent"


class SqsPublisher:
    """One queue; FIFO queues get the message's group and deduplication ids.

    Each message carries the W3C trace context (`traceparent`, `tracestate`) as String
    message attributes while tracing is on: the one the message was enqueued in, else the
    relay's own. Consumers copy `traceparent` into the headers of their calls back.
    """

    def __init__(self, sqs: Any, queue_url: str, *, concurrent_batches: int = 4) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.concurrent_batches = concurrent_batches
        self.queue_name = queue_url.rstrip("/").rsplit("/", 1)[-1]
        self.fifo = queue_url.endswith(".fifo")

    def _entry(self, index: int, message: Envelope) -> dict[str, Any]:
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

    async def publish(self, messages: Sequence[Envelope]) -> PublishResults:
        """Returns each message's error, or None where SQS accepted it.

        Up to `concurrent_batches` batch calls are in flight at once. On a FIFO queue a
        message group stays in one lane whose batches go one after another, so a group's
        messages reach SQS in the order given; once one of them is not sent, the group's later
        ones are held back (failed, to be retried after it) rather than overtake it.
        """
        results: PublishResults = {}
        lanes = _lanes(messages, self.concurrent_batches, by_group=self.fifo)
        await asyncio.gather(*(self._send_lane(lane, results) for lane in lanes))
        return results

    async def _send_lane(self, lane: list[Envelope], results: PublishResults) -> None:
        stopped_groups: set[str | None] = set()
        pending = lane
        while pending:
            chunk: list[Envelope] = []
            rest: list[Envelope] = []
            for message in pending:
                if self.fifo and message.group_id in stopped_groups:
                    results[message.id] = HELD_BEHIND_FAILURE
                elif len(chunk) < SQS_BATCH_LIMIT:
                    chunk.append(message)
                else:
                    rest.append(message)
            pending = rest
            if chunk:
                not_sent = await self._send_batch(chunk, results)
                stopped_groups.update(m.group_id for m in not_sent)

    async def _send_batch(self, chunk: list[Envelope], results: PublishResults) -> list[Envelope]:
        """One SendMessageBatch call; records each entry's result, returns those not sent."""
        try:
            response = await self.sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[self._entry(i, m) for i, m in enumerate(chunk)],
            )
        except Exception as exc:  # unreachable, throttled, credentials: retry later
            results.update({m.id: f"{type(exc).__name__}: {exc}"[:500] for m in chunk})
            SQS_SEND_ERRORS.labels(self.queue_name, type(exc).__name__).inc(len(chunk))
            return chunk
        accepted = response.get("Successful", [])
        for ok in accepted:
            results[chunk[int(ok["Id"])].id] = None
        if accepted:
            SQS_MESSAGES_SENT.labels(self.queue_name).inc(len(accepted))
        not_sent: list[Envelope] = []
        for failed in response.get("Failed", []):
            message = chunk[int(failed["Id"])]
            results[message.id] = f"{failed.get('Code')}: {failed.get('Message')}"[:500]
            SQS_SEND_ERRORS.labels(self.queue_name, str(failed.get("Code"))).inc()
            not_sent.append(message)
        # An entry SQS answered neither way is not known to be sent: the relay retries it.
        not_sent += [m for m in chunk if m.id not in results]
        return not_sent


def _lanes(messages: Sequence[Envelope], count: int, *, by_group: bool) -> list[list[Envelope]]:
    """Splits the messages into at most `count` lanes, keeping their order within each lane;
    with `by_group`, all of a message group's messages share a lane."""
    lanes: list[list[Envelope]] = [[] for _ in range(count)]
    lane_of_group: dict[str | None, int] = {}
    for index, message in enumerate(messages):
        if by_group:
            # Groups take lanes in turn as they first appear: an even spread for any names.
            lane = lane_of_group.setdefault(message.group_id, len(lane_of_group) % count)
        else:
            lane = (index // SQS_BATCH_LIMIT) % count
        lanes[lane].append(message)
    return [lane for lane in lanes if lane]
