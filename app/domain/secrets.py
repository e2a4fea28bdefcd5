"""Opaque secrets (refresh tokens, API keys, callback tokens): random, stored as keyed hashes
under a key derived for their purpose (app.domain.keyring)."""

from __future__ import annotations

import hmac
import secrets
import string
import zlib

_BASE62 = string.digits + string.ascii_letters

API_KEY_PREFIX = "rk_live_"
API_KEY_RANDOM_CHARS = 32  # 62**32 ≈ 2**190
API_KEY_CHECKSUM_CHARS = 6
API_KEY_LENGTH = len(API_KEY_PREFIX) + API_KEY_RANDOM_CHARS + API_KEY_CHECKSUM_CHARS


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        chars.append(_BASE62[rem])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), API_KEY_CHECKSUM_CHARS)


def new_api_key() -> str:
    """`rk_live_` + 32 random base62 characters + a 6-character CRC32 checksum."""
    body = "".join(secrets.choice(_BASE62) for _ in range(API_KEY_RANDOM_CHARS))
    return API_KEY_PREFIX + body + _checksum(body)


def looks_like_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def api_key_is_well_formed(key: str) -> bool:
    """Rejects typos and truncations without a database lookup."""
    if len(key) != API_KEY_LENGTH or not key.startswith(API_KEY_PREFIX):
        return False
    body = key[len(API_KEY_PREFIX) : -API_KEY_CHECKSUM_CHARS]
    if any(c not in _BASE62 for c in body):
        return False
    return hmac.compare_digest(key[-API_KEY_CHECKSUM_CHARS:], _checksum(body))


def api_key_display_prefix(key: str) -> str:
    return key[: len(API_KEY_PREFIX) + 4]
