"""Field types of the contract's messages: what both databases can store, refused at the
edge (PostgreSQL takes no NUL in text and nothing past 2^31 - 1 in an `integer` column)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

# What our own reporters send (a pipeline's error, a delivery failure): any text but NUL,
# so a traceback with escape codes is still recorded rather than refused.
StorableText = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]

INT32_MAX = 2**31 - 1
# A count or duration kept in an `integer` column.
Int32 = Annotated[int, Field(le=INT32_MAX)]
