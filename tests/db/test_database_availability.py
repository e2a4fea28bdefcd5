"""Only a lost or unreachable database counts as "unavailable" (503); constraint violations
and bad queries keep their own answers."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from app.db.availability import is_database_unavailable


def wrapped(
    error: Exception, kind: type[sa_exc.DBAPIError] = sa_exc.DBAPIError, **kw: bool
) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises it: the driver's error as `orig`, and as the cause."""
    try:
        try:
            raise error
        except Exception as driver_error:
            raise kind("SELECT 1", None, driver_error, **kw) from driver_error
    except sa_exc.DBAPIError as raised:
        return raised


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
        OSError("Multiple exceptions: [Errno 111] Connect call failed"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        wrapped(asyncpg.ConnectionDoesNotExistError("closed"), sa_exc.InterfaceError),
        wrapped(asyncpg.InternalClientError("cannot switch to state 12"), sa_exc.InternalError),
        wrapped(RuntimeError("gone"), connection_invalidated=True),
        wrapped(sqlite3.OperationalError("database is locked"), sa_exc.OperationalError),
    ],
    ids=repr,
)
def test_connection_level_failures_are_unavailability(error: Exception) -> None:
    assert is_database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        wrapped(asyncpg.UniqueViolationError("duplicate key"), sa_exc.IntegrityError),
        wrapped(asyncpg.UndefinedTableError('no relation "x"'), sa_exc.ProgrammingError),
        wrapped(sqlite3.OperationalError("no such table: x"), sa_exc.OperationalError),
        sa_exc.InvalidRequestError("This session is in 'prepared' state"),
        FileNotFoundError(2, "No such file or directory"),
        ValueError("not a database error at all"),
    ],
    ids=repr,
)
def test_other_errors_are_not(error: Exception) -> None:
    assert not is_database_unavailable(error)
