"""SQS event sources: the records of an event, partial batch responses, the SQS client."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class SqsRecord:
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str]
    event_source_arn: str
    aws_region: str
    message_attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def receive_count(self) -> int:
        return int(self.attributes.get("ApproximateReceiveCount", "1"))

    @property
    def message_group_id(self) -> str | None:
        return self.attributes.get("MessageGroupId")


def sqs_records(event: dict[str, Any]) -> list[SqsRecord]:
    """The SQS records of a Lambda event, in the order SQS gave them."""
    return [
        SqsRecord(
            message_id=record["messageId"],
            receipt_handle=record["receiptHandle"],
            body=record["body"],
            attributes=dict(record.get("attributes") or {}),
            event_source_arn=record.get("eventSourceARN", ""),
            aws_region=record.get("awsRegion", ""),
            message_attributes=dict(record.get("messageAttributes") or {}),
        )
        for record in event.get("Records", [])
        if record.get("eventSource", "aws:sqs") == "aws:sqs"
    ]


def batch_response(failed_message_ids: Iterable[str]) -> dict[str, Any]:
    """The partial batch response (ReportBatchItemFailures): SQS keeps only these."""
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failed_message_ids]}


@lru_cache(maxsize=1)
def sqs_client() -> SQSClient:
    # One client per container; boto3 takes the endpoint (moto locally) from AWS_ENDPOINT_URL.
    return boto3.client("sqs")


@lru_cache(maxsize=8)
def dead_letter_queue_url(queue_url: str) -> str | None:
    """The queue's dead-letter queue, read from its redrive policy (None without one)."""
    sqs = sqs_client()
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    policy = attributes.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        return None
    arn = json.loads(policy)["deadLetterTargetArn"]
    # arn:aws:sqs:<region>:<account>:<name>
    _, _, _, _, account, name = arn.split(":", 5)
    return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
