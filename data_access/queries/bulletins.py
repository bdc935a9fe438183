"""The 通报 archive: record generated bulletins, list and fetch them within the caller's scope.

Also :func:`month_completeness`, the one place that decides whether a month's data was complete
when its bulletin was made (today: the newest event against the month's end; later: each source's
own freshness).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, func, insert, select

from data_access.db.connection import begin, connect
from data_access.db.schema import bulletins, events
from data_access.errors import InvalidParameterError
from data_access.filters import Period, Scope, Unit, _apply_scope

# Data whose newest event is older than this before the month's end counts as late: a working
# district reports events every hour, so half a day without any is a source that has not delivered.
LATE_AFTER = timedelta(hours=12)

COLUMNS = ["id", "unit_code", "unit_name", "level", "period", "generated_at", "generated_by", "pdf_path",
           "xlsx_path", "incomplete"]


def month_completeness(engine: Engine, period: Period, *, as_of: datetime) -> str | None:
    """Why ``period``'s data is incomplete at ``as_of`` (a Chinese sentence), or None when complete.

    Incomplete when the period has not ended at ``as_of``, or when the newest event reported lies
    more than :data:`LATE_AFTER` before the period's end (a source late).
    """
    if as_of < period.end_dt:
        return f"本月尚未结束（截至 {as_of:%Y-%m-%d %H:%M}），数据不完整"
    with connect(engine) as conn:
        last = conn.execute(select(func.max(events.c.reported_at)).where(
            events.c.reported_at < period.end_dt)).scalar()
    if last is None:
        return "本月无任何事件数据，数据来源可能未送达"
    last = pd.Timestamp(last).to_pydatetime()
    if period.end_dt - last > LATE_AFTER:
        return f"数据来源迟报：最新事件上报于 {last:%Y-%m-%d %H:%M}，早于月末，本月数据可能不完整"
    return None


def record(engine: Engine, unit: Unit, period: Period, *, generated_at: datetime, generated_by: str,
           pdf_path: str | None, xlsx_path: str | None, incomplete: str | None) -> int:
    """Add one generated bulletin to the archive; returns its id."""
    row = {"unit_code": unit.code, "unit_name": unit.name, "period": period.token,
           "generated_at": generated_at.replace(microsecond=0), "generated_by": generated_by[:100],
           "pdf_path": pdf_path, "xlsx_path": xlsx_path, "incomplete": (incomplete or None) and incomplete[:300],
           **{f"l{lv}_code": unit.ancestors[lv] for lv in range(5)}}
    with begin(engine) as conn:
        return int(conn.execute(insert(bulletins).values(**row)).inserted_primary_key[0])


def _level():
    """The bulletin unit's level, from which ancestor column holds its own code."""
    from sqlalchemy import case
    return case(*[(bulletins.c[f"l{lv}_code"] == bulletins.c.unit_code, lv) for lv in range(5)], else_=0)


def archive(engine: Engine, scope: Scope, limit: int = 500) -> pd.DataFrame:
    """Past bulletins ``scope`` may see, newest first.

    Columns: id, unit_code, unit_name, level, period, generated_at, generated_by, pdf_path, xlsx_path,
    incomplete (None when the month's data was complete).
    """
    q = _apply_scope(select(bulletins.c.id, bulletins.c.unit_code, bulletins.c.unit_name, _level().label("level"),
                            bulletins.c.period, bulletins.c.generated_at, bulletins.c.generated_by,
                            bulletins.c.pdf_path, bulletins.c.xlsx_path, bulletins.c.incomplete),
                     bulletins, scope)
    q = q.order_by(bulletins.c.period.desc(), bulletins.c.generated_at.desc(), bulletins.c.id).limit(int(limit))
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=COLUMNS)


def get(engine: Engine, scope: Scope, bulletin_id: int) -> dict:
    """One archived bulletin ``scope`` may see (InvalidParameterError if absent or outside ``scope``)."""
    q = _apply_scope(select(bulletins).where(bulletins.c.id == int(bulletin_id)), bulletins, scope)
    with connect(engine) as conn:
        row = conn.execute(q).mappings().first()
    if row is None:  # absent or foreign: the caller learns nothing about other units' bulletins
        raise InvalidParameterError(f"通报不存在或无权查看 / no such bulletin in your scope: {bulletin_id}")
    return dict(row)


def archive_periods(engine: Engine) -> set[str]:
    """Periods with at least one archived bulletin (what the scheduler has already done)."""
    with connect(engine) as conn:
        return {r[0] for r in conn.execute(select(bulletins.c.period).distinct())}


def read_file(engine: Engine, scope: Scope, bulletin_id: int, fmt: str) -> tuple[str, bytes]:
    """The file name and bytes of an archived bulletin ``scope`` may see; ``fmt`` 'pdf' or 'excel'.

    InvalidParameterError when the bulletin is not in ``scope``, the format is unknown or the file has
    gone from the disk.
    """
    if fmt not in ("pdf", "excel"):
        raise InvalidParameterError(f"format must be pdf or excel, not {fmt!r}")
    row = get(engine, scope, bulletin_id)
    path = row["pdf_path" if fmt == "pdf" else "xlsx_path"]
    try:
        with open(path, "rb") as fh:
            return os.path.basename(path), fh.read()
    except (OSError, TypeError) as exc:
        raise InvalidParameterError(f"通报文件已不存在 / bulletin file missing: {os.path.basename(str(path))}") from exc
