"""The dead-letter queues, for operators (`python -m app.cli dlq ...`).

Each source queue names its DLQ in its redrive policy. Reading a DLQ receives its messages
and makes them visible again at once (SQS has no peek; a FIFO queue hands out the head of
each message group, so a group's later messages show once its head has gone). Redrive
takes messages in the order the queue gives them and sends each back before deleting it,
one at a time, so each FIFO message group keeps its order; a message whose work is over
(a final job, a finished or vanished delivery) is deleted without being sent, and one that
is not ours at all stays where it is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.models import WebhookDelivery
from app.domain.clock import utcnow
from app.domain.errors import NotFound
from app.domain.job_states import JobStatus, is_final
from app.domain.webhook_deliveries import DeliveryStatus
from app.services.jobs.transitions import lock_job
from app.services.webhooks.deliveries import delivery_with_event_and_endpoint
from app.services.webhooks.events import queue_delivery

# How long a read hides the messages it looks at (they are made visible again right after).
READ_VISIBILITY_SECONDS = 30
RECEIVE_BATCH = 10
# What send_message takes back of a received message attribute.
ATTRIBUTE_MEMBERS = ("DataType", "StringValue", "BinaryValue")


class DeadLetterSource(StrEnum):
    JOBS = "jobs"
    WEBHOOKS = "webhooks"


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    sent_at: datetime
    receive_count: int
    group_id: str | None
    attributes: dict[str, str]

    def age_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.sent_at).total_seconds())


@dataclass(frozen=True)
class DeadLetterSummary:
    source: DeadLetterSource
    queue_url: str
    visible: int
    in_flight: int
    oldest_age_seconds: float | None
    letters: list[DeadLetter]


@dataclass(frozen=True)
class RedriveResult:
    sent_back: int
    redelivered: int
    skipped: int
    kept: int


class DeadLetterQueues:
    def __init__(
        self, sqs: Any, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self.sqs = sqs
        self.settings = settings
        self.sessionmaker = sessionmaker

    def source_url(self, source: DeadLetterSource) -> str:
        if source is DeadLetterSource.JOBS:
            return self.settings.jobs_queue_url
        return self.settings.webhooks_queue_url

    async def dlq_url(self, source: DeadLetterSource) -> str:
        attributes = await self.sqs.get_queue_attributes(
            QueueUrl=self.source_url(source), AttributeNames=["RedrivePolicy"]
        )
        policy = attributes.get("Attributes", {}).get("RedrivePolicy")
        if not policy:
            raise NotFound(f"The {source.value} queue has no dead-letter queue.")
        # arn:aws:sqs:<region>:<account>:<name>
        _, _, _, _, account, name = json.loads(policy)["deadLetterTargetArn"].split(":", 5)
        response = await self.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
        return str(response["QueueUrl"])

    async def summary(self, source: DeadLetterSource) -> DeadLetterSummary:
        url = await self.dlq_url(source)
        attributes = (
            await self.sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )
        )["Attributes"]
        now = utcnow()
        letters = await self.read(source)
        ages = [letter.age_seconds(now) for letter in letters]
        return DeadLetterSummary(
            source=source,
            queue_url=url,
            visible=int(attributes["ApproximateNumberOfMessages"]),
            in_flight=int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            oldest_age_seconds=max(ages) if ages else None,
            letters=letters,
        )

    async def read(self, source: DeadLetterSource) -> list[DeadLetter]:
        """Every message the queue hands out now, oldest first; all visible again after."""
        url = await self.dlq_url(source)
        received: list[dict[str, Any]] = []
        try:
            while batch := await self._receive(url, READ_VISIBILITY_SECONDS):
                received.extend(batch)
        finally:
            for message in received:
                await self.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        letters = [_letter(message) for message in received]
        return sorted(letters, key=lambda letter: letter.sent_at)

    async def show(self, source: DeadLetterSource, message_id: str) -> DeadLetter:
        for letter in await self.read(source):
            if letter.message_id == message_id:
                return letter
        raise NotFound(f"No message {message_id} in the {source.value} dead-letter queue.")

    async def purge(self, source: DeadLetterSource) -> int:
        """Deletes every message; a webhook delivery still pending is marked failed."""
        url = await self.dlq_url(source)
        purged = 0
        async for message in self._drain(url):
            if source is DeadLetterSource.WEBHOOKS:
                await self._fail_pending_delivery(_delivery_id(message["Body"]))
            await self._delete(url, message)
            purged += 1
        return purged

    async def redrive(self, source: DeadLetterSource) -> RedriveResult:
        """A message that is not ours (no job or delivery id) stays for `show` and `purge`;
        in a FIFO queue its group's later messages stay behind it."""
        url = await self.dlq_url(source)
        sent_back = redelivered = skipped = 0
        kept: list[dict[str, Any]] = []
        try:
            async for message in self._drain(url):
                if source is DeadLetterSource.JOBS:
                    action = await self._redrive_job_message(message)
                else:
                    action = await self._redrive_webhook_message(message)
                if action == "kept":
                    kept.append(message)
                    continue
                sent_back += int(action == "sent_back")
                redelivered += int(action == "redelivered")
                skipped += int(action == "skipped")
                await self._delete(url, message)
        finally:
            for message in kept:
                await self.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        return RedriveResult(
            sent_back=sent_back, redelivered=redelivered, skipped=skipped, kept=len(kept)
        )

    async def _redrive_job_message(self, message: dict[str, Any]) -> str:
        job_id = _job_id(message["Body"])
        if job_id is None:
            return "kept"  # not a job message: it would fail again
        async with self.sessionmaker() as session:
            try:
                job = await lock_job(session, job_id)
            except NotFound:
                return "skipped"
            if is_final(JobStatus(job.status)):
                return "skipped"
            if job.status == JobStatus.QUEUED:
                # The operator's new attempt: the sweeper's next one waits a full timeout.
                job.dispatch_enqueued_at = utcnow()
            await self._send_back(DeadLetterSource.JOBS, message, f"{job_id}:redrive")
            await session.commit()
        return "sent_back"

    async def _redrive_webhook_message(self, message: dict[str, Any]) -> str:
        delivery_id = _delivery_id(message["Body"])
        if delivery_id is None:
            return "kept"
        async with self.sessionmaker() as session:
            found = await delivery_with_event_and_endpoint(session, delivery_id)
            if found is None:
                return "skipped"  # the endpoint was deleted, or the event passed retention
            delivery, event, endpoint = found
            if delivery.status == DeliveryStatus.PENDING.value:
                await self._send_back(DeadLetterSource.WEBHOOKS, message, None)
                return "sent_back"
            if delivery.status != DeliveryStatus.FAILED.value or not endpoint.enabled:
                return "skipped"
            # A failed delivery is sent again as a new one with the same webhook-id, as the
            # customer's own redeliver does.
            queue_delivery(session, event, endpoint)
            await session.commit()
        return "redelivered"

    async def _send_back(
        self, source: DeadLetterSource, message: dict[str, Any], dedup_prefix: str | None
    ) -> None:
        request: dict[str, Any] = {
            "QueueUrl": self.source_url(source),
            "MessageBody": message["Body"],
        }
        attributes = {
            name: {
                key: value[key]
                for key in ("DataType", "StringValue", "BinaryValue")
                if key in value
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        if attributes:
            request["MessageAttributes"] = attributes
        group = message.get("Attributes", {}).get("MessageGroupId")
        if group is not None:
            request["MessageGroupId"] = group
            request["MessageDeduplicationId"] = f"{dedup_prefix}:{message['MessageId']}"[:128]
        await self.sqs.send_message(**request)

    async def _fail_pending_delivery(self, delivery_id: uuid.UUID | None) -> None:
        if delivery_id is None:
            return
        async with self.sessionmaker() as session:
            delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if delivery is not None and delivery.status == DeliveryStatus.PENDING.value:
                delivery.status = DeliveryStatus.FAILED.value
                delivery.finished_at = utcnow()
                delivery.next_attempt_at = None
                await session.commit()

    async def _receive(self, url: str, visibility: int) -> list[dict[str, Any]]:
        response = await self.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=RECEIVE_BATCH,
            VisibilityTimeout=visibility,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    async def _drain(self, url: str) -> AsyncIterator[dict[str, Any]]:
        """Messages in the queue's order; the caller deletes each before the next batch."""
        while batch := await self._receive(url, READ_VISIBILITY_SECONDS):
            for message in batch:
                yield message

    async def _delete(self, url: str, message: dict[str, Any]) -> None:
        await self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _letter(message: dict[str, Any]) -> DeadLetter:
    attributes = message.get("Attributes", {})
    return DeadLetter(
        message_id=message["MessageId"],
        body=message["Body"],
        sent_at=datetime.fromtimestamp(int(attributes["SentTimestamp"]) / 1000, tz=UTC),
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
        group_id=attributes.get("MessageGroupId"),
        attributes={
            name: str(value.get("StringValue"))
            for name, value in message.get("MessageAttributes", {}).items()
        },
    )


def _member_id(body: str, member: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(json.loads(body)[member]))
    except (ValueError, KeyError, TypeError):
        return None


def _job_id(body: str) -> uuid.UUID | None:
    return _member_id(body, "job_id")


def _delivery_id(body: str) -> uuid.UUID | None:
    return _member_id(body, "delivery_id")
