"""Long-lived S3 and SQS clients (one connection pool each, not one per request)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from functools import lru_cache
from typing import Any

import aioboto3
from botocore.config import Config

from app.aws.presigning import Presigner
from app.config import Settings

PROBE_TIMEOUT_SECONDS = 2.0


@lru_cache(maxsize=1)
def shared_session() -> aioboto3.Session:
    """One session per process: its loader caches the service models (slow to parse)."""
    return aioboto3.Session()


class AwsClients:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session = shared_session()
        self._stack = AsyncExitStack()
        self.s3: Any = None
        self.sqs: Any = None
        self.presigner: Presigner

    async def __aenter__(self) -> AwsClients:
        common: dict[str, Any] = {
            "region_name": self.settings.aws_region,
            "endpoint_url": self.settings.aws_endpoint_url,
        }
        s3_config = Config(
            # s3v4 in every region (us-east-1 would otherwise presign with SigV2).
            signature_version="s3v4",
            # Path style where an endpoint is an address (moto on loopback).
            s3={"addressing_style": "path" if self.settings.aws_endpoint_url else "auto"},
            # The API only HEADs objects (presigning is local): an unreachable S3 must turn
            # into a quick 503 the client retries, not a request held for a minute.
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=3,
            read_timeout=10,
        )
        sqs_config = Config(
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=3,
            read_timeout=10,
        )
        self.s3 = await self._stack.enter_async_context(
            self.session.client("s3", config=s3_config, **common)
        )
        self.sqs = await self._stack.enter_async_context(
            self.session.client("sqs", config=sqs_config, **common)
        )
        self.presigner = await Presigner.for_bucket(
            self.session, self.s3, self.settings.s3_bucket, self.settings.aws_region
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def queues_reachable(self) -> bool:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                await self.sqs.get_queue_attributes(
                    QueueUrl=self.settings.jobs_queue_url, AttributeNames=["QueueArn"]
                )
            return True
        except Exception:
            return False
