"""Tells a lost or unreachable database apart from every other database error.

A connection-level failure (the server stopped, restarting, refusing connections, out of
connection slots, the pool exhausted, a local SQLite file locked past its busy timeout) is the
caller's cue to retry shortly: the API answers it with 503. Everything else (a constraint
violated, a bad query) is a bug or a conflict and keeps its own answer.
"""

from __future__ import annotations

import errno
import sqlite3

import asyncpg
from sqlalchemy import exc as sa_exc

# asyncpg: SQLSTATE class 08 (connection exception), 57 (operator intervention: shutting down,
# starting up) and 53 (insufficient resources: too many connections); and the client's own
# protocol state left broken by a connection that died mid-operation.
_ASYNCPG_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.InternalClientError,
)
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)


# Everything a stopped or restarting database can raise into a request: SQLAlchemy's wrappers,
# asyncpg's own errors at connect time, and the socket's.
DATABASE_ERROR_TYPES: tuple[type[Exception], ...] = (
    sa_exc.SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)


def _is_network_failure(error: BaseException) -> bool:
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    # asyncpg reports a host with several addresses as one OSError ("Multiple exceptions").
    return isinstance(error, OSError) and (
        error.errno in _NETWORK_ERRNOS or str(error).startswith("Multiple exceptions")
    )


def _causes(error: BaseException) -> list[BaseException]:
    """The error, the driver's error SQLAlchemy wrapped, and what each was raised from."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        wrapped = getattr(current, "orig", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__
        if current in chain:
            current = chain[-1].__cause__
    return chain


def is_database_unavailable(error: BaseException) -> bool:
    for cause in _causes(error):
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, sa_exc.TimeoutError):  # no pooled connection came free in time
            return True
        if isinstance(cause, _ASYNCPG_UNAVAILABLE) or _is_network_failure(cause):
            return True
        if _is_sqlite_busy(cause):
            return True
    return False


def _is_sqlite_busy(error: BaseException) -> bool:
    # The local database: a writer held the file past the busy timeout; a retry gets through.
    return isinstance(error, sqlite3.OperationalError) and str(error).startswith(
        ("database is locked", "database table is locked")
    )
