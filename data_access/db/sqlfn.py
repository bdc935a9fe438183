"""SQL expressions that differ between SQLite and PostgreSQL, compiled per dialect."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import ColumnElement, Connection, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


def _date_format(name: str, sqlite_fmt: str, pg_fmt: str) -> type[FunctionElement]:
    """A one-argument SQL function formatting a timestamp as text: strftime on SQLite, to_char on PostgreSQL."""
    cls = type(name, (FunctionElement,), {"type": String(), "inherit_cache": True, "name": name})

    @compiles(cls, "sqlite")
    def _sqlite(element, compiler, **kw):
        # '%' must be doubled only for DB-API drivers that use format/pyformat parameters
        fmt = sqlite_fmt.replace("%", "%%") if compiler.dialect.paramstyle in ("format", "pyformat") else sqlite_fmt
        return f"strftime('{fmt}', {compiler.process(element.clauses, **kw)})"

    @compiles(cls, "postgresql")
    def _pg(element, compiler, **kw):
        return f"to_char({compiler.process(element.clauses, **kw)}, '{pg_fmt}')"

    return cls


month_of = _date_format("month_of", "%Y-%m", "YYYY-MM")  # 'YYYY-MM' of a timestamp or date


SQLITE_CHUNK = 500  # values per IN list on SQLite (well below its limit of bound parameters)


def among(conn: Connection, column, values: Sequence) -> ColumnElement[bool]:
    """``column IN values``: on PostgreSQL ``column = ANY(:array)``, one parameter.

    An IN list of 500 ids is 500 bound parameters that SQLAlchemy renders and psycopg re-parses on
    every execution (≈ 3 ms of Python a query); the array is one value whatever its length, and the
    planner still uses the column's index. Use with :func:`chunks` (SQLite's IN lists stay short).
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def chunks(conn: Connection, values: Sequence) -> Iterator[Sequence]:
    """``values`` in pieces for :func:`among`: all at once on PostgreSQL, :data:`SQLITE_CHUNK` at a time
    elsewhere; nothing for an empty sequence."""
    size = len(values) if conn.dialect.name == "postgresql" else SQLITE_CHUNK
    for i in range(0, len(values), max(size, 1)):
        yield values[i:i + size]
