"""Keys derived from `secret_key`, one per purpose, and the older secret keys kept for reading.

Each purpose gets its own key through HKDF-SHA256 (RFC 5869) with a label of its own, so a
value made for one purpose (an API key's hash, a sealed webhook secret) is useless for any
other, and no derived key is something `HMAC(secret_key, token)` could also produce. Every
root secret has a key id (a short digest of a key derived for naming alone): sealed values
carry it, so the right key opens them after a rotation.

Rotation: the new secret becomes `secret_key`, the old one moves to `previous_secret_keys`.
New values are made with the new key; values made with an old key still verify (a stored
hash is looked up under every key in the ring) until the old key is dropped. Hashes and
sealed values made before derived keys existed (`HMAC(secret_key, token)`, sealing v1) are
still recognised: the ring offers their legacy form too.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALT = b"reframer/keyring/v1"
KEY_BYTES = 32
KEY_ID_HEX_CHARS = 12


class Purpose(StrEnum):
    API_KEY = "api-key"
    REFRESH_TOKEN = "refresh-token"  # noqa: S105 - a derivation label, not a secret
    EMAIL_TOKEN = "email-token"  # noqa: S105
    CALLBACK_TOKEN = "callback-token"  # noqa: S105
    WEBHOOK_SECRET_SEAL = "webhook-secret-seal"  # noqa: S105
    LOGIN_THROTTLE = "login-throttle"


_KEY_ID_LABEL = "key-id"


def derive(secret_key: str, label: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=SALT, info=f"reframer/{label}".encode()
    ).derive(secret_key.encode())


def key_id(secret_key: str) -> str:
    return derive(secret_key, _KEY_ID_LABEL).hex()[:KEY_ID_HEX_CHARS]


def _hmac_hex(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class RootKey:
    secret: str
    key_id: str


class Keyring:
    def __init__(self, current: str, previous: tuple[str, ...] = ()) -> None:
        self.current = RootKey(current, key_id(current))
        self.previous = tuple(RootKey(p, key_id(p)) for p in previous if p != current)
        self._derived: dict[tuple[str, Purpose], bytes] = {}

    @property
    def roots(self) -> tuple[RootKey, ...]:
        return (self.current, *self.previous)

    def key(self, root: RootKey, purpose: Purpose) -> bytes:
        cached = self._derived.get((root.key_id, purpose))
        if cached is None:
            cached = self._derived[(root.key_id, purpose)] = derive(root.secret, purpose.value)
        return cached

    def root(self, wanted_key_id: str) -> RootKey | None:
        return next((r for r in self.roots if r.key_id == wanted_key_id), None)

    def hash(self, purpose: Purpose, token: str) -> str:
        """The keyed hash a new value is stored as: HMAC-SHA256 under the purpose's key."""
        return _hmac_hex(self.key(self.current, purpose), token)

    def candidate_hashes(self, purpose: Purpose, token: str) -> list[str]:
        """Every hash `token` may be stored as: under each key of the ring, newest first, then
        the legacy form (a plain HMAC under the root secret) of values stored before."""
        derived = [_hmac_hex(self.key(root, purpose), token) for root in self.roots]
        legacy = [_hmac_hex(root.secret.encode(), token) for root in self.roots]
        return derived + legacy
