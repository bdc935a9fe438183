"""SQL expressions that differ between SQLite and PostgreSQL, compiled per dialect."""

from __future__ import annotations

from sqlalchemy import String
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
