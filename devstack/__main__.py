"""`make run`: the whole system on one machine, on its embedded defaults.

SQLite, moto server on loopback as S3 and SQS (bucket and queues created), the Alembic
migration, the API with its outbox relay, both Lambda handlers under SQS pollers, the local
Batch runner (each job's `docker-entrypoint.sh` a child process) and, unless a Stripe key is
configured, the local Stripe stand-in (Checkout and the billing portal as pages), all in one
process; Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvicorn

from app.config import DEV_STRIPE_SECRET_KEY, Settings
from app.logging import configure_logging
from devstack.lambda_runners import run_job_dispatcher, run_local_batch, run_webhook_delivery
from devstack.moto_server import start_moto
from devstack.provision import provision_aws
from devstack.smtp_sink import start_smtp_sink
from devstack.stripe_standin import StripeStandIn

logger = logging.getLogger("local")

DEFAULT_AWS_PORT = 4566
DEFAULT_API_HOST = "127.0.0.1"
DEFAULT_API_PORT = 8000
# Not a secret: the key the local stand-in and the app share on loopback.
LOCAL_STRIPE_SECRET_KEY = "sk_test_local-stripe-standin"  # noqa: S105


class _ApiServer(uvicorn.Server):
    """Stops the running containers while the API can still take their last callback."""

    before_shutdown: Callable[[], Awaitable[None]] | None = None

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.before_shutdown is not None:
            await self.before_shutdown()
        await super().shutdown(sockets)


def _start_local_stripe(base: Settings, public_url: str) -> StripeStandIn | None:
    """The stand-in, when no Stripe key is set; a configured key talks to Stripe itself."""
    if base.stripe_secret_key != DEV_STRIPE_SECRET_KEY:
        return None
    standin = StripeStandIn(
        secret_key=LOCAL_STRIPE_SECRET_KEY,
        prices=frozenset({base.stripe_price_pro, base.stripe_price_business}),
        price_names={base.stripe_price_pro: "pro", base.stripe_price_business: "business"},
        webhook_url=f"{public_url}/api/billing/stripe-webhook",
        webhook_secret=base.stripe_webhook_secret,
        live_clock=True,
    )
    standin.start(int(os.environ.get("REFRAMER_LOCAL_STRIPE_PORT", 0)))
    return standin


def _stripe_settings(
    base: Settings, standin: StripeStandIn | None, public_url: str
) -> dict[str, str]:
    if standin is None:
        return {}
    default_upgrade_url = Settings.model_fields["upgrade_url"].default
    return {
        "stripe_secret_key": LOCAL_STRIPE_SECRET_KEY,
        "stripe_api_base": standin.base_url,
        # Back from the checkout page to the console's plan page on this run's port.
        "upgrade_url": (
            f"{public_url}/#/plan" if base.upgrade_url == default_upgrade_url else base.upgrade_url
        ),
    }


def _migrate(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(Path(__file__).resolve().parents[1] / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


async def run() -> None:
    aws_port = int(os.environ.get("REFRAMER_LOCAL_AWS_PORT", DEFAULT_AWS_PORT))
    api_port = int(os.environ.get("REFRAMER_LOCAL_API_PORT", DEFAULT_API_PORT))
    base = Settings()
    configure_logging(base.log_level, base.log_json)

    moto = start_moto(aws_port)
    logger.info("moto server (S3, SQS) on %s", moto.endpoint_url)
    smtp = start_smtp_sink(Path(base.smtp_sink_dir), base.smtp_port, base.smtp_host)
    logger.info("SMTP sink on %s:%s, mail kept in %s", smtp.host, smtp.port, base.smtp_sink_dir)
    public_url = f"http://{DEFAULT_API_HOST}:{api_port}"
    stripe = _start_local_stripe(base, public_url)
    try:
        aws = await provision_aws(
            moto.endpoint_url,
            region=base.aws_region,
            bucket=base.s3_bucket,
            cors_origins=[*base.cors_origins, public_url],
        )
        settings = base.model_copy(
            update={
                "aws_endpoint_url": moto.endpoint_url,
                "s3_bucket": aws.bucket,
                "jobs_queue_url": aws.jobs_queue_url,
                "webhooks_queue_url": aws.webhooks_queue_url,
                "public_url": public_url,
                # The containers call back on the API's real port unless told otherwise.
                "callback_base_url": (
                    public_url
                    if base.callback_base_url == base.public_url.rstrip("/")
                    else base.callback_base_url
                ),
                **_stripe_settings(base, stripe, public_url),
            }
        )
        await asyncio.to_thread(_migrate, settings.database_url)
        logger.info("database migrated: %s", settings.database_url)

        from app.main import create_app

        server = _ApiServer(
            uvicorn.Config(
                create_app(settings),
                host=DEFAULT_API_HOST,
                port=api_port,
                log_config=None,
                loop="uvloop",
                http="httptools",
            )
        )
        print(
            f"\n  Reframer is running\n"
            f"    API        {public_url}\n"
            f"    API docs   {public_url}/docs\n"
            f"    readiness  {public_url}/health/ready\n"
            f"    S3 / SQS   {moto.endpoint_url} (moto)\n"
            f"    email      {base.smtp_sink_dir}/ (SMTP sink on port {smtp.port})\n"
            f"    billing    {stripe.base_url if stripe else settings.stripe_api_base}"
            f"{' (local Stripe stand-in)' if stripe else ''}\n"
            f"    database   {settings.database_url}\n\n"
            f"  Ctrl-C stops everything.\n",
            flush=True,
        )
        async with (
            run_local_batch(settings) as batch,
            run_job_dispatcher(settings, public_url, batch),
            run_webhook_delivery(settings, public_url),
        ):
            logger.info("local Batch runner on %s", batch.endpoint_url)
            server.before_shutdown = lambda: asyncio.to_thread(batch.stop)
            await server.serve()
    finally:
        if stripe is not None:
            stripe.stop()
        smtp.stop()
        moto.stop()
        logger.info("stopped")


def main() -> None:
    Path("var").mkdir(exist_ok=True)
    os.environ.setdefault("REFRAMER_LOG_JSON", "false")  # a person reads these lines
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
