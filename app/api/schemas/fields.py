"""Field types every request schema shares: what both databases can store, refused with a
422 at the edge instead of a 500 from PostgreSQL (which takes no NUL in text and nothing
past 2^31 - 1 in an `integer` column) or a silent truncation."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

# Re-exported: the contract's messages use them too.
from contracts.fields import INT32_MAX as INT32_MAX
from contracts.fields import Int32 as Int32
from contracts.fields import StorableText as StorableText

# Names, descriptions, anything shown on one line: no control characters at all.
SingleLineText = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$")]
# Header values we pass on or store as keys (idempotency keys): visible ASCII, no spaces.
PRINTABLE_ASCII_PATTERN = r"^[\x21-\x7e]+$"
