"""Standard Webhooks signing (https://www.standardwebhooks.com/): secrets and signatures.

Pure and stdlib-only: the webhook_delivery Lambda imports it as well as the API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker, not a secret
SECRET_BYTES = 32
# After a rotation the previous secret keeps signing alongside the new one for this long,
# so receivers can switch secrets without dropping a single event.
ROTATION_OVERLAP = timedelta(hours=24)


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
