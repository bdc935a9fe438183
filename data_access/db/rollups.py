"""Event rollups: pre-aggregated counts for units of levels 0–2, kept current by month slices.

Grain: unit (levels 0–2) × month × category × source × whistle, with reported, closed and
closed_late. Open-past-deadline counts depend on the clock, so they are never stored: they
are counted live over the (few) open events. :func:`rebuild` recomputes everything;
:func:`refresh` recomputes the (district, month) slices that a batch of changed events
touches — call it in the same transaction as the writes (simulator, importers).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, and_, case, delete, func, insert, or_, select, tuple_

from data_access.db.schema import event_rollup, events
from data_access.db.sqlfn import month_of
from data_access.filters import Period, Scope, Unit

ROLLUP_LEVELS = (0, 1, 2)


def period_months(period: Period) -> list[str] | None:
    """The 'YYYY-MM' months that make up ``period``, or None if it is not whole months."""
    if period.start.day != 1 or period.end.day != 1:
        return None
    return list(pd.period_range(period.start, period.end - timedelta(days=1), freq="M").strftime("%Y-%m"))


def usable(scope: Scope, unit: Unit, period: Period, group_level: int | None = None) -> list[str] | None:
    """Months to read from the rollup when it can answer for (scope, unit, period), else None."""
    lvl = unit.level if group_level is None else group_level
    if lvl > max(ROLLUP_LEVELS) or (not scope.is_all and scope.level > max(ROLLUP_LEVELS)):
        return None
    return period_months(period)


_KEYS = ["month", "category", "source", "whistle"]
_COUNTS = ["reported", "closed", "closed_late"]
_COLS = ["unit_code", "month", "category", "source", "whistle", "level", "l0_code", "l1_code", "l2_code", "l3_code",
         "l4_code", *_COUNTS]


def _fine_counts(conn: Connection, where=None) -> pd.DataFrame:
    """One scan of ``events``: counts per (l0_code, l1_code, l2_code, month, category, source, whistle).

    Columns: those keys (codes may be None above level 2 of an event's unit), reported, closed,
    closed_late (int). Every rollup level is a sum over these rows, so events are read once.
    """
    closed = func.sum(case((events.c.status == "closed", 1), else_=0))
    late = func.sum(case((events.c.closed_at > events.c.deadline, 1), else_=0))
    keys = [events.c.l0_code, events.c.l1_code, events.c.l2_code, month_of(events.c.reported_at),
            events.c.category, events.c.source, events.c.whistle]
    q = select(*keys, func.count(), closed, late)
    if where is not None:
        q = q.where(where)
    rows = conn.execute(q.group_by(*keys)).all()
    return pd.DataFrame(rows, columns=["l0_code", "l1_code", "l2_code", *_KEYS, *_COUNTS])


def _rollup_rows(fine: pd.DataFrame) -> list[dict]:
    """Rows of ``event_rollup`` for every level in :data:`ROLLUP_LEVELS` from :func:`_fine_counts`."""
    out: list[dict] = []
    for lv in ROLLUP_LEVELS:
        anc = [f"l{i}_code" for i in range(lv + 1)]
        part = fine[fine[f"l{lv}_code"].notna()]
        if part.empty:
            continue
        g = part.groupby(anc + _KEYS, as_index=False)[_COUNTS].sum()
        g = g.assign(unit_code=g[f"l{lv}_code"], level=lv, **{f"l{i}_code": None for i in range(lv + 1, 5)})
        out += g[_COLS].astype(object).to_dict("records")  # object: plain Python ints for both drivers
    return out


def _insert_rollup(conn: Connection, where=None) -> None:
    rows = _rollup_rows(_fine_counts(conn, where))
    if rows:
        conn.execute(insert(event_rollup), rows)


def rebuild(conn: Connection) -> int:
    """Recompute the whole rollup; returns its row count."""
    conn.execute(delete(event_rollup))
    _insert_rollup(conn)
    return conn.execute(select(func.count()).select_from(event_rollup)).scalar_one()


def slices_of(conn: Connection, ids: Iterable[str]) -> set[tuple[str, str]]:
    """(l0_code, month) slices the given event ids belong to."""
    ids = list(ids)
    out: set[tuple[str, str]] = set()
    for i in range(0, len(ids), 500):
        q = select(events.c.l0_code, month_of(events.c.reported_at)).where(events.c.id.in_(ids[i : i + 500]))
        out |= {(a, m) for a, m in conn.execute(q.distinct())}
    return out


def refresh(conn: Connection, slices: Iterable[tuple[str, str]]) -> None:
    """Recompute the rollup rows of the given (district l0_code, 'YYYY-MM') slices."""
    slices = sorted(set(slices))
    if not slices:
        return
    in_slice = or_(*[and_(event_rollup.c.l0_code == a, event_rollup.c.month == m) for a, m in slices])
    conn.execute(delete(event_rollup).where(in_slice))
    ev_slice = or_(*[and_(events.c.l0_code == a, events.c.reported_at >= _month_start(m),
                          events.c.reported_at < _month_start(m, 1)) for a, m in slices])
    _insert_rollup(conn, ev_slice)


def refresh_for_events(conn: Connection, ids: Iterable[str], extra: Iterable[tuple[str, str]] = ()) -> None:
    """Refresh the slices of the given events (after insert/update in the same transaction)."""
    refresh(conn, slices_of(conn, ids) | set(extra))


def _month_start(m: str, add: int = 0) -> datetime:
    """Midnight of the first day of month ``m`` ('YYYY-MM') plus ``add`` months."""
    return (pd.Period(m, freq="M") + add).start_time.to_pydatetime()


def rebuild_engine(engine: Engine) -> int:
    with engine.begin() as conn:
        return rebuild(conn)


__all__ = ["period_months", "usable", "rebuild", "refresh", "refresh_for_events", "slices_of", "tuple_"]
