"""Keys derived per purpose from the secret key (HKDF), named by key ids, rotating with the
old secret kept for reading."""

from __future__ import annotations

import hashlib
import hmac

from app.domain.keyring import Keyring, Purpose, derive, key_id

OLD = "old-secret-key-for-tests-0123456789abcdef"
NEW = "new-secret-key-for-tests-0123456789abcdef"


def test_each_purpose_has_its_own_key_none_a_plain_hmac_could_produce() -> None:
    keys = {derive(NEW, purpose.value) for purpose in Purpose}
    assert len(keys) == len(Purpose)
    # What the sealing key used to be, and what a keyed hash of its label would give.
    legacy = hmac.new(NEW.encode(), b"reframer/webhook-signing-secret", hashlib.sha256).digest()
    assert legacy not in keys
    ring = Keyring(NEW)
    hashes = {ring.hash(purpose, "same-token") for purpose in Purpose}
    assert len(hashes) == len(Purpose)  # a value made for one purpose fits no other


def test_key_ids_name_the_root_and_differ_between_roots() -> None:
    assert key_id(NEW) == key_id(NEW)
    assert key_id(NEW) != key_id(OLD)
    assert NEW not in key_id(NEW)
    ring = Keyring(NEW, (OLD,))
    assert ring.root(key_id(OLD)) is not None
    assert ring.root("unknown") is None


def test_after_a_rotation_old_hashes_are_still_candidates_until_the_old_key_goes() -> None:
    made_before = Keyring(OLD).hash(Purpose.API_KEY, "rk_live_x")
    rotating = Keyring(NEW, (OLD,))
    assert rotating.hash(Purpose.API_KEY, "rk_live_x") != made_before
    assert made_before in rotating.candidate_hashes(Purpose.API_KEY, "rk_live_x")
    assert made_before not in Keyring(NEW).candidate_hashes(Purpose.API_KEY, "rk_live_x")


def test_hashes_stored_before_the_keyring_are_still_recognised() -> None:
    legacy = hmac.new(NEW.encode(), b"refresh", hashlib.sha256).hexdigest()
    assert legacy in Keyring(NEW).candidate_hashes(Purpose.REFRESH_TOKEN, "refresh")
