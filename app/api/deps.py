"""Dependencies every route draws on: settings, the session, the caller and their scopes,
the plan gate, `Idempotency-Key`, the Lambdas', the container's and the scraper's
credentials, and what the lifespan keeps on `app.state` (AWS clients, Stripe, the engine,
the outbox relay): routes read `app.state` only through these."""

from __future__ import annotations

import contextlib
import hmac
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.adapters.stripe_gateway import StripeGateway
from app.api.idempotency import Idempotency
from app.api.rate_limits import limit_caller
from app.api.schemas.fields import PRINTABLE_ASCII_PATTERN
from app.aws.clients import AwsClients
from app.config import Settings
from app.db.availability import DATABASE_ERROR_TYPES, is_database_unavailable
from app.db.models import Account
from app.domain.api_key_scopes import Scope, grants
from app.domain.errors import (
    Forbidden,
    InsufficientScope,
    NotFound,
    SessionEnded,
    SessionRequired,
    TokenAccountGone,
    Unauthenticated,
)
from app.domain.plan_gate import ensure_feature
from app.domain.plans import Feature
from app.domain.secrets import looks_like_api_key
from app.logging import bind_log_context
from app.services.accounts import get_account
from app.services.auth.access_tokens import decode_access_token
from app.services.auth.api_keys import authenticate_api_key
from app.services.jobs.callbacks import authenticate_callback

logger = logging.getLogger("app.db")

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A JWT access token from /api/auth/login, or an API key (rk_live_...).",
)


# Dependencies are `async def` even when they only read app.state: FastAPI runs a plain
# `def` dependency on a worker thread, a hop that costs more than the work.
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


MAX_LOGGED_ID_LENGTH = 64


async def bind_path_ids_to_logs(request: Request) -> None:
    """Tags the request's log lines with the ids in its path (`job_id`, `key_id`, ...).

    Mounted on the app, so a feature's routes get it without asking. The caller's own
    account id comes from `get_current_account`, never from a path.
    """
    bind_log_context(
        **{
            name: str(value)[:MAX_LOGGED_ID_LENGTH]
            for name, value in request.path_params.items()
            if name.endswith("_id") and name != "account_id"
        }
    )


# Requests with these methods only read (an API key's `last_used_at` is one UPDATE, atomic on
# its own): their sessions skip the transaction block (app/db/session.py).
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    maker = state.read_sessionmaker if request.method in READ_ONLY_METHODS else state.sessionmaker
    session: AsyncSession = maker()
    try:
        yield session
    finally:
        await _close(session)


async def _close(session: AsyncSession) -> None:
    """Closes the request's session after its answer went out. A connection that died under
    the request cannot even roll back: it is dropped from the pool, and nothing is raised
    (the response is already sent; raising would only cut the client's connection)."""
    try:
        await session.close()
    except DATABASE_ERROR_TYPES as exc:
        if not is_database_unavailable(exc):
            raise
        logger.warning("dropped a database connection lost during the request: %s", exc)
        with contextlib.suppress(*DATABASE_ERROR_TYPES):
            await session.invalidate()


SessionDep = Annotated[AsyncSession, Depends(get_session)]


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: its account (loaded to check the key or the session version),
    the plan its rate-limit budget follows, and an API key's scopes."""

    account_id: uuid.UUID
    plan: str  # for the rate-limit budget only (app/services/auth/access_tokens.py)
    account: Account | None  # loaded by authentication (always, today)
    # What an API key may do; None for a user's session, which may do everything.
    scopes: frozenset[str] | None = None


async def get_caller(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("Send `Authorization: Bearer <access token or API key>`.")
    token = credentials.credentials
    if looks_like_api_key(token):
        key = await authenticate_api_key(session, settings, token)
        account = key.account
        ensure_feature(
            settings.upgrade_url, account.plan, Feature.API_KEYS
        )  # keys stop working on a downgrade
        caller = Caller(account.id, account.plan, account, key.scopes)
    else:
        claims = decode_access_token(settings, token)
        # One primary-key read: a token older than the account's last "end every session"
        # (password change or reset, log out everywhere) is refused on every replica at once.
        loaded = await _account_of_token(session, claims.account_id)
        if claims.session_version != loaded.session_version:
            raise SessionEnded()
        caller = Caller(loaded.id, claims.plan or loaded.plan, loaded)
    bind_log_context(account_id=str(caller.account_id))
    await limit_caller(request, settings, caller.account_id, caller.plan)
    return caller


CurrentCaller = Annotated[Caller, Depends(get_caller)]


# Every authenticated route declares one of these two (tests/auth/test_api_key_scopes.py
# checks): an API key reaches only what its scopes name.
def require_scope(scope: Scope) -> Callable[..., Awaitable[None]]:
    """A route dependency: a session passes, an API key only when it holds `scope`."""

    async def dependency(caller: CurrentCaller) -> None:
        if caller.scopes is not None and not grants(caller.scopes, scope):
            raise InsufficientScope(
                f"This API key lacks the `{scope.value}` scope; create a key that has it.",
                required_scope=scope.value,
            )

    return dependency


def require_resource_scope(read: Scope, write: Scope) -> Callable[..., Awaitable[None]]:
    """A router's dependency: reads (GET, HEAD) need `read`, everything else `write`."""

    async def dependency(request: Request, caller: CurrentCaller) -> None:
        needed = read if request.method in READ_ONLY_METHODS else write
        await require_scope(needed)(caller)

    return dependency


# The jobs routes and their uploads' (a job's upload is part of the job).
require_jobs_scope = require_resource_scope(Scope.JOBS_READ, Scope.JOBS_WRITE)


async def allow_any_api_key(caller: CurrentCaller) -> None:
    """A route dependency saying so: any API key may call it (reading who it belongs to)."""


async def require_session(caller: CurrentCaller) -> None:
    """A route dependency: only a user's session, never an API key (keys, billing, account)."""
    if caller.scopes is not None:
        raise SessionRequired(
            "API keys cannot do this; sign in to the console as the account's user."
        )


async def get_current_account(caller: CurrentCaller, session: SessionDep) -> Account:
    if caller.account is not None:
        return caller.account
    return await _account_of_token(session, caller.account_id)


async def _account_of_token(session: AsyncSession, account_id: uuid.UUID) -> Account:
    try:
        return await get_account(session, account_id)
    except NotFound as exc:
        # Only a missing account: a database that cannot answer is a 503, not a reason for
        # the client to throw its token away.
        raise TokenAccountGone() from exc


CurrentAccount = Annotated[Account, Depends(get_current_account)]


def require_feature(feature: Feature) -> Callable[..., Awaitable[Account]]:
    """A route dependency that refuses with `tier_limit` when the plan lacks `feature`."""

    async def dependency(account: CurrentAccount, settings: SettingsDep) -> Account:
        ensure_feature(settings.upgrade_url, account.plan, feature)
        return account

    return dependency


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]

# The Lambdas' credentials for /internal routes: one token per function. The webhook_delivery
# Lambda talks to customers' servers; its token opens the webhook routes and nothing else,
# and the job_dispatcher's token opens the dispatch routes and nothing else, so neither
# function's compromise reaches the other's side. A user's JWT or API key never passes.
INTERNAL_RAW_PREFIX = b"/internal/"


async def require_plain_internal_path(request: Request) -> None:
    """The load balancer forwards `/internal/*` from the NAT gateways only; a path spelled
    another way (`/%69nternal/...`) would pass its rule and be decoded into an internal route
    here, so only the literal spelling reaches these routes."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    if not raw_path.startswith(INTERNAL_RAW_PREFIX):
        raise NotFound("No such route.")


def _require_token(
    function_name: str, token_of: Callable[[Settings], str]
) -> Callable[..., Awaitable[None]]:
    async def dependency(settings: SettingsDep, credentials: Credentials) -> None:
        if credentials is None:
            raise Unauthenticated(f"Send `Authorization: Bearer <{function_name} token>`.")
        if not hmac.compare_digest(credentials.credentials.encode(), token_of(settings).encode()):
            raise Forbidden(f"This credential may not call the {function_name} routes.")

    return dependency


require_dispatcher_token = _require_token("job_dispatcher", lambda s: s.service_token)
require_webhook_sender_token = _require_token("webhook_delivery", lambda s: s.webhook_service_token)


async def require_scraper(settings: SettingsDep, credentials: Credentials) -> None:
    """/metrics: served only where configured; with a metrics token, only to its bearer."""
    if not settings.metrics_served:
        raise NotFound("Not Found")
    if settings.metrics_token is None:
        return
    if credentials is None:
        raise Unauthenticated("Send `Authorization: Bearer <metrics token>`.")
    if not hmac.compare_digest(credentials.credentials.encode(), settings.metrics_token.encode()):
        raise Forbidden("This credential may not read metrics.")


async def get_aws(request: Request) -> AwsClients:
    aws: AwsClients = request.app.state.aws
    return aws


AwsDep = Annotated[AwsClients, Depends(get_aws)]


async def get_stripe(request: Request) -> StripeGateway:
    gateway: StripeGateway = request.app.state.stripe
    return gateway


StripeDep = Annotated[StripeGateway, Depends(get_stripe)]


async def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """For a route that opens its own session (and bounds its wait), not the request's."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return maker


SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


async def get_outbox_waker(request: Request) -> Callable[[], None]:
    """Call it once the request's messages are committed: the relay sends them now instead of
    at its next poll."""
    wake: Callable[[], None] = request.app.state.outbox_relay.wake
    return wake


WakeOutbox = Annotated[Callable[[], None], Depends(get_outbox_waker)]


async def require_callback_token(
    job_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    """The Batch container's credential: the token dispatched with this job, for this job only."""
    if credentials is None:
        raise Unauthenticated("Send `Authorization: Bearer <callback token of this job>`.")
    await authenticate_callback(session, settings, job_id, credentials.credentials)


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=PRINTABLE_ASCII_PATTERN,
        description="retry safely: the same key and body return the first response (24 h)",
    ),
]


async def get_idempotency(
    request: Request,
    caller: CurrentCaller,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Idempotency:
    """For a route that honours `Idempotency-Key`; the operation is its method and path."""
    route_path: str = request.scope["route"].path
    return Idempotency(
        key=idempotency_key,
        operation=f"{request.method} {route_path}",
        account_id=caller.account_id,
        session=session,
        ttl_seconds=settings.idempotency_key_ttl_seconds,
    )


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
