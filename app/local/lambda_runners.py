"""The Lambda functions run locally: each under an SQS poller, with the environment AWS
would give it, calling the API over loopback like the real function would."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.aws.clients import AwsClients
from app.config import Settings
from app.local.sqs_poller import SqsPoller

# Long polls, so an idle local run does not spin; short enough to stop promptly.
LOCAL_WAIT_TIME_SECONDS = 5


def webhook_delivery_environment(settings: Settings, api_url: str) -> dict[str, str]:
    """What the webhook_delivery function's configuration would hold, for this local run."""
    environment = {
        "REFRAMER_API_URL": api_url,
        "REFRAMER_SERVICE_TOKEN": settings.service_token,
        "WEBHOOKS_QUEUE_URL": settings.webhooks_queue_url,
        "REFRAMER_WEBHOOK_ALLOW_PRIVATE_TARGETS": str(settings.webhook_allow_private_targets),
        "AWS_DEFAULT_REGION": settings.aws_region,
    }
    if settings.aws_endpoint_url:
        environment["AWS_ENDPOINT_URL"] = settings.aws_endpoint_url
    return environment


@asynccontextmanager
async def run_webhook_delivery(settings: Settings, api_url: str) -> AsyncIterator[SqsPoller]:
    """Feeds the webhooks queue to the webhook_delivery handler until the block ends."""
    from lambdas.webhook_delivery.handler import handler

    # The handler reads os.environ, as in Lambda; this process is the function's container.
    os.environ.update(webhook_delivery_environment(settings, api_url))
    async with AwsClients(settings) as aws:
        poller = SqsPoller(
            aws.sqs,
            settings.webhooks_queue_url,
            handler,
            function_name="webhook_delivery",
            region=settings.aws_region,
            wait_time_seconds=LOCAL_WAIT_TIME_SECONDS,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop), name="webhook-delivery-poller")
        try:
            yield poller
        finally:
            stop.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
