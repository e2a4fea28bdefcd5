"""How a source is cut into parts: S3's limits hold for every size a plan accepts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.multipart import S3_MAX_PARTS, S3_MIN_PART_BYTES, layout_for
from app.domain.plans import GIB, MIB

BOUNDED = settings(max_examples=200, derandomize=True, deadline=None, database=None)


def test_a_7_gib_source_goes_in_896_parts_of_8_mib() -> None:
    layout = layout_for(7 * GIB, 8 * MIB)
    assert (layout.part_size_bytes, layout.part_count) == (8 * MIB, 896)
    assert layout.part_bytes(896) == 8 * MIB


def test_the_last_part_holds_the_remainder() -> None:
    layout = layout_for(17 * MIB + 5, 8 * MIB)
    assert layout.part_count == 3
    assert [layout.part_bytes(n) for n in (1, 2, 3)] == [8 * MIB, 8 * MIB, MIB + 5]
    with pytest.raises(ValueError, match=r"part 4 is outside 1\.\.3"):
        layout.part_bytes(4)
    assert not layout.has_part(0)


def test_parts_grow_past_the_minimum_only_when_10000_would_not_do() -> None:
    layout = layout_for(100 * GIB, 8 * MIB)
    assert layout.part_size_bytes == 11 * MIB  # 100 GiB / 10,000 = 10.24 MiB, in whole MiB
    assert layout.part_count <= S3_MAX_PARTS


@BOUNDED
@given(
    size=st.integers(min_value=1, max_value=200 * GIB),
    minimum=st.integers(min_value=S3_MIN_PART_BYTES, max_value=64 * MIB),
)
def test_every_layout_fits_s3_and_adds_up_to_the_source(size: int, minimum: int) -> None:
    layout = layout_for(size, minimum)
    assert layout.part_size_bytes >= minimum
    assert layout.part_size_bytes % MIB == 0
    assert 1 <= layout.part_count <= S3_MAX_PARTS
    last = layout.part_bytes(layout.part_count)
    assert 0 < last <= layout.part_size_bytes
    assert layout.part_size_bytes * (layout.part_count - 1) + last == size
