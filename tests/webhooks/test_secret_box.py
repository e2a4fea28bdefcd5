"""Signing secrets sealed at rest: they open only with a key of the ring, the same purpose and
the same row; values sealed before the keyring (v1) still open."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.domain.keyring import Keyring, Purpose
from app.domain.secret_box import SealedSecretUnreadable, is_current, seal, unseal

KEY = "server-secret-key-for-tests-0123456789"
NEXT_KEY = "next-server-secret-key-for-tests-0123456789"
RING = Keyring(KEY)
PURPOSE = Purpose.WEBHOOK_SECRET_SEAL


def test_a_sealed_secret_opens_to_itself_and_hides_it() -> None:
    sealed = seal(RING, PURPOSE, "whsec_abc", b"row-1")
    assert "whsec_abc" not in sealed
    assert sealed.startswith(f"v2.{RING.current.key_id}.")
    assert sealed != seal(RING, PURPOSE, "whsec_abc", b"row-1")  # a fresh nonce each time
    assert unseal(RING, PURPOSE, sealed, b"row-1") == "whsec_abc"


@pytest.mark.parametrize(
    ("ring", "purpose", "row"),
    [
        (Keyring(NEXT_KEY), PURPOSE, b"row-1"),
        (RING, Purpose.API_KEY, b"row-1"),
        (RING, PURPOSE, b"row-2"),
    ],
)
def test_it_does_not_open_under_another_key_purpose_or_row(
    ring: Keyring, purpose: Purpose, row: bytes
) -> None:
    sealed = seal(RING, PURPOSE, "whsec_abc", b"row-1")
    with pytest.raises(SealedSecretUnreadable):
        unseal(ring, purpose, sealed, row)


def test_after_a_rotation_it_opens_while_the_old_key_is_kept() -> None:
    sealed = seal(RING, PURPOSE, "whsec_abc", b"row-1")
    rotating = Keyring(NEXT_KEY, (KEY,))
    assert unseal(rotating, PURPOSE, sealed, b"row-1") == "whsec_abc"
    assert not is_current(rotating, sealed)
    assert is_current(rotating, seal(rotating, PURPOSE, "whsec_abc", b"row-1"))


def test_values_sealed_before_the_keyring_still_open() -> None:
    legacy_key = hmac.new(KEY.encode(), b"reframer/webhook-signing-secret", hashlib.sha256)
    nonce = os.urandom(12)
    body = AESGCM(legacy_key.digest()).encrypt(nonce, b"whsec_old", b"row-1")
    sealed = "v1." + base64.urlsafe_b64encode(nonce + body).decode()
    label = "webhook-signing-secret"
    assert unseal(RING, PURPOSE, sealed, b"row-1", legacy_label=label) == "whsec_old"
    assert not is_current(RING, sealed)


def test_altered_or_unknown_values_are_refused() -> None:
    sealed = seal(RING, PURPOSE, "whsec_abc", b"row-1")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    for bad in (flipped, "v2.unknownkeyid." + sealed[-20:], "v1.not-base64!", "garbage"):
        with pytest.raises(SealedSecretUnreadable):
            unseal(RING, PURPOSE, bad, b"row-1", legacy_label="webhook-signing-secret")
