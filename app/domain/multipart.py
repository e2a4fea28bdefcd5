"""Pure rules of an S3 multipart upload: how a source is cut into parts."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.plans import GIB, MIB

# S3's own limits: every part but the last at least 5 MiB, at most 5 GiB, at most 10,000 parts.
S3_MIN_PART_BYTES = 5 * MIB
S3_MAX_PART_BYTES = 5 * GIB
S3_MAX_PARTS = 10_000


@dataclass(frozen=True, slots=True)
class PartLayout:
    """A source of `size_bytes` in parts of `part_size_bytes`, numbered from 1; the last
    part holds what remains."""

    size_bytes: int
    part_size_bytes: int

    @property
    def part_count(self) -> int:
        return -(-self.size_bytes // self.part_size_bytes)

    def has_part(self, part_number: int) -> bool:
        return 1 <= part_number <= self.part_count

    def part_bytes(self, part_number: int) -> int:
        """The exact length part `part_number` must have."""
        if not self.has_part(part_number):
            raise ValueError(f"part {part_number} is outside 1..{self.part_count}")
        if part_number < self.part_count:
            return self.part_size_bytes
        return self.size_bytes - self.part_size_bytes * (self.part_count - 1)


def layout_for(size_bytes: int, min_part_bytes: int) -> PartLayout:
    """The smallest part size of at least `min_part_bytes`, in whole MiB, that keeps the
    upload within S3's 10,000 parts."""
    if size_bytes <= 0:
        raise ValueError("a multipart upload needs at least one byte")
    needed = -(-size_bytes // S3_MAX_PARTS)
    part = max(min_part_bytes, S3_MIN_PART_BYTES, needed)
    part = -(-part // MIB) * MIB
    if part > S3_MAX_PART_BYTES:
        raise ValueError(f"{size_bytes} bytes do not fit in {S3_MAX_PARTS} parts")
    return PartLayout(size_bytes=size_bytes, part_size_bytes=part)
