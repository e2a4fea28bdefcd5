"""Secrets the service must read back (webhook signing secrets), sealed at rest with AES-GCM.

Unlike API keys, a signing secret cannot be stored as a hash: every delivery needs it. Sealing
it with a key derived from `secret_key` keeps a leaked database dump from leaking the secrets.
The row id is bound in as associated data, so a sealed value copied onto another row fails.

`v2.<key id>.<nonce+ciphertext>`: sealed under the purpose's HKDF key of the root named by the
key id (app.domain.keyring), so it opens after a rotation while the old root is kept. `v1.`
values (before the keyring) were sealed under `HMAC(secret_key, "reframer/<label>")`; they
still open under any root of the ring, and `is_current` tells the re-sealing command to
rewrite them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.domain.keyring import Keyring, Purpose

_VERSION = "v2"
_LEGACY_VERSION = "v1"
_NONCE_BYTES = 12


class SealedSecretUnreadable(ValueError):
    """The value was sealed under another key or for another row, or was altered."""


def _legacy_key(secret_key: str, label: str) -> bytes:
    return hmac.new(secret_key.encode(), f"reframer/{label}".encode(), hashlib.sha256).digest()


def seal(keyring: Keyring, purpose: Purpose, plaintext: str, associated_data: bytes) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    key = keyring.key(keyring.current, purpose)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), associated_data)
    body = base64.urlsafe_b64encode(nonce + sealed).decode()
    return f"{_VERSION}.{keyring.current.key_id}.{body}"


def is_current(keyring: Keyring, sealed: str) -> bool:
    """Whether `sealed` was sealed under the ring's current key (nothing to re-seal)."""
    return sealed.startswith(f"{_VERSION}.{keyring.current.key_id}.")


def unseal(
    keyring: Keyring,
    purpose: Purpose,
    sealed: str,
    associated_data: bytes,
    *,
    legacy_label: str | None = None,
) -> str:
    version, _, rest = sealed.partition(".")
    if version == _VERSION:
        wanted, _, body = rest.partition(".")
        root = keyring.root(wanted)
        if root is None:
            raise SealedSecretUnreadable(f"sealed under key {wanted!r}, which is not in the ring")
        return _open(keyring.key(root, purpose), body, associated_data)
    if version == _LEGACY_VERSION and legacy_label is not None:
        for root in keyring.roots:
            try:
                return _open(_legacy_key(root.secret, legacy_label), rest, associated_data)
            except SealedSecretUnreadable:
                continue
        raise SealedSecretUnreadable("the sealed secret does not open with any key of the ring")
    raise SealedSecretUnreadable(f"unknown sealing version {version!r}")


def _open(key: bytes, body: str, associated_data: bytes) -> str:
    try:
        raw = base64.urlsafe_b64decode(body)
        plaintext = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated_data)
    except (InvalidTag, ValueError) as exc:
        raise SealedSecretUnreadable("the sealed secret does not open with this key") from exc
    return plaintext.decode()
