"""Properties of the webhook signer, for any payload, secret, id and timestamp: what is signed
verifies, and any change to what was signed does not."""

from __future__ import annotations

import base64
import hmac
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from contracts import webhook_signing
from contracts.webhook_signing import (
    DEFAULT_TOLERANCE,
    SECRET_PREFIX,
    parse_signature_header,
    signature_header,
    signing_headers,
    verify,
)

BOUNDED = settings(max_examples=100, derandomize=True, deadline=None, database=None)
TOLERANCE_SECONDS = int(DEFAULT_TOLERANCE.total_seconds())
SHIFTS = st.integers(-TOLERANCE_SECONDS, TOLERANCE_SECONDS)
HEADER_FORMAT = re.compile(r"^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$")

secrets = st.binary(min_size=1, max_size=64).map(
    lambda key: SECRET_PREFIX + base64.b64encode(key).decode()
)
payloads = st.binary(max_size=2048)
# Event ids are UUIDs in practice; the spec allows any id without the separator's ambiguity.
message_ids = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="."),
    min_size=1,
    max_size=64,
)
timestamps = st.integers(min_value=0, max_value=2**33)


def at(timestamp: int, offset_seconds: float = 0) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC) + timedelta(seconds=offset_seconds)


@BOUNDED
@given(secrets, message_ids, timestamps, payloads)
def test_what_is_signed_verifies(secret: str, message_id: str, timestamp: int, payload: bytes):
    headers = signing_headers([secret], message_id, timestamp, payload).as_dict()
    assert verify(secret, headers, payload, at(timestamp))


@BOUNDED
@given(secrets, message_ids, timestamps, payloads, payloads)
def test_any_other_body_fails(
    secret: str, message_id: str, timestamp: int, payload: bytes, other: bytes
):
    assume(other != payload)
    headers = signing_headers([secret], message_id, timestamp, payload).as_dict()
    assert not verify(secret, headers, other, at(timestamp))


@BOUNDED
@given(
    secrets, message_ids, timestamps, payloads, st.integers(-TOLERANCE_SECONDS, TOLERANCE_SECONDS)
)
def test_a_changed_timestamp_fails_even_within_the_tolerance(
    secret: str, message_id: str, timestamp: int, payload: bytes, shift: int
):
    assume(shift != 0 and timestamp + shift >= 0)
    headers = signing_headers([secret], message_id, timestamp, payload).as_dict()
    headers["webhook-timestamp"] = str(timestamp + shift)
    assert not verify(secret, headers, payload, at(timestamp))


@BOUNDED
@given(secrets, message_ids, message_ids, timestamps, payloads)
def test_a_changed_id_fails(
    secret: str, message_id: str, other_id: str, timestamp: int, payload: bytes
):
    assume(other_id != message_id)
    headers = signing_headers([secret], message_id, timestamp, payload).as_dict()
    headers["webhook-id"] = other_id
    assert not verify(secret, headers, payload, at(timestamp))


@BOUNDED
@given(secrets, secrets, message_ids, timestamps, payloads)
def test_another_secret_fails(
    secret: str, other: str, message_id: str, timestamp: int, payload: bytes
):
    assume(webhook_signing.secret_key_bytes(other) != webhook_signing.secret_key_bytes(secret))
    headers = signing_headers([secret], message_id, timestamp, payload).as_dict()
    assert not verify(other, headers, payload, at(timestamp))


@BOUNDED
@given(
    secrets,
    message_ids,
    timestamps,
    payloads,
    st.floats(min_value=0, max_value=TOLERANCE_SECONDS),
    st.floats(min_value=TOLERANCE_SECONDS + 0.001, max_value=10 * 365 * 86400),
    st.sampled_from([-1, 1]),
)
def test_only_deliveries_within_the_tolerance_verify(
    secret: str,
    message_id: str,
    timestamp: int,
    payload: bytes,
    inside: float,
    outside: float,
    direction: int,
):
    """Too old (a replay) or too far in the future fails; anything within the window passes."""
    headers = signing_headers([secret], message_id, timestamp, payload).as_dict()
    assert verify(secret, headers, payload, at(timestamp, direction * inside))
    assert not verify(secret, headers, payload, at(timestamp, direction * outside))


@BOUNDED
@given(secrets, secrets, secrets, message_ids, timestamps, payloads)
def test_during_a_rotation_either_secret_verifies_and_no_third_does(
    current: str, previous: str, stranger: str, message_id: str, timestamp: int, payload: bytes
):
    keys = {webhook_signing.secret_key_bytes(s) for s in (current, previous, stranger)}
    assume(len(keys) == 3)
    headers = signing_headers([current, previous], message_id, timestamp, payload).as_dict()
    assert verify(current, headers, payload, at(timestamp))
    assert verify(previous, headers, payload, at(timestamp))
    assert not verify(stranger, headers, payload, at(timestamp))


@BOUNDED
@given(st.lists(secrets, min_size=1, max_size=4), message_ids, timestamps, payloads)
def test_the_signature_header_parses_back_to_one_v1_digest_per_secret(
    secrets_in_use: list[str], message_id: str, timestamp: int, payload: bytes
):
    header = signature_header(secrets_in_use, message_id, timestamp, payload)
    assert HEADER_FORMAT.match(header)
    parsed = parse_signature_header(header)
    assert [version for version, _ in parsed] == ["v1"] * len(secrets_in_use)
    assert all(len(digest) == 32 for _, digest in parsed)
    assert [f"v1,{base64.b64encode(d).decode()}" for _, d in parsed] == header.split(" ")


@BOUNDED
@given(
    secrets,
    message_ids,
    st.dictionaries(st.text(max_size=8), st.text(max_size=16) | st.integers(), max_size=4),
)
def test_the_official_library_accepts_what_we_sign(
    secret: str, message_id: str, data: dict[str, object]
):
    """Our verifier is no closed loop: the Standard Webhooks library agrees, on any JSON."""
    payload = json.dumps({"type": "job.succeeded", "data": data}).encode()
    timestamp = int(datetime.now(UTC).timestamp())
    headers = signing_headers([secret], message_id, timestamp, payload).as_dict()
    assert Webhook(secret).verify(payload, headers)["data"] == data


def test_signatures_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain `==` would leak, through timing, how much of a forged signature is right."""
    compared: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest  # the real one, before the patch

    def recording_compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(webhook_signing.hmac, "compare_digest", recording_compare_digest)
    secret = SECRET_PREFIX + base64.b64encode(b"k" * 32).decode()
    headers = signing_headers([secret], "evt_1", 1_700_000_000, b"{}").as_dict()
    assert verify(secret, headers, b"{}", at(1_700_000_000))
    assert len(compared) == 1
