"""Signing secrets sealed at rest: they open only with the same key, purpose and row."""

from __future__ import annotations

import pytest

from app.domain.secret_box import SealedSecretUnreadable, seal, unseal

KEY = "server-secret-key-for-tests-0123456789"


def test_a_sealed_secret_opens_to_itself_and_hides_it() -> None:
    sealed = seal(KEY, "webhook", "whsec_abc", b"row-1")
    assert "whsec_abc" not in sealed
    assert sealed != seal(KEY, "webhook", "whsec_abc", b"row-1")  # a fresh nonce each time
    assert unseal(KEY, "webhook", sealed, b"row-1") == "whsec_abc"


@pytest.mark.parametrize(
    ("key", "purpose", "row"),
    [("another-key", "webhook", b"row-1"), (KEY, "other", b"row-1"), (KEY, "webhook", b"row-2")],
)
def test_it_does_not_open_under_another_key_purpose_or_row(
    key: str, purpose: str, row: bytes
) -> None:
    sealed = seal(KEY, "webhook", "whsec_abc", b"row-1")
    with pytest.raises(SealedSecretUnreadable):
        unseal(key, purpose, sealed, row)


def test_altered_or_unknown_values_are_refused() -> None:
    sealed = seal(KEY, "webhook", "whsec_abc", b"row-1")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    for bad in (flipped, "v2." + sealed[3:], "v1.not-base64!", "garbage"):
        with pytest.raises(SealedSecretUnreadable):
            unseal(KEY, "webhook", bad, b"row-1")
