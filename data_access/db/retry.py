"""Write transactions that wait their turn: lock, serialization and deadlock errors are retried.

Concurrent writers (two imports, an import beside the simulator, an admin re-mapping labels) meet
differently on the two engines:

* SQLite has one writer at a time. A second writer waits ``busy_timeout`` and then fails with
  "database is locked". :func:`write_transaction` starts with ``BEGIN IMMEDIATE``, so a writer
  takes the write lock before doing any work (it never fails half-way, when a read would have to be
  upgraded to a write) and, if the lock stays busy, starts again after a pause. Writers of one
  process first queue on a lock of their own (:func:`_turn`): SQLite's busy handler polls with
  growing sleeps, so four API clients posting at once wrote fewer events per second than one.
* PostgreSQL lets writers run side by side; row locks can deadlock (40P01), a lock can time out
  (55P03) or a stricter isolation level can refuse a commit (40001). PostgreSQL aborts one of the
  transactions, which is then run again from the start.

The unit of work is a function of the connection, so it can be run again from the start; it must not
keep state from a failed attempt (the importer re-reads its file).
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from data_access.db.engine import lift_timeouts, timeout_s
from data_access.db.version import bump_data_version
from data_access.errors import DataAccessError

T = TypeVar("T")
log = logging.getLogger(__name__)

ATTEMPTS = 10
FIRST_DELAY_S = 0.2
MAX_DELAY_S = 5.0
_PG_TRANSIENT = {"40001", "40P01", "55P03"}  # serialization failure, deadlock detected, lock not available


class DatabaseBusyError(DataAccessError):
    """Other writers kept the database busy through every attempt."""

    def __init__(self, attempts: int, cause: BaseException):
        super().__init__(f"数据库繁忙（其他写入正在进行），重试 {attempts} 次仍未成功，请稍后再试 / "
                         f"database busy after {attempts} attempts: {str(getattr(cause, 'orig', cause))[:120]}")


def is_transient(exc: BaseException) -> bool:
    """True for errors that go away when the transaction is simply run again later."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in _PG_TRANSIENT:
        return True
    if isinstance(orig, sqlite3.OperationalError):
        msg = str(orig).lower()
        return "locked" in msg or "busy" in msg
    return False


def begin_write(conn: Connection) -> None:
    """Take SQLite's write lock now (``BEGIN IMMEDIATE``); nothing to do on PostgreSQL."""
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.dbapi_connection
    if not dbapi.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_SQLITE_WRITERS: dict[str, threading.RLock] = {}  # database URL → this process's writers' queue


@contextmanager
def _turn(engine: Engine) -> Iterator[None]:
    """On SQLite, wait (at most ``DB_BUSY_TIMEOUT_S``) until no other writer of this process is writing;
    after that the writer goes on and SQLite's own busy handling decides, as for other processes'
    writers. Reentrant (a writer inside a writer's thread). Nothing to do on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        yield
        return
    lock = _SQLITE_WRITERS.setdefault(str(engine.url), threading.RLock())
    got = lock.acquire(timeout=timeout_s("DB_BUSY_TIMEOUT_S"))
    try:
        yield
    finally:
        if got:
            lock.release()


def write_transaction(engine: Engine, work: Callable[[Connection], T], *, long: bool = False,
                      attempts: int = ATTEMPTS, first_delay_s: float = FIRST_DELAY_S,
                      max_delay_s: float = MAX_DELAY_S, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``work(conn)`` in one write transaction; on a transient error roll back, wait and run it again.

    ``long=True`` lifts the statement timeout for this transaction (:func:`~data_access.db.engine.lift_timeouts`):
    an import may legitimately run for minutes or wait for another import's slice lock.

    Waits grow from ``first_delay_s`` to ``max_delay_s`` (doubling, ±50 % jitter so that two writers do
    not collide again). Raises :class:`DatabaseBusyError` after ``attempts`` failures; any other error
    is raised at once. Every successful transaction bumps the data version
    (:func:`~data_access.db.version.bump_data_version`): a writer through here is a data writer.
    """
    for attempt in range(1, attempts + 1):
        try:
            with _turn(engine), engine.begin() as conn:
                begin_write(conn)
                if long:
                    lift_timeouts(conn)
                result = work(conn)
                bump_data_version(conn)  # last, so the meta row lock is held only for the commit
                return result
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts:
                raise DatabaseBusyError(attempts, exc) from exc
            delay = min(max_delay_s, first_delay_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
            log.info("write attempt %d/%d: %s; again in %.1f s", attempt, attempts,
                     str(getattr(exc, "orig", exc)).splitlines()[0], delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
