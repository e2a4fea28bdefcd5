"""The Lambda functions run locally: each under an SQS poller, with the environment AWS
would give it, calling the API over loopback like the real function would. The dispatcher's
Batch is the local Batch runner, reached through `AWS_ENDPOINT_URL_BATCH`."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.aws.clients import AwsClients
from app.config import Settings
from devstack.batch_runner import DEFAULT_STOP_GRACE_SECONDS, LocalBatch, start_local_batch
from devstack.sqs_poller import LambdaHandler, SqsPoller

# Long polls, so an idle local run does not spin; short enough to stop promptly.
LOCAL_WAIT_TIME_SECONDS = 5
# Names as in `infra/`; the local Batch runner accepts any.
LOCAL_BATCH_JOB_QUEUE_STANDARD = "reframer-standard"
LOCAL_BATCH_JOB_QUEUE_PRIORITY = "reframer-priority"
LOCAL_BATCH_JOB_DEFINITION = "reframer-pipeline"


def webhook_delivery_environment(settings: Settings, api_url: str) -> dict[str, str]:
    """What the webhook_delivery function's configuration would hold, for this local run."""
    environment = {
        "REFRAMER_API_URL": api_url,
        "REFRAMER_WEBHOOK_SERVICE_TOKEN": settings.webhook_service_token,
        "WEBHOOKS_QUEUE_URL": settings.webhooks_queue_url,
        "REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS": str(settings.webhook_allow_private_targets),
        "AWS_DEFAULT_REGION": settings.aws_region,
    }
    if settings.aws_endpoint_url:
        environment["AWS_ENDPOINT_URL"] = settings.aws_endpoint_url
    return environment


@asynccontextmanager
async def _poll_queue(
    settings: Settings, queue_url: str, handler: LambdaHandler, function_name: str
) -> AsyncIterator[SqsPoller]:
    """Feeds one queue to one Lambda handler, as its event source mapping would, until the
    block ends."""
    async with AwsClients(settings) as aws:
        poller = SqsPoller(
            aws.sqs,
            queue_url,
            handler,
            function_name=function_name,
            region=settings.aws_region,
            wait_time_seconds=LOCAL_WAIT_TIME_SECONDS,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop), name=f"{function_name}-poller")
        try:
            yield poller
        finally:
            stop.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@asynccontextmanager
async def run_webhook_delivery(settings: Settings, api_url: str) -> AsyncIterator[SqsPoller]:
    """Feeds the webhooks queue to the webhook_delivery handler until the block ends."""
    from lambdas.webhook_delivery.handler import handler

    # The handler reads os.environ, as in Lambda; this process is the function's container.
    os.environ.update(webhook_delivery_environment(settings, api_url))
    async with _poll_queue(
        settings, settings.webhooks_queue_url, handler, "webhook_delivery"
    ) as poller:
        yield poller


def job_dispatcher_environment(
    settings: Settings, api_url: str, batch_endpoint_url: str
) -> dict[str, str]:
    """What the job_dispatcher function's configuration would hold, for this local run."""
    environment = {
        "REFRAMER_API_URL": api_url,
        "REFRAMER_SERVICE_TOKEN": settings.service_token,
        "BATCH_JOB_QUEUE_STANDARD": LOCAL_BATCH_JOB_QUEUE_STANDARD,
        "BATCH_JOB_QUEUE_PRIORITY": LOCAL_BATCH_JOB_QUEUE_PRIORITY,
        "BATCH_JOB_DEFINITION": LOCAL_BATCH_JOB_DEFINITION,
        # botocore's service-specific endpoint: Batch goes to the local runner, SQS to moto.
        "AWS_ENDPOINT_URL_BATCH": batch_endpoint_url,
        "AWS_DEFAULT_REGION": settings.aws_region,
    }
    if settings.aws_endpoint_url:
        environment["AWS_ENDPOINT_URL"] = settings.aws_endpoint_url
    return environment


@asynccontextmanager
async def run_local_batch(
    settings: Settings, *, stop_grace_seconds: float = DEFAULT_STOP_GRACE_SECONDS
) -> AsyncIterator[LocalBatch]:
    """The local Batch runner until the block ends; its containers are stopped then."""
    if not settings.aws_endpoint_url:
        raise ValueError("the local Batch runner needs the local AWS endpoint (moto)")
    batch = await asyncio.to_thread(
        lambda: start_local_batch(
            settings.aws_endpoint_url or "",
            region=settings.aws_region,
            stop_grace_seconds=stop_grace_seconds,
        )
    )
    try:
        yield batch
    finally:
        await asyncio.to_thread(batch.stop)


@asynccontextmanager
async def run_job_dispatcher(
    settings: Settings, api_url: str, batch: LocalBatch
) -> AsyncIterator[SqsPoller]:
    """Feeds the jobs FIFO queue to the job_dispatcher handler until the block ends."""
    from lambdas.job_dispatcher.handler import handler

    os.environ.update(job_dispatcher_environment(settings, api_url, batch.endpoint_url))
    async with _poll_queue(settings, settings.jobs_queue_url, handler, "job_dispatcher") as poller:
        yield poller
