"""The webhook_delivery Lambda (SQS event source, ReportBatchItemFailures on).

Each message is `{"delivery_id": "<uuid>"}`. For each: fetch the delivery from the API, sign
and POST it (behind the SSRF guard), report the attempt, and do what the API answers:

- delivered, failed, endpoint disabled: the message is done (deleted);
- retry: hide the message for the jittered wait the API chose (ChangeMessageVisibility) and
  return it as a batch item failure, so SQS hands it back then;
- retries exhausted: the message is sent to the queue's dead-letter queue, then deleted.

The dead-letter move is explicit rather than left to the redrive policy: the policy's
maxReceiveCount stays a safety net for messages that crash the function, and the number of
retries is the API's schedule alone. The delivery is already marked failed in the API by then;
the dead-letter copy is for operators.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from contracts.webhooks import (
    AttemptOutcome,
    AttemptReport,
    DeliveryMessage,
    DeliveryToSend,
    NextStep,
)
from lambdas.common.api_client import ApiError, InternalApi
from lambdas.common.config import WEBHOOK_TOKEN_VARIABLE, env_flag, require_env, service_token
from lambdas.common.sqs import (
    SqsRecord,
    batch_response,
    dead_letter_queue_url,
    sqs_client,
    sqs_records,
)
from lambdas.webhook_delivery.sender import SendResult, WebhookSender

logger = logging.getLogger("webhook_delivery")
logger.setLevel(logging.INFO)

# Records of one batch are sent side by side: one slow receiver must not hold up the rest.
MAX_PARALLEL_SENDS = 10


@dataclass(frozen=True)
class DeliveryConfig:
    api_url: str
    queue_url: str
    allow_private_targets: bool

    @classmethod
    def from_env(cls) -> DeliveryConfig:
        return cls(
            api_url=require_env("REFRAMER_API_URL"),
            queue_url=require_env("WEBHOOKS_QUEUE_URL"),
            # Production sets it false; the API refuses to start with it true there.
            allow_private_targets=env_flag("REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False),
        )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    config = DeliveryConfig.from_env()
    records = sqs_records(event)
    if not records:
        return batch_response([])
    # SQS delivers at least once: two copies of a message in one batch are sent once. (Copies
    # in different invocations are caught by the attempt numbering in the API.)
    unique: dict[str, SqsRecord] = {}
    for record in records:
        unique.setdefault(_delivery_id(record) or record.message_id, record)
    with (
        InternalApi(config.api_url, service_token(WEBHOOK_TOKEN_VARIABLE)) as api,
        WebhookSender(allow_private_targets=config.allow_private_targets) as sender,
        ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_SENDS, len(unique))) as pool,
    ):
        work = list(unique.values())
        done = list(pool.map(lambda r: _process(r, config, api, sender), work))
    return batch_response(r.message_id for r, ok in zip(work, done, strict=True) if not ok)


def _process(
    record: SqsRecord, config: DeliveryConfig, api: InternalApi, sender: WebhookSender
) -> bool:
    """Handles one message; True when it is finished with (delete), False to keep it."""
    try:
        return _deliver(record, config, api, sender)
    except Exception:
        # The API or SQS is away: the message comes back after its visibility timeout,
        # and the queue's redrive policy stops one that keeps failing.
        logger.exception("webhook message failed", extra={"message_id": record.message_id})
        return False


def _delivery_id(record: SqsRecord) -> str | None:
    try:
        return str(DeliveryMessage.model_validate_json(record.body).delivery_id)
    except ValidationError:
        return None


def _deliver(
    record: SqsRecord, config: DeliveryConfig, api: InternalApi, sender: WebhookSender
) -> bool:
    delivery_id = _delivery_id(record)
    if delivery_id is None:
        logger.error("malformed webhook message", extra={"message_id": record.message_id})
        return _dead_letter(record, config, reason="malformed_message")
    path = f"/internal/webhooks/deliveries/{delivery_id}"
    try:
        delivery = api.get(path, DeliveryToSend)
    except ApiError as exc:
        if exc.status == 404:  # the endpoint (and its deliveries) was deleted
            logger.info("webhook delivery gone", extra={"delivery_id": delivery_id})
            return True
        raise
    if not delivery.deliverable:
        logger.info(
            "webhook delivery not deliverable",
            extra={"delivery_id": delivery_id, "reason": delivery.reason},
        )
        return True

    attempt = delivery.attempt_count + 1
    result = sender.send(
        delivery.url,
        delivery.payload,
        delivery.secrets,
        str(delivery.event_id),
        require_https=delivery.require_https,
    )
    try:
        outcome = api.post(f"{path}/attempts", _report(attempt, result), AttemptOutcome)
    except ApiError as exc:
        if exc.status in (404, 409):
            # A duplicate copy of this message already reported this attempt, or the
            # delivery finished or vanished meanwhile: this copy has nothing left to do.
            logger.info(
                "webhook attempt not counted",
                extra={"delivery_id": delivery_id, "attempt": attempt, "code": exc.code},
            )
            return True
        raise
    logger.info(
        "webhook attempt",
        extra={
            "delivery_id": delivery_id,
            "attempt": attempt,
            "status_code": result.status_code,
            "latency_ms": result.latency_ms,
            "error": result.error,
            "refused_reason": result.refused_reason,
            "next": outcome.next.value,
        },
    )
    if outcome.next == NextStep.RETRY:
        sqs_client().change_message_visibility(
            QueueUrl=config.queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=outcome.retry_after_seconds or 0,
        )
        return False
    if outcome.dead_letter:
        return _dead_letter(record, config, reason="retries_exhausted")
    return True


def _report(attempt: int, result: SendResult) -> AttemptReport:
    return AttemptReport(
        attempt=attempt,
        attempted_at=result.attempted_at,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        error=result.error,
        refused_reason=result.refused_reason,
    )


def _dead_letter(record: SqsRecord, config: DeliveryConfig, *, reason: str) -> bool:
    """Copies the message to the dead-letter queue; True once it is there."""
    dlq_url = dead_letter_queue_url(config.queue_url)
    if dlq_url is None:
        logger.error(
            "no dead-letter queue for webhook message",
            extra={"message_id": record.message_id, "reason": reason},
        )
        return True
    sqs_client().send_message(
        QueueUrl=dlq_url,
        MessageBody=record.body,
        MessageAttributes={
            "reframer_failure": {"DataType": "String", "StringValue": reason},
            "reframer_receive_count": {
                "DataType": "Number",
                "StringValue": str(record.receive_count),
            },
        },
    )
    logger.warning(
        "webhook message dead-lettered",
        extra={"message_id": record.message_id, "reason": reason},
    )
    return True
