"""Standard Webhooks signing, checked against the official library."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from contracts.webhook_signing import (
    ROTATION_OVERLAP,
    SECRET_BYTES,
    active_secrets,
    new_webhook_secret,
    secret_key_bytes,
    sign,
    signing_headers,
)

PAYLOAD = '{"id":"e1","type":"job.succeeded","data":{"név":"ünïcode"}}'.encode()


def test_secrets_are_whsec_prefixed_random_base64() -> None:
    first, second = new_webhook_secret(), new_webhook_secret()
    assert first.startswith("whsec_")
    assert first != second
    assert len(secret_key_bytes(first)) == SECRET_BYTES
    with pytest.raises(ValueError, match="whsec_"):
        secret_key_bytes("sk_" + first[6:])
    with pytest.raises(ValueError, match="empty"):
        secret_key_bytes("whsec_")


def test_our_signature_is_the_official_librarys() -> None:
    secret = new_webhook_secret()
    now = datetime.now(UTC)
    expected = Webhook(secret).sign("msg_1", now, PAYLOAD.decode())
    assert sign(secret, "msg_1", int(now.timestamp()), PAYLOAD) == expected


def test_headers_verify_with_the_official_library_for_every_secret_in_use() -> None:
    current, previous, stranger = (new_webhook_secret() for _ in range(3))
    timestamp = int(datetime.now(UTC).timestamp())
    headers = signing_headers([current, previous], "evt_42", timestamp, PAYLOAD).as_dict()
    assert headers["webhook-id"] == "evt_42"
    assert headers["webhook-timestamp"] == str(timestamp)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (current, previous):
        assert Webhook(secret).verify(PAYLOAD, headers)["type"] == "job.succeeded"
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(PAYLOAD, headers)
    tampered = PAYLOAD.replace(b"succeeded", b"failed")
    with pytest.raises(WebhookVerificationError):
        Webhook(current).verify(tampered, headers)


def test_the_signature_is_the_documented_hmac() -> None:
    # https://www.standardwebhooks.com/ : base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))
    import hashlib
    import hmac

    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    digest = hmac.new(b"k" * 32, b"m.1700000000." + PAYLOAD, hashlib.sha256).digest()
    assert sign(secret, "m", 1_700_000_000, PAYLOAD) == "v1," + base64.b64encode(digest).decode()


def test_the_previous_secret_signs_only_until_it_expires() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    expires = now + ROTATION_OVERLAP
    assert timedelta(hours=24) == ROTATION_OVERLAP
    assert active_secrets("new", "old", expires, now) == ["new", "old"]
    assert active_secrets("new", "old", expires, expires - timedelta(seconds=1)) == ["new", "old"]
    assert active_secrets("new", "old", expires, expires) == ["new"]
    assert active_secrets("new", None, None, now) == ["new"]


def test_signing_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        signing_headers([], "m", 1, PAYLOAD)
