"""Shared importer pieces: column aliases, the rejects file, the summary, upserts on both engines."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, DateTime, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from common.spreadsheet import csv_cell
from data_access.errors import DataAccessError


class ImportFileError(DataAccessError):
    """The file could not be read at all (nothing was imported)."""


def pick_columns(columns, aliases: dict[str, list[str]], required: list[str]) -> dict[str, str]:
    """Map our names to the file's headers (English or Chinese, case-insensitive); raise on missing ones."""
    norm = {str(c).strip().lower(): c for c in columns}
    out = {}
    for key, names in aliases.items():
        for n in names:
            if n.lower() in norm:
                out[key] = norm[n.lower()]
                break
    missing = [k for k in required if k not in out]
    if missing:
        want = "、".join("/".join(aliases[k]) for k in missing)
        raise ImportFileError(f"缺少必需的列 / missing columns: {want}")
    return out


@dataclass
class Result:
    """Row accounting of one import: read = imported + rejected."""

    read: int = 0
    imported: int = 0
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (row number, key, reason)
    warnings: list[tuple[int, str, str]] = field(default_factory=list)

    def reject(self, row: int, key: str, reason: str) -> None:
        self.rejects.append((row, key, reason))

    def summary(self, rejects_file: str | None) -> dict:
        return {"read": self.read, "imported": self.imported, "rejected": len(self.rejects),
                "warnings": len(self.warnings), "rejects_file": rejects_file}


def write_rejects(result: Result, path: str | Path | None, source: str) -> str | None:
    """Write rejected rows and warnings to ``path`` (default: next to the source file).

    Keys and reasons quote the imported file, so formula-like text is neutralised
    (:func:`common.spreadsheet.csv_cell`) before a clerk opens the CSV in Excel.
    """
    if not result.rejects and not result.warnings:
        return None
    path = Path(path) if path else Path(source).with_suffix(Path(source).suffix + ".rejects.csv")
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["行号", "编码/编号", "结果", "原因"])
        for row, key, reason in sorted(result.rejects):
            w.writerow([csv_cell(v) for v in (row, key, "拒绝", reason)])
        for row, key, reason in sorted(result.warnings):
            w.writerow([csv_cell(v) for v in (row, key, "警告(已导入)", reason)])
    return str(path)


def warnings_path(rejects: str | Path | None, source: str | Path) -> Path:
    """Where the warnings go: beside the rejects file (``r.csv`` → ``r.warnings.csv``), or beside the
    source file (``<file>.warnings.csv``) when no rejects file was named."""
    if rejects:
        r = Path(rejects)
        return r.with_name(f"{r.stem}.warnings{r.suffix or '.csv'}")
    return Path(source).with_suffix(Path(source).suffix + ".warnings.csv")


def write_warnings(result: Result, path: str | Path) -> str | None:
    """Write the imported-with-a-warning rows of ``result`` to ``path`` (UTF-8 with BOM, opens in Excel);
    None when there are none."""
    if not result.warnings:
        return None
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["行号", "编码/编号", "结果", "说明"])
        for row, key, reason in sorted(result.warnings):
            w.writerow([csv_cell(v) for v in (row, key, "已导入(警告)", reason)])
    return str(path)


def upsert(conn: Connection, table: Table, rows: list[dict], key: str) -> None:
    """Insert or update by primary key ``key`` on SQLite and PostgreSQL."""
    if not rows:
        return
    ins = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(table)
    cols = {c: ins.excluded[c] for c in rows[0] if c != key}
    stmt = ins.on_conflict_do_update(index_elements=[key], set_=cols)
    if conn.dialect.name == "sqlite":
        _sqlite_executemany(conn, table, stmt, rows)
    else:
        conn.execute(stmt, rows)


def _sqlite_executemany(conn: Connection, table: Table, stmt, rows: list[dict]) -> None:
    """The same statement, compiled once and run as a DB-API executemany of plain tuples.

    SQLAlchemy's per-row parameter processing (a Python call per datetime value) was half the
    import time of a 1 M-row file; datetimes are written here in SQLAlchemy's own SQLite storage
    format, so rows read back identically through the ``DateTime`` type.
    """
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    names = list(compiled.positiontup)
    dt = {c.name for c in table.c if isinstance(c.type, DateTime)}
    cols = []
    for n in names:
        vals = [r[n] for r in rows]
        if n in dt:  # naive datetimes: isoformat gives 'YYYY-MM-DD HH:MM:SS.ffffff', SQLAlchemy's format
            vals = [None if v is None else v.isoformat(" ", "microseconds") for v in vals]
        cols.append(vals)
    params = list(zip(*cols))
    conn.exec_driver_sql(compiled.string, params)
