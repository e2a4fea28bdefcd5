"""The async engine and session factory, configured per database."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings

# SQLAlchemy's `pool_pre_ping` pings at every checkout, which on asyncpg is three round trips
# (BEGIN, an empty query, ROLLBACK): more than a primary-key read's own. A connection checked
# in moments ago is known to work; one idle longer may have been dropped (a database restart,
# a fail-over, a NAT timeout), so it is pinged first. One that breaks while in use fails with a
# disconnect error (503), and SQLAlchemy then replaces every connection in the pool.
PING_IF_IDLE_SECONDS = 1.0
IDLE_SINCE = "reframer_idle_since"


def create_engine(settings: Settings) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": settings.database_echo}
    if settings.is_sqlite:
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_size"] = settings.database_pool_size
        # Overflow connections are opened for one request and closed after it: under sustained
        # load that is a connect (and SSL negotiation) every few requests, costlier than
        # waiting a moment for a pooled connection. So the pool is fixed unless asked.
        kwargs["max_overflow"] = settings.database_max_overflow
        # While the database is away, fail fast (503) instead of holding requests:
        # a connection attempt, and the wait for a pooled connection, are both bounded.
        kwargs["pool_timeout"] = settings.database_pool_timeout_seconds
        kwargs["connect_args"] = {"timeout": settings.database_connect_timeout_seconds}
    engine = create_async_engine(settings.database_url, **kwargs)
    if settings.is_sqlite:
        _tune_sqlite(engine)
    else:
        _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_IF_IDLE_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError("pooled connection failed its ping") from exc


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


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read: each statement runs on its own (autocommit),
    without the BEGIN and ROLLBACK around it, two round trips that cost a primary-key read
    more than its query. A single statement still writes atomically; work that needs several
    statements to commit together, or one snapshot, belongs in a `create_sessionmaker` session."""
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


async def release_connection(session: AsyncSession) -> None:
    """Ends the session's transaction, so its pooled connection is free while the caller waits
    on slow work that needs no database (bcrypt). What it loaded stays usable (the
    sessionmakers keep objects unexpired on commit); its next statement begins anew."""
    await session.commit()
