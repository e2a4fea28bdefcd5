"""The local stand-in for Lambda's SQS event source mapping.

Receives from a real (moto) SQS queue, builds the event Lambda would build (`Records` with
`messageId`, `receiptHandle`, `body`, `attributes`, `messageAttributes`, `md5OfBody`,
`eventSource`, `eventSourceARN`, `awsRegion`), calls the handler in a thread (the handlers
are sync), and deletes every record not listed in the handler's `batchItemFailures`: the
contract of ReportBatchItemFailures. Generic: any SQS-triggered handler runs under it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("devstack.sqs_poller")

LambdaHandler = Callable[[dict[str, Any], Any], Any]

SQS_MAX_BATCH = 10
POLL_ERROR_BACKOFF_SECONDS = 2.0


@dataclass
class LocalLambdaContext:
    """The parts of Lambda's context object that handlers read."""

    function_name: str
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class PollResult:
    received: int
    deleted: int
    kept: int


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    # Lambda's casing; binary values arrive base64-encoded, as in a real event.
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [
            base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])
        ],
        "dataType": value["DataType"],
    }


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One received SQS message as a record of a Lambda SQS event."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _failed_ids(response: Any, batch_ids: set[str]) -> set[str] | None:
    """The ids the handler wants kept; None when its answer is malformed, which Lambda
    treats as the whole batch failing."""
    if response is None:
        return set()
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures") or []
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not item or item not in batch_ids:
            return None
        ids.add(item)
    return ids


class SqsPoller:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: LambdaHandler,
        *,
        function_name: str,
        region: str,
        batch_size: int = SQS_MAX_BATCH,
        wait_time_seconds: int = 1,
        timeout_seconds: float = 900.0,
    ) -> None:
        if not 1 <= batch_size <= SQS_MAX_BATCH:
            raise ValueError(f"batch_size must be 1 to {SQS_MAX_BATCH}")
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.function_name = function_name
        self.region = region
        self.batch_size = batch_size
        self.wait_time_seconds = wait_time_seconds
        self.timeout_seconds = timeout_seconds
        self._queue_arn: str | None = None

    async def queue_arn(self) -> str:
        if self._queue_arn is None:
            attributes = await self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
            )
            self._queue_arn = str(attributes["Attributes"]["QueueArn"])
        return self._queue_arn

    async def poll_once(self) -> PollResult:
        """One receive, one invocation, the deletes; an empty receive invokes nothing."""
        received = await self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_time_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages", [])
        if not messages:
            return PollResult(0, 0, 0)
        arn = await self.queue_arn()
        records = [lambda_record(m, arn, self.region) for m in messages]
        batch_ids = {r["messageId"] for r in records}
        context = LocalLambdaContext(self.function_name, self.timeout_seconds)
        try:
            response = await asyncio.to_thread(self.handler, {"Records": records}, context)
        except Exception:
            logger.exception(
                "handler raised; the whole batch returns to the queue",
                extra={"function": self.function_name, "records": len(records)},
            )
            return PollResult(len(records), 0, len(records))
        failed = _failed_ids(response, batch_ids)
        if failed is None:
            logger.error(
                "malformed batchItemFailures; the whole batch returns to the queue",
                extra={"function": self.function_name},
            )
            return PollResult(len(records), 0, len(records))
        done = [r for r in records if r["messageId"] not in failed]
        if done:
            await self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)
                ],
            )
        return PollResult(len(records), len(done), len(failed))

    async def run(self, stop: asyncio.Event) -> None:
        logger.info("polling", extra={"function": self.function_name, "queue": self.queue_url})
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception:  # moto or the network hiccuped: wait, then go on
                logger.exception("poll failed", extra={"function": self.function_name})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=POLL_ERROR_BACKOFF_SECONDS)
