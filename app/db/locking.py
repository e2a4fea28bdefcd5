"""Row locks that hold on both databases.

PostgreSQL: `SELECT ... FOR UPDATE`. SQLite ignores FOR UPDATE, and its driver opens a
transaction only at the first write, so a read-then-write could act on a stale row. There,
a no-op UPDATE of the row first takes the database's single write lock; every read after it
in the transaction is then serialised with all other writers.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import Base

ModelT = TypeVar("ModelT", bound=Base)


async def select_for_update(
    session: AsyncSession, model: type[ModelT], *criteria: Any
) -> ModelT | None:
    """The one row matching `criteria`, locked until the transaction ends; None if absent."""
    if session.get_bind().dialect.name == "sqlite":
        # Every column assigned to itself that would otherwise change (an `onupdate` stamp).
        columns = [c for c in inspect(model).columns if c.primary_key or c.onupdate is not None]
        await session.execute(
            update(model)
            .where(*criteria)
            .values({c: c for c in columns})
            .execution_options(synchronize_session=False)
        )
    result = await session.execute(
        select(model).where(*criteria).with_for_update().execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()
