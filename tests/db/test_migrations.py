"""The Alembic chain and the models agree, and the chain goes up and down on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.models import Base
from tests.support import migrations


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
    await engine.dispose()


async def test_downgrade_to_base_and_back_to_head(database_url: str) -> None:
    engine = create_async_engine(database_url)
    await migrations.downgrade(database_url, "base")
    async with engine.connect() as connection:
        assert await connection.run_sync(_tables) == set()
    await migrations.upgrade(database_url, "head")
    async with engine.connect() as connection:
        assert await connection.run_sync(_tables) == set(Base.metadata.tables)
        assert await connection.run_sync(_differences) == []
    await engine.dispose()
