"""The app factory: `uvicorn --factory app.main:create_app`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from app.adapters.stripe_gateway import StripeGateway
from app.api.deps import bind_path_ids_to_logs
from app.api.errors import install_error_handlers
from app.api.http_metrics import HttpMetricsMiddleware
from app.api.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from app.api.openapi import install_openapi
from app.api.rate_limits import RateLimiter, RateLimitHeadersMiddleware
from app.api.routes import ROUTERS
from app.api.telemetry import fastapi_telemetry
from app.aws.clients import AwsClients
from app.config import Settings, get_settings
from app.db.session import create_engine, create_read_sessionmaker, create_sessionmaker
from app.logging import configure_logging
from app.observability.runtime import observing
from app.observability.tracing import create_tracing
from app.outbox.publishers import build_publishers
from app.outbox.relay import OutboxRelay
from app.sweeper import JobSweeper

API_DESCRIPTION = """
Reframer turns landscape videos into vertical (9:16), square (1:1) or portrait (4:5) videos
that keep the subject in frame.

Authenticate with `Authorization: Bearer <token>`: a JWT access token from
`POST /api/auth/login` (or the Authorize button, which uses `POST /api/auth/token`), or an
API key (`rk_live_…`). Every error is an RFC 9457 problem document with a stable `code`.
"""


def _operation_id(route: APIRoute) -> str:
    # The endpoint function's name: stable, unique, readable in generated clients.
    return route.name


@asynccontextmanager
async def _background_work(
    app: FastAPI, settings: Settings, aws: AwsClients
) -> AsyncIterator[None]:
    """The outbox relay and the job sweeper: always built (tests drive them one step at a
    time), run as tasks when their settings say so, stopped with the app."""
    relay = OutboxRelay(app.state.sessionmaker, build_publishers(settings, aws), settings)
    sweeper = JobSweeper(app.state.sessionmaker, settings, aws.s3)
    app.state.outbox_relay = relay
    app.state.job_sweeper = sweeper
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    if settings.outbox_relay_enabled:
        tasks.append(asyncio.create_task(relay.run(stop), name="outbox-relay"))
    if settings.job_sweeper_enabled:
        tasks.append(asyncio.create_task(sweeper.run(stop), name="job-sweeper"))
    try:
        yield
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_engine(settings)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.read_sessionmaker = create_read_sessionmaker(engine)
    app.state.rate_limiter = RateLimiter(settings)
    app.state.stripe = StripeGateway(settings)
    try:
        with observing(settings, app.state.tracing, engine) as watchdog:
            app.state.loop_watchdog = watchdog
            async with AwsClients(settings) as aws, _background_work(app, settings, aws):
                app.state.aws = aws
                yield
    finally:
        await app.state.stripe.aclose()
        app.state.rate_limiter.close()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    tracing = create_tracing(settings.otel_exporter_otlp_endpoint, settings.environment)
    app = FastAPI(
        title="Reframer API",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        telemetry=fastapi_telemetry(tracing),
        dependencies=[Depends(bind_path_ids_to_logs)],
    )
    app.state.settings = settings
    app.state.tracing = tracing
    install_error_handlers(app)
    # Outermost last: request id wraps everything, so even a 413 or CORS refusal carries it.
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After", "X-RateLimit-Limit",
                        "X-RateLimit-Remaining", "X-RateLimit-Reset"],
        max_age=600,
    )  # fmt: skip
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(HttpMetricsMiddleware)
    for router in ROUTERS:
        app.include_router(router)
    install_openapi(app)
    return app
