"""The one way code outside ``data_access.db`` opens the database: :func:`connect` to read, :func:`begin`
to write in one transaction (and :func:`data_access.db.retry.write_transaction` for writers that must
wait their turn beside other writers).

Both are thin: the engine (:mod:`data_access.db.engine`) already carries the connect and statement
timeouts. What they add is the contract callers rely on: a database error leaves as one of the
project's errors with a Chinese/English message — :class:`DatabaseUnavailableError` for an outage
(the wall keeps its last good figures, pages wait), :class:`DataConflictError` for a constraint the
write broke, :class:`DatabaseError` otherwise — never as a driver exception whose text quotes the
statement's parameters (a password hash, a token).

They also trace: a statement slower than the ``DB_SLOW_QUERY_MS`` setting (0 = off) is logged as a
warning on the ``data_access.db.slow`` logger with its duration and its first line — never its
parameters. The hooks sit on the engine, so statements of a connection opened here are all timed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event
from sqlalchemy import exc as sa_exc

from common import settings
from data_access.db.engine import unavailable
from data_access.errors import DataAccessError, DatabaseError, DataConflictError


def translate(exc: BaseException) -> DataAccessError:
    """The project's error for a database error ``exc`` (its first line only: no SQL, no parameters)."""
    if isinstance(exc, DataAccessError):
        return exc
    if (outage := unavailable(exc)) is not None:
        return outage
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0][:200] if str(orig).strip() else type(orig).__name__
    if isinstance(exc, sa_exc.IntegrityError):
        return DataConflictError(f"数据冲突（记录已存在或违反约束）/ conflict: {first}")
    return DatabaseError(f"数据库错误 / database error: {first}")


slow_log = logging.getLogger("data_access.db.slow")


def _started(_conn, _cursor, _statement, _parameters, context, _executemany) -> None:
    if context is not None:
        context._slow_t0 = time.perf_counter() if settings.get("DB_SLOW_QUERY_MS") else None


def _finished(_conn, _cursor, statement, _parameters, context, _executemany) -> None:
    t0 = getattr(context, "_slow_t0", None)
    if t0 is None:
        return
    ms = (time.perf_counter() - t0) * 1000
    if ms >= settings.get("DB_SLOW_QUERY_MS"):
        first = next((line.strip() for line in statement.splitlines() if line.strip()), "")
        slow_log.warning("slow query %.0f ms: %s", ms, first[:200])


def trace(engine: Engine) -> None:
    """Time every statement on ``engine`` (once per engine; see the module docstring)."""
    if not event.contains(engine, "after_cursor_execute", _finished):
        event.listen(engine, "before_cursor_execute", _started)
        event.listen(engine, "after_cursor_execute", _finished)


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """A pooled connection for reading (autobegin; rolled back when the block ends)."""
    trace(engine)
    try:
        with engine.connect() as conn:
            yield conn
    except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
        raise translate(exc) from exc


@contextmanager
def begin(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction: committed when the block ends, rolled back on an error."""
    trace(engine)
    try:
        with engine.begin() as conn:
            yield conn
    except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
        raise translate(exc) from exc
