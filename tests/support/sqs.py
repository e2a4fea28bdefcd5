"""An SQS client aimed at a loopback port of the test's choosing, failing fast: nothing
listening there is an SQS outage; a moto server started there later is SQS coming back."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from botocore.config import Config

from app.aws.clients import shared_session
from app.config import Settings


def sqs_client_at(settings: Settings, port: int) -> AbstractAsyncContextManager[Any]:
    return shared_session().client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=settings.aws_region,
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
