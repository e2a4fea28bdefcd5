"""Secrets the service must read back (webhook signing secrets), sealed at rest with AES-GCM.

Unlike API keys, a signing secret cannot be stored as a hash: every delivery needs it. Sealing
it with a key derived from `secret_key` keeps a leaked database dump from leaking the secrets.
The row id is bound in as associated data, so a sealed value copied onto another row fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"
_NONCE_BYTES = 12


class SealedSecretUnreadable(ValueError):
    """The value was sealed under another key or for another row, or was altered."""


def _key(secret_key: str, purpose: str) -> bytes:
    # One derived key per purpose: a sealed webhook secret is useless as anything else.
    return hmac.new(secret_key.encode(), f"reframer/{purpose}".encode(), hashlib.sha256).digest()


def seal(secret_key: str, purpose: str, plaintext: str, associated_data: bytes) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(secret_key, purpose)).encrypt(nonce, plaintext.encode(), associated_data)
    return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(secret_key: str, purpose: str, sealed: str, associated_data: bytes) -> str:
    version, _, body = sealed.partition(".")
    if version != _VERSION:
        raise SealedSecretUnreadable(f"unknown sealing version {version!r}")
    try:
        raw = base64.urlsafe_b64decode(body)
        plaintext = AESGCM(_key(secret_key, purpose)).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated_data
        )
    except (InvalidTag, ValueError) as exc:
        raise SealedSecretUnreadable("the sealed secret does not open with this key") from exc
    return plaintext.decode()
