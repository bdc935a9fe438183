"""The data version: one number in the ``meta`` table that every writing transaction increments.

Caches above data_access (the component edge, the rendered wall parts) key their answers by
:func:`data_version` instead of expiring them after a TTL: an import, a simulator tick, the ingest
API or a sync that commits new data bumps the version inside its own transaction, so every cached
figure of the old version is simply no longer asked for, and a wall's next refresh computes the new
figures once for all the walls showing the same view.

Writers call :func:`bump_data_version` with their connection, as the last statement before commit
(:func:`data_access.db.retry.write_transaction` does it for every writer that goes through it): the
row lock PostgreSQL takes on the ``meta`` row is then held only for the commit, so two writers do
not queue behind each other for the whole of an import. Readers see the new number only once the
data is committed with it (same transaction), never before.

A fresh database starts at a random number (:func:`initial_data_version`), so a database rebuilt
under the same URL never repeats the version of the one it replaced.
"""

from __future__ import annotations

import secrets

from sqlalchemy import BigInteger, Connection, Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from data_access.db.connection import connect
from data_access.db.schema import meta

KEY = "data_version"


def initial_data_version() -> str:
    """A starting value for a new database (random, so rebuilt databases do not reuse versions)."""
    return str(secrets.randbits(40))


# value is text (meta holds any key): incremented in SQL, so two writers never write the same number
_BUMP = (update(meta).where(meta.c.key == KEY)
         .values(value=(meta.c.value.cast(BigInteger()) + 1).cast(meta.c.value.type)))


def bump_data_version(conn: Connection) -> None:
    """Increment the data version inside the caller's (writing) transaction: one statement when the
    row exists (every write transaction ends with this)."""
    if conn.execute(_BUMP.returning(meta.c.value)).first() is None:  # never written through a writer yet
        ins = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(meta)
        conn.execute(ins.values(key=KEY, value=initial_data_version()).on_conflict_do_nothing(index_elements=["key"]))
        conn.execute(_BUMP)


def data_version(engine: Engine) -> str:
    """The current data version (a text of digits; "0" for a database that was never written through a writer)."""
    with connect(engine) as conn:
        return conn.execute(select(meta.c.value).where(meta.c.key == KEY)).scalar() or "0"


__all__ = ["bump_data_version", "data_version", "initial_data_version"]
