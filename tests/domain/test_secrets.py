"""API key format and keyed hashing, the pure part of credentials."""

from __future__ import annotations

from app.domain.ids import new_id
from app.domain.secrets import (
    API_KEY_LENGTH,
    api_key_is_well_formed,
    new_api_key,
)


def test_new_keys_are_well_formed_and_distinct() -> None:
    keys = {new_api_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(len(k) == API_KEY_LENGTH and api_key_is_well_formed(k) for k in keys)


def test_any_single_character_change_breaks_the_checksum() -> None:
    key = new_api_key()
    for position in range(len("rk_live_"), len(key)):
        replacement = "0" if key[position] != "0" else "1"
        assert not api_key_is_well_formed(key[:position] + replacement + key[position + 1 :])
    assert not api_key_is_well_formed(key[:-1])
    assert not api_key_is_well_formed(key + "x")


def test_ids_are_version_7_and_sort_by_creation() -> None:
    ids = [new_id() for _ in range(50)]
    assert all(i.version == 7 for i in ids)
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)
