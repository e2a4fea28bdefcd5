"""Password hashing off the event loop, with no 72-byte truncation.

bcrypt reads only the first 72 bytes of a password (bcrypt 5 raises past that). passlib's
`bcrypt_sha256` scheme HMAC-SHA256s the whole password first, so every byte counts.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from passlib.context import CryptContext


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
        return await asyncio.to_thread(lambda: str(_context(self._rounds).hash(password)))

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """With no hash (unknown email) it still pays for one verify, so timing tells nothing."""
        target = password_hash or _dummy_hash(self._rounds)
        ok = await asyncio.to_thread(_context(self._rounds).verify, password, target)
        return bool(ok) and password_hash is not None
