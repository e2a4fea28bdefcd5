"""Rate limits: slowapi's limiter, consulted after authentication so budgets follow the plan.

slowapi's own middleware chooses a limit before the route runs, when the caller's plan is not
known yet. So the limiter lives on `app.state` and two checks spend from it: per client IP on
the endpoints that take passwords or refresh tokens (`limit_by_client_ip`, brute force), and per
account on every authenticated call, whatever key or session it uses (`limit_caller`).
`RateLimitHeadersMiddleware` writes `X-RateLimit-*` (and `Retry-After` on a 429) from what the
check found. `/health` and `/internal` routes never reach a check.

The storage is `memory://` on one machine and `redis://` in production, where every replica
spends from one budget. When it fails, authenticated calls fail open: the request passes, one
warning is logged per outage, `reframer_rate_limit_fail_open_total` counts each unchecked
request, and checks resume after `STORAGE_RETRY_SECONDS`. The sign-in routes fail closed
(503 `rate_limiter_unavailable`): unchecked, they would let a guesser try without limit.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import Storage
from prometheus_client import Counter
from redis.backoff import NoBackoff
from redis.retry import Retry
from slowapi import Limiter
from slowapi.util import get_remote_address
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.rate_limit_storage import InlineExpiryMemoryStorage
from app.config import Settings
from app.domain.errors import RateLimited, RateLimiterUnavailable
from app.domain.plans import get_plan
from app.domain.rate_limits import address_bucket, client_address, plan_requests_per_minute

logger = logging.getLogger("app.rate_limits")

FAIL_OPEN = Counter(
    "reframer_rate_limit_fail_open_total",
    "Requests let through unchecked because the rate-limit storage failed",
)

KEY_PREFIX = "reframer"
# A sliding window (two counters) has no burst of twice the budget at window boundaries.
STRATEGY = "sliding-window-counter"
STORAGE_RETRY_SECONDS = 1.0
# Redis calls are blocking: they run on a few threads of their own, never on the event loop.
STORAGE_THREADS = 4
STATE_KEY = "rate_limit"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_at: float  # Unix time at which the budget grows again
    exceeded: bool
    retry_after: int  # seconds until a refused request may be tried again


class RateLimiter:
    """slowapi's `Limiter` (storage and strategy) with a failure policy: fail open."""

    def __init__(self, settings: Settings) -> None:
        uri = settings.rate_limit_storage_uri
        self.in_process = uri.startswith("memory://")
        options: dict[str, Any] = {}
        if self.in_process:
            uri = InlineExpiryMemoryStorage.STORAGE_SCHEME[0] + "://"
        else:
            timeout = settings.rate_limit_storage_timeout_seconds
            # Fail fast: a slow limiter must not hold requests; the breaker does the retrying.
            options = {
                "socket_connect_timeout": timeout,
                "socket_timeout": timeout,
                "retry": Retry(NoBackoff(), 1),
            }
        self.limiter = Limiter(
            key_func=get_remote_address,
            storage_uri=uri,
            storage_options=options,
            strategy=STRATEGY,
            key_prefix=KEY_PREFIX,
            headers_enabled=True,
        )
        self._executor = (
            None
            if self.in_process
            else ThreadPoolExecutor(STORAGE_THREADS, thread_name_prefix="rate-limit")
        )
        self._checks_resume_at = 0.0
        self._failing = False

    def _hit(self, item: RateLimitItem, scope: str, key: str) -> RateLimitState:
        strategy = self.limiter.limiter
        allowed = strategy.hit(item, KEY_PREFIX, scope, key)
        stats = strategy.get_window_stats(item, KEY_PREFIX, scope, key)
        return RateLimitState(
            limit=item.amount,
            remaining=int(stats.remaining),
            reset_at=float(stats.reset_time),
            exceeded=not allowed,
            retry_after=max(1, math.ceil(stats.reset_time - time.time())),
        )

    @property
    def storage(self) -> Storage:
        """The counters' storage, for counts that are not request budgets (login failures)."""
        storage: Storage = self.limiter.limiter.storage
        return storage

    async def call_storage(self, call: Callable[..., T], *args: Any) -> T:
        """Runs one storage call off the event loop; raises `RateLimiterUnavailable` when the
        storage fails or failed less than `STORAGE_RETRY_SECONDS` ago."""
        if time.monotonic() < self._checks_resume_at:
            raise _unavailable()
        try:
            if self._executor is None:
                result = call(*args)
            else:
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._executor, call, *args)
        except Exception as exc:
            self._checks_resume_at = time.monotonic() + STORAGE_RETRY_SECONDS
            if not self._failing:
                self._failing = True
                logger.warning(
                    "rate-limit storage failed; authenticated calls pass unchecked, "
                    "sign-in answers 503",
                    extra={"error": f"{type(exc).__name__}: {exc}"},
                )
            raise _unavailable() from exc
        if self._failing:
            self._failing = False
            logger.warning("rate-limit storage answers again; limits apply")
        return result

    async def hit(
        self, scope: str, key: str, per_minute: int, *, fail_closed: bool = False
    ) -> RateLimitState | None:
        """Spends one request of `key`'s budget. When the storage cannot be asked: None, or
        `RateLimiterUnavailable` with `fail_closed`."""
        item = RateLimitItemPerMinute(per_minute)
        try:
            return await self.call_storage(self._hit, item, scope, key)
        except RateLimiterUnavailable:
            if fail_closed:
                raise
            FAIL_OPEN.inc()
            return None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


def _unavailable() -> RateLimiterUnavailable:
    return RateLimiterUnavailable(
        "The rate limiter cannot be reached; retry shortly.",
        retry_after=math.ceil(STORAGE_RETRY_SECONDS),
    )


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


async def _spend(
    request: Request, scope: str, key: str, per_minute: int, *, fail_closed: bool = False
) -> None:
    state = await _limiter(request).hit(scope, key, per_minute, fail_closed=fail_closed)
    if state is None:
        return
    request.state.rate_limit = state
    if state.exceeded:
        raise RateLimited(
            f"This allows {state.limit} requests a minute; retry in {state.retry_after} seconds.",
            limit=state.limit,
            retry_after=state.retry_after,
        )


def limit_by_client_ip(budget: str) -> Callable[[Request], Any]:
    """Route dependency for unauthenticated endpoints a guesser would hammer: routes naming
    the same `budget` spend from one (`/login` and `/token` take the same passwords). Fails
    closed."""

    async def dependency(request: Request) -> None:
        settings: Settings = request.app.state.settings
        address = client_address(
            request.client.host if request.client else None,
            request.headers.getlist("x-forwarded-for"),
            settings.trusted_proxy_hops,
        )
        await _spend(
            request,
            scope=f"ip:{budget}",
            key=address_bucket(address),
            per_minute=settings.rate_limit_auth_per_minute,
            fail_closed=True,
        )

    return dependency


async def limit_caller(
    request: Request, settings: Settings, account_id: uuid.UUID, plan: str
) -> None:
    """Spends from the account's plan budget: all its API keys and sessions share one, so
    minting more keys buys no more requests."""
    per_minute = plan_requests_per_minute(get_plan(plan), settings.rate_limit_plan_scale)
    await _spend(request, scope="api", key=f"account:{account_id}", per_minute=per_minute)


class RateLimitHeadersMiddleware:
    """Adds `X-RateLimit-Limit/Remaining/Reset` (and `Retry-After` when refused) to responses
    of requests that spent from a budget, whatever produced the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            state = scope.get("state", {}).get(STATE_KEY)
            if message["type"] == "http.response.start" and isinstance(state, RateLimitState):
                headers = MutableHeaders(scope=message)
                headers["X-RateLimit-Limit"] = str(state.limit)
                headers["X-RateLimit-Remaining"] = str(state.remaining)
                headers["X-RateLimit-Reset"] = str(math.ceil(state.reset_at))
                if state.exceeded:
                    headers["Retry-After"] = str(state.retry_after)
            await send(message)

        await self.app(scope, receive, send_with_headers)
