"""In-process rate-limit storage: limits' `MemoryStorage`, expiring keys on the request path.

limits' memory storage starts a timer thread after a write, to expire keys 10 ms later; under
load that is a new thread every few requests, which costs more than the counting itself. This
one prunes expired keys inline, at most once a second. A key read after it expired is dropped
by `get` as before, so budgets are exactly those of the memory storage.

Registered with limits as `reframer-memory://` (its documented extension point: a `Storage`
subclass naming its scheme); `RateLimiter` uses it for `memory://`. Only counters are kept
(the sliding-window-counter strategy): the moving-window methods are the base class's.
"""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

PRUNE_EVERY_SECONDS = 1.0


class InlineExpiryMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["reframer-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.timer.cancel()  # the base class starts one at construction
        self._prune_at = 0.0

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self.get(key)
        self._prune_now_and_then()
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = time.time() + expiry
        return self.storage.get(key, 0)

    def decr(self, key: str, amount: int = 1) -> int:
        self.get(key)
        self._prune_now_and_then()
        with self.locks[key]:
            self.storage[key] = max(self.storage[key] - amount, 0)
        return self.storage.get(key, 0)

    def _prune_now_and_then(self) -> None:
        now = time.time()
        if now < self._prune_at:
            return
        self._prune_at = now + PRUNE_EVERY_SECONDS
        for key, expires_at in list(self.expirations.items()):
            if expires_at <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)
