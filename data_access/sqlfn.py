"""SQL expressions that differ between SQLite and PostgreSQL, compiled per dialect."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class month_of(FunctionElement):
    """``'YYYY-MM'`` of a timestamp or date column."""

    type = String()
    inherit_cache = True
    name = "month_of"


@compiles(month_of, "sqlite")
def _month_sqlite(element, compiler, **kw):
    fmt = "%%Y-%%m" if compiler.dialect.paramstyle in ("format", "pyformat") else "%Y-%m"
    return f"strftime('{fmt}', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_pg(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


class day_of(FunctionElement):
    """``'YYYY-MM-DD'`` of a timestamp column."""

    type = String()
    inherit_cache = True
    name = "day_of"


@compiles(day_of, "sqlite")
def _day_sqlite(element, compiler, **kw):
    fmt = "%%Y-%%m-%%d" if compiler.dialect.paramstyle in ("format", "pyformat") else "%Y-%m-%d"
    return f"strftime('{fmt}', {compiler.process(element.clauses, **kw)})"


@compiles(day_of, "postgresql")
def _day_pg(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"
