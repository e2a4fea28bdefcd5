"""The local SQS event source: genuine Lambda events from moto, and the partial-batch contract."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.aws.clients import shared_session
from devstack.moto_server import MotoServer
from devstack.provision import LocalAws
from devstack.sqs_poller import LocalLambdaContext, SqsPoller

REGION = "us-east-1"


class RecordingHandler:
    """A Lambda handler that remembers its events and fails the records it is told to."""

    def __init__(self, fail_bodies: frozenset[str] = frozenset(), raises: bool = False) -> None:
        self.fail_bodies = fail_bodies
        self.raises = raises
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        self.contexts.append(context)
        if self.raises:
            raise RuntimeError("the function crashed")
        failed = [r["messageId"] for r in event["Records"] if r["body"] in self.fail_bodies]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}


@pytest.fixture
async def sqs(moto_server: MotoServer) -> AsyncIterator[Any]:
    async with shared_session().client(
        "sqs", endpoint_url=moto_server.endpoint_url, region_name=REGION
    ) as client:
        yield client


def poller(sqs: Any, queue_url: str, handler: Any) -> SqsPoller:
    return SqsPoller(
        sqs, queue_url, handler, function_name="test_fn", region=REGION, wait_time_seconds=1
    )


async def _queue_arn(sqs: Any, url: str) -> str:
    attributes = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


async def _approximate_count(sqs: Any, url: str) -> int:
    attributes = await sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    values = attributes["Attributes"]
    return int(values["ApproximateNumberOfMessages"]) + int(
        values["ApproximateNumberOfMessagesNotVisible"]
    )


async def test_records_are_genuine_and_only_failures_stay_on_the_queue(
    sqs: Any, aws: LocalAws
) -> None:
    url = aws.webhooks_queue_url
    for body in ("one", "two", "three"):
        await sqs.send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": f"k-{body}"}},
        )
    handler = RecordingHandler(fail_bodies=frozenset({"two"}))
    result = await poller(sqs, url, handler).poll_once()

    assert (result.received, result.deleted, result.kept) == (3, 2, 1)
    [event] = handler.events
    records = event["Records"]
    assert sorted(r["body"] for r in records) == ["one", "three", "two"]
    arn = await _queue_arn(sqs, url)
    for record in records:
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == arn
        assert record["awsRegion"] == REGION
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324
        assert record["messageId"]
        assert record["receiptHandle"]
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert int(record["attributes"]["SentTimestamp"]) > 0
        assert record["messageAttributes"]["kind"] == {
            "stringValue": f"k-{record['body']}",
            "binaryValue": None,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    context = handler.contexts[0]
    assert isinstance(context, LocalLambdaContext)
    assert context.function_name == "test_fn"
    assert 0 < context.get_remaining_time_in_millis() <= 900_000

    # The failed record is still there: make it visible again and it comes back, once more.
    kept = next(r for r in records if r["body"] == "two")
    await sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=kept["receiptHandle"], VisibilityTimeout=0
    )
    again = RecordingHandler()
    assert (await poller(sqs, url, again).poll_once()).deleted == 1
    [[record]] = [e["Records"] for e in again.events]
    assert record["body"] == "two"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert await _approximate_count(sqs, url) == 0


@pytest.mark.parametrize(
    "handler",
    [
        RecordingHandler(raises=True),
        lambda event, context: {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]},
        lambda event, context: {"batchItemFailures": [{"itemIdentifier": ""}]},
        lambda event, context: "not a batch response",
    ],
    ids=["raises", "unknown-id", "empty-id", "not-a-dict"],
)
async def test_a_crash_or_a_malformed_answer_keeps_the_whole_batch(
    sqs: Any, aws: LocalAws, handler: Any
) -> None:
    url = aws.webhooks_queue_url
    for body in ("a", "b"):
        await sqs.send_message(QueueUrl=url, MessageBody=body)
    result = await poller(sqs, url, handler).poll_once()
    assert (result.received, result.deleted, result.kept) == (2, 0, 2)
    assert await _approximate_count(sqs, url) == 2


async def test_no_answer_means_every_record_succeeded(sqs: Any, aws: LocalAws) -> None:
    url = aws.webhooks_queue_url
    await sqs.send_message(QueueUrl=url, MessageBody="x")
    result = await poller(sqs, url, lambda event, context: None).poll_once()
    assert (result.received, result.deleted, result.kept) == (1, 1, 0)
    assert await _approximate_count(sqs, url) == 0


async def test_fifo_records_carry_their_group_and_deduplication_ids(
    sqs: Any, aws: LocalAws
) -> None:
    url = aws.jobs_queue_url
    for n in range(2):
        await sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps({"job_id": f"job-{n}"}),
            MessageGroupId="account-1",
            MessageDeduplicationId=f"job-{n}",
        )
    handler = RecordingHandler()
    assert (await poller(sqs, url, handler).poll_once()).deleted == 2
    records = handler.events[0]["Records"]
    assert [json.loads(r["body"])["job_id"] for r in records] == ["job-0", "job-1"]
    for n, record in enumerate(records):
        assert record["attributes"]["MessageGroupId"] == "account-1"
        assert record["attributes"]["MessageDeduplicationId"] == f"job-{n}"
        assert record["attributes"]["SequenceNumber"]


async def test_an_empty_queue_invokes_nothing(sqs: Any, aws: LocalAws) -> None:
    handler = RecordingHandler()
    result = await poller(sqs, aws.webhooks_queue_url, handler).poll_once()
    assert (result.received, result.deleted, result.kept) == (0, 0, 0)
    assert handler.events == []
