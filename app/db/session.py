"""The async engine and session factory, configured per database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    # A pooled connection may have died with a database restart or fail-over: pinged at
    # checkout, a dead one is replaced before the request meets it.
    kwargs: dict[str, Any] = {"echo": settings.database_echo, "pool_pre_ping": True}
    if settings.is_sqlite:
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_size"] = settings.database_pool_size
        kwargs["max_overflow"] = settings.database_pool_size
        # While the database is away, fail fast (503) instead of holding requests:
        # a connection attempt, and the wait for a pooled connection, are both bounded.
        kwargs["pool_timeout"] = settings.database_pool_timeout_seconds
        kwargs["connect_args"] = {"timeout": settings.database_connect_timeout_seconds}
    engine = create_async_engine(settings.database_url, **kwargs)
    if settings.is_sqlite:
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers and the outbox relay work while a request writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
