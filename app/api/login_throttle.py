"""Failed sign-ins slow the account down, whichever addresses the guesses come from.

The counts live in the rate limiter's storage (Redis in production, so every replica sees
them) under a keyed hash of the normalised address: no email address is written there, and
unknown addresses are counted like known ones, so the answer tells nobody who has an account.
The policy (how long to wait) is `app.domain.login_throttle`. Storage trouble fails closed.
"""

from __future__ import annotations

import math
import time

from fastapi import Request

from app.api.rate_limits import STATE_KEY, RateLimiter, RateLimitState
from app.config import Settings
from app.domain.errors import RateLimited
from app.domain.keyring import Purpose
from app.domain.login_throttle import delay_after_failures
from app.services.accounts import normalise_email

FAILURES = "login-failures"
BLOCKED = "login-blocked"


class LoginThrottle:
    def __init__(self, request: Request, email: str) -> None:
        self.request = request
        self.settings: Settings = request.app.state.settings
        self.limiter: RateLimiter = request.app.state.rate_limiter
        email_key = self.settings.keyring.hash(Purpose.LOGIN_THROTTLE, normalise_email(email))
        account_key = email_key[:32]
        self.failures_key = f"{FAILURES}/{account_key}"
        self.blocked_key = f"{BLOCKED}/{account_key}"

    async def ensure_allowed(self) -> None:
        """Raises 429 with `Retry-After` while the account waits out its last failure."""
        storage = self.limiter.storage
        if not await self.limiter.call_storage(storage.get, self.blocked_key):
            return
        until = await self.limiter.call_storage(storage.get_expiry, self.blocked_key)
        retry_after = max(1, math.ceil(until - time.time()))
        # The response's rate-limit headers describe this refusal, not the address's budget.
        setattr(
            self.request.state,
            STATE_KEY,
            RateLimitState(
                limit=self.settings.login_free_failures,
                remaining=0,
                reset_at=until,
                exceeded=True,
                retry_after=retry_after,
            ),
        )
        raise RateLimited(
            "Too many failed sign-ins for this account; "
            f"retry in {retry_after} seconds, or reset the password.",
            retry_after=retry_after,
        )

    async def failed(self) -> None:
        storage = self.limiter.storage
        failures = await self.limiter.call_storage(
            storage.incr, self.failures_key, self.settings.login_failure_window_seconds
        )
        delay = delay_after_failures(
            failures, self.settings.login_free_failures, self.settings.login_max_delay_seconds
        )
        if delay:
            await self.limiter.call_storage(storage.incr, self.blocked_key, delay)

    async def succeeded(self) -> None:
        storage = self.limiter.storage
        await self.limiter.call_storage(storage.clear, self.failures_key)
