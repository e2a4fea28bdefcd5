"""Field types every request schema shares: what both databases can store, refused with a
422 at the edge instead of a 500 from PostgreSQL (which takes no NUL in text and nothing
past 2^31 - 1 in an `integer` column) or a silent truncation."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

# Names, descriptions, anything shown on one line: no control characters at all.
SingleLineText = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$")]
# What our own reporters send (a pipeline's error, a delivery failure): any text but NUL,
# so a traceback with escape codes is still recorded rather than refused.
StorableText = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
# Header values we pass on or store as keys (idempotency keys): visible ASCII, no spaces.
PRINTABLE_ASCII_PATTERN = r"^[\x21-\x7e]+$"

INT32_MAX = 2**31 - 1
# A count or duration kept in an `integer` column.
Int32 = Annotated[int, Field(le=INT32_MAX)]
