"""Password hashing off the event loop, with no 72-byte truncation.

bcrypt reads only the first 72 bytes of a password (bcrypt 5 raises past that). passlib's
`bcrypt_sha256` scheme HMAC-SHA256s the whole password first, so every byte counts.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from passlib.context import CryptContext

T = TypeVar("T")


# bcrypt is slow on purpose. On the default executor (cores + 4 threads) a login storm puts
# that many CPU-bound threads against the event loop, and every other request waits for the
# CPU behind them; a pool of one thread per core but one leaves a core to the loop. Threads
# start on first use.
HASHING_THREADS = max(1, len(os.sched_getaffinity(0)) - 1)
_hashing = ThreadPoolExecutor(HASHING_THREADS, thread_name_prefix="password-hashing")


async def _off_loop(function: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_hashing, function)


@lru_cache(maxsize=4)
def _context(rounds: int) -> CryptContext:
    return CryptContext(schemes=["bcrypt_sha256"], bcrypt_sha256__rounds=rounds)


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    return str(_context(rounds).hash("reframer-timing-equaliser"))


class PasswordHasher:
    def __init__(self, rounds: int) -> None:
        self._rounds = rounds

    async def hash(self, password: str) -> str:
        return await _off_loop(lambda: str(_context(self._rounds).hash(password)))

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """With no hash (unknown email) it still pays for one verify, so timing tells nothing."""
        rounds = self._rounds
        ok = await _off_loop(
            lambda: _context(rounds).verify(password, password_hash or _dummy_hash(rounds))
        )
        return bool(ok) and password_hash is not None
