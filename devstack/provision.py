"""Creates the bucket and queues the service expects, named as in `infra/`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.aws.clients import shared_session

JOBS_QUEUE = "reframer-jobs.fifo"
JOBS_DLQ = "reframer-jobs-dlq.fifo"
WEBHOOKS_QUEUE = "reframer-webhooks"
WEBHOOKS_DLQ = "reframer-webhooks-dlq"
JOBS_MAX_RECEIVES = 5
# Webhook retries are paced by visibility timeouts; the DLQ takes what outlives the schedule.
WEBHOOKS_MAX_RECEIVES = 20


@dataclass(frozen=True)
class LocalAws:
    bucket: str
    jobs_queue_url: str
    jobs_dlq_url: str
    webhooks_queue_url: str
    webhooks_dlq_url: str


async def provision_aws(
    endpoint_url: str,
    *,
    region: str = "us-east-1",
    prefix: str = "",
    bucket: str = "reframer-media-local",
    cors_origins: list[str] | None = None,
) -> LocalAws:
    """Idempotent: creating what exists already is harmless on S3 and SQS."""
    session = shared_session()
    async with (
        session.client("s3", endpoint_url=endpoint_url, region_name=region) as s3,
        session.client("sqs", endpoint_url=endpoint_url, region_name=region) as sqs,
    ):
        await s3.create_bucket(Bucket=prefix + bucket)
        await s3.put_bucket_cors(
            Bucket=prefix + bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": cors_origins or ["*"],
                        "AllowedMethods": ["GET", "PUT", "HEAD"],
                        "AllowedHeaders": ["*"],
                        "ExposeHeaders": ["ETag"],
                        "MaxAgeSeconds": 3600,
                    }
                ]
            },
        )

        async def queue(name: str, attributes: dict[str, str]) -> tuple[str, str]:
            url = (await sqs.create_queue(QueueName=prefix + name, Attributes=attributes))[
                "QueueUrl"
            ]
            arn = (await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"]))[
                "Attributes"
            ]["QueueArn"]
            return url, arn

        fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "false"}
        jobs_dlq_url, jobs_dlq_arn = await queue(JOBS_DLQ, fifo)
        jobs_url, _ = await queue(
            JOBS_QUEUE,
            {
                **fifo,
                "VisibilityTimeout": "120",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": jobs_dlq_arn, "maxReceiveCount": JOBS_MAX_RECEIVES}
                ),
            },
        )
        hooks_dlq_url, hooks_dlq_arn = await queue(WEBHOOKS_DLQ, {})
        hooks_url, _ = await queue(
            WEBHOOKS_QUEUE,
            {
                "VisibilityTimeout": "60",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": hooks_dlq_arn, "maxReceiveCount": WEBHOOKS_MAX_RECEIVES}
                ),
            },
        )
    return LocalAws(
        bucket=prefix + bucket,
        jobs_queue_url=jobs_url,
        jobs_dlq_url=jobs_dlq_url,
        webhooks_queue_url=hooks_url,
        webhooks_dlq_url=hooks_dlq_url,
    )
