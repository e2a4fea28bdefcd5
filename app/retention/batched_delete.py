"""Deleting many rows without long locks: a bounded number of small batches, each its own
transaction (`DELETE ... WHERE id IN (SELECT id ... LIMIT n)`).

A round takes at most `MAX_BATCHES_PER_ROUND` batches, so a backlog (the first run on an old
database) is worked off over several rounds. On PostgreSQL a batch skips rows another replica
is deleting (`FOR UPDATE SKIP LOCKED`); deleting a row twice is harmless.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import IdMixin

MAX_BATCHES_PER_ROUND = 20


def round_was_full(deleted: int, batch_size: int) -> bool:
    """Whether a round stopped at its bound, so more rows may be waiting for the next one."""
    return deleted >= batch_size * MAX_BATCHES_PER_ROUND


async def delete_in_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    model: type[IdMixin],
    condition: ColumnElement[bool],
    batch_size: int,
) -> int:
    """Deletes the rows of `model` matching `condition`, `batch_size` rows a transaction, at
    most `MAX_BATCHES_PER_ROUND` batches; the rest waits for the next round. Counts the rows
    deleted."""
    deleted = 0
    for _ in range(MAX_BATCHES_PER_ROUND):
        doomed = (
            select(model.id)
            .where(condition)
            .limit(batch_size)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
            .correlate(None)  # the subquery reads the table itself, not the DELETE's row
        )
        async with sessionmaker() as session:
            result = await session.execute(
                delete(model)
                .where(model.id.in_(doomed))
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        count = int(result.rowcount)  # type: ignore[attr-defined]
        deleted += count
        if count < batch_size:
            break
    return deleted
