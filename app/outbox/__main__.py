"""`python -m app.outbox`: the relay as its own process, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from app.aws.clients import AwsClients
from app.config import get_settings
from app.db.session import create_engine, create_sessionmaker
from app.logging import configure_logging
from app.outbox.publishers import build_publishers
from app.outbox.relay import OutboxRelay

logger = logging.getLogger("app.outbox")


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    engine = create_engine(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AwsClients(settings) as aws:
        relay = OutboxRelay(create_sessionmaker(engine), build_publishers(settings, aws), settings)
        logger.info("outbox relay running")
        await relay.run(stop)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
