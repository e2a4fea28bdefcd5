"""Standard Webhooks signing (https://www.standardwebhooks.com/): secrets, signatures, and
the receiving side's check of them.

Pure and stdlib-only: the webhook_delivery Lambda imports it as well as the API.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker, not a secret
SECRET_BYTES = 32
# After a rotation the previous secret keeps signing alongside the new one for this long,
# so receivers can switch secrets without dropping a single event.
ROTATION_OVERLAP = timedelta(hours=24)
SIGNATURE_VERSION = "v1"
# How far a receiver lets `webhook-timestamp` stray from its clock (the spec's suggestion):
# a captured delivery cannot be replayed later.
DEFAULT_TOLERANCE = timedelta(minutes=5)


def new_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key inside a `whsec_` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secret: str, message_id: str, timestamp: int, payload: bytes) -> str:
    """One `v1,<base64 HMAC-SHA256>` signature of `{id}.{timestamp}.{payload}`."""
    signed = f"{message_id}.{timestamp}.".encode() + payload
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_use: list[str], message_id: str, timestamp: int, payload: bytes
) -> str:
    """The `webhook-signature` value: one signature per active secret, space-separated."""
    if not secrets_in_use:
        raise ValueError("at least one secret is needed to sign")
    return " ".join(sign(s, message_id, timestamp, payload) for s in secrets_in_use)


@dataclass(frozen=True)
class SigningHeaders:
    webhook_id: str
    webhook_timestamp: str
    webhook_signature: str

    def as_dict(self) -> dict[str, str]:
        return {
            "webhook-id": self.webhook_id,
            "webhook-timestamp": self.webhook_timestamp,
            "webhook-signature": self.webhook_signature,
        }


def signing_headers(
    secrets_in_use: list[str], message_id: str, timestamp: int, payload: bytes
) -> SigningHeaders:
    return SigningHeaders(
        webhook_id=message_id,
        webhook_timestamp=str(timestamp),
        webhook_signature=signature_header(secrets_in_use, message_id, timestamp, payload),
    )


def active_secrets(
    current: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    """The secrets that sign right now: the current one first, the previous one until expiry."""
    if previous is not None and previous_expires_at is not None and now < previous_expires_at:
        return [current, previous]
    return [current]


def parse_signature_header(header: str) -> list[tuple[str, bytes]]:
    """`v1,<base64> v1,<base64>` -> [(version, signature bytes)]; malformed entries are left out."""
    parsed = []
    for entry in header.split(" "):
        version, comma, encoded = entry.partition(",")
        if not comma:
            continue
        try:
            parsed.append((version, base64.b64decode(encoded, validate=True)))
        except binascii.Error:
            continue
    return parsed


def verify(
    secret: str,
    headers: Mapping[str, str],
    payload: bytes,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> bool:
    """A receiver's check: the headers carry a v1 signature of `payload` by `secret`, made
    within `tolerance` of `now`. Any Standard Webhooks library does the same."""
    message_id = headers.get("webhook-id", "")
    timestamp_text = headers.get("webhook-timestamp", "")
    if not message_id or not timestamp_text.isascii() or not timestamp_text.isdigit():
        return False
    timestamp = int(timestamp_text)
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    expected = base64.b64decode(sign(secret, message_id, timestamp, payload).partition(",")[2])
    # Constant time: how much of a guess matched must not show in how long the check takes.
    return any(
        version == SIGNATURE_VERSION and hmac.compare_digest(expected, presented)
        for version, presented in parse_signature_header(headers.get("webhook-signature", ""))
    )
