"""Event metrics of the closed loop (上报 → 派单 → 处置 → 核查 → 办结).

Definitions used everywhere (overview, map, pages, PDF):

* **reported**: events whose ``reported_at`` falls in the period (a cohort);
* **closed**: of those, the ones with status ``closed`` (办结) as of now;
* **closure_rate** (办结率) = closed / reported, ``NaN`` when nothing was reported;
* **overdue** (超期): of the cohort, events closed after their deadline or still open
  past it at ``as_of``; **overdue_open** (超期未办结): the still-open part of that;
* **key** (重点哨): events with whistle level ``key``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, and_, case, func, or_, select

from data_access import vocab
from data_access.db import rollups
from data_access.db.connection import connect
from data_access.db.schema import event_rollup, events, units
from data_access.filters import EventFilter, Period, Scope, Unit, _apply_event_filter, _apply_scope

KPI_KEYS = ("reported", "closed", "closure_rate", "overdue", "overdue_open", "key")


def _sum(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def open_overdue(as_of: datetime):
    """The condition of an event still open past its deadline at ``as_of`` (超期未办结)."""
    return and_(events.c.closed_at.is_(None), events.c.deadline < as_of)


def open_due(as_of: datetime, due_by: datetime):
    """The condition of an open event not yet overdue at ``as_of`` whose deadline is at ``due_by`` or before."""
    return and_(events.c.closed_at.is_(None), events.c.deadline >= as_of, events.c.deadline <= due_by)


def _kpi_columns(as_of: datetime):
    is_closed = events.c.status == "closed"
    overdue_open = open_overdue(as_of)
    overdue = or_(overdue_open, events.c.closed_at > events.c.deadline)
    return [
        func.count().label("reported"),
        _sum(is_closed).label("closed"),
        _sum(overdue).label("overdue"),
        _sum(overdue_open).label("overdue_open"),
        _sum(events.c.whistle == "key").label("key"),
    ]


def _period_query(cols, scope: Scope, unit: Unit, period: Period, flt: EventFilter | None):
    q = select(*cols).where(events.c.reported_at >= period.start_dt, events.c.reported_at < period.end_dt)
    return _apply_event_filter(_apply_scope(q, events, scope, unit), events, flt)


def _with_rate(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("reported", "closed", "overdue", "overdue_open", "key"):
        if col in df:
            df[col] = df[col].astype("int64")
    df["closure_rate"] = (df["closed"] / df["reported"].where(df["reported"] > 0)).astype(float)
    return df


def _rollup_columns():
    r = event_rollup
    return [func.coalesce(func.sum(r.c.reported), 0).label("reported"),
            func.coalesce(func.sum(r.c.closed), 0).label("closed"),
            func.coalesce(func.sum(r.c.closed_late), 0).label("closed_late"),
            func.coalesce(func.sum(case((r.c.whistle == "key", r.c.reported), else_=0)), 0).label("key")]


def _rollup_query(cols, scope: Scope, unit: Unit, months: list[str], flt: EventFilter | None, level: int):
    """Rows of the rollup at ``level`` under ``unit`` (inside ``scope``) for ``months``."""
    r = event_rollup
    q = select(*cols).where(r.c.level == level, r.c.month.in_(months))
    return _apply_event_filter(_apply_scope(q, r, scope, unit), r, flt)


def _open_overdue_query(cols, scope: Scope, unit: Unit, period: Period, flt: EventFilter | None,
                        as_of: datetime | None):
    """Events of the period still open past their deadline at ``as_of`` (all open ones when ``as_of`` is
    None). Few rows: it reads the partial index of open events."""
    q = select(*cols).where(events.c.status != "closed", events.c.closed_at.is_(None),
                            events.c.reported_at >= period.start_dt, events.c.reported_at < period.end_dt)
    if as_of is not None:
        q = q.where(events.c.deadline < as_of)
    return _apply_event_filter(_apply_scope(q, events, scope, unit), events, flt)


def event_kpis(engine: Engine, scope: Scope, unit: Unit, period: Period, flt: EventFilter | None = None, *,
               as_of: datetime, use_rollup: bool | None = None) -> dict:
    """Headline figures for ``unit`` and ``period``, overdue counted at ``as_of``.

    Returns a dict with keys reported, closed, overdue, overdue_open, key (counts, int) and
    closure_rate (0–1 float, NaN when reported is 0). Reads the rollup when it can answer
    (whole months, unit level ≤ 2) unless ``use_rollup`` is False; the figures are identical.
    """
    months = rollups.usable(scope, unit, period) if use_rollup is not False else None
    with connect(engine) as conn:
        if months:
            row = conn.execute(_rollup_query(_rollup_columns(), scope, unit, months, flt, unit.level)).mappings().one()
            open_od = conn.execute(_open_overdue_query([func.count()], scope, unit, period, flt, as_of)).scalar_one()
            out = {"reported": int(row["reported"]), "closed": int(row["closed"]), "key": int(row["key"]),
                   "overdue": int(row["closed_late"]) + int(open_od), "overdue_open": int(open_od)}
        else:
            row = conn.execute(_period_query(_kpi_columns(as_of), scope, unit, period, flt)).mappings().one()
            out = {k: int(row[k] or 0) for k in KPI_KEYS if k != "closure_rate"}
    out["closure_rate"] = out["closed"] / out["reported"] if out["reported"] else float("nan")
    return out


def _grouped(engine: Engine, scope: Scope, unit: Unit, period: Period, flt: EventFilter | None, as_of: datetime,
             raw_col, rollup_col, group_level: int, use_rollup: bool | None) -> pd.DataFrame:
    """KPI columns grouped by one key: columns grp, reported, closed, overdue, overdue_open, key."""
    cols = ["grp", "reported", "closed", "overdue", "overdue_open", "key"]
    months = rollups.usable(scope, unit, period, group_level) if use_rollup is not False else None
    with connect(engine) as conn:
        if months:
            q = _rollup_query([rollup_col.label("grp"), *_rollup_columns()], scope, unit, months, flt, group_level)
            df = pd.DataFrame(conn.execute(q.group_by(rollup_col)).all(),
                              columns=["grp", "reported", "closed", "closed_late", "key"])
            oq = _open_overdue_query([raw_col.label("grp"), func.count()], scope, unit, period, flt, as_of)
            od = dict(conn.execute(oq.group_by(raw_col)).all())
            df["overdue_open"] = df["grp"].map(od).fillna(0).astype("int64")
            df["overdue"] = df["closed_late"] + df["overdue_open"]
            return df[cols]
        q = _period_query([raw_col.label("grp"), *_kpi_columns(as_of)], scope, unit, period, flt)
        return pd.DataFrame(conn.execute(q.group_by(raw_col)).mappings().all(), columns=cols)


def closure_by(engine: Engine, scope: Scope, unit: Unit, period: Period, by: str,
               flt: EventFilter | None = None, *, as_of: datetime,
               use_rollup: bool | None = None) -> pd.DataFrame:
    """Closure figures grouped by ``by`` (``source``, ``category`` or ``whistle``).

    Columns: code, label (Chinese), reported, closed, closure_rate (0–1), overdue, overdue_open,
    key. Ordered by reported, descending.
    """
    labels = {"source": vocab.SOURCES, "category": vocab.CATEGORIES, "whistle": vocab.WHISTLES}[by]
    df = _grouped(engine, scope, unit, period, flt, as_of, events.c[by], event_rollup.c[by],
                  unit.level, use_rollup)
    df = _with_rate(df.rename(columns={"grp": "code"}))
    df.insert(1, "label", df["code"].map(labels).fillna(df["code"]))
    return df.sort_values("reported", ascending=False, ignore_index=True)


def closure_rates(engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime) -> dict:
    """Closure rate (0–1, NaN when none reported) of three streams of the period's events, from
    :func:`closure_by`: keys grid (网格员上报), app (群众APP), key (重点哨)."""
    def rate(by: str, code: str) -> float:
        df = closure_by(engine, scope, unit, period, by, as_of=as_of)
        hit = df.loc[df["code"] == code, "closure_rate"]
        return float(hit.iloc[0]) if len(hit) else float("nan")

    return {"grid": rate("source", "grid"), "app": rate("source", "app"), "key": rate("whistle", "key")}


def child_event_kpis(engine: Engine, scope: Scope, unit: Unit, period: Period,
                     flt: EventFilter | None = None, *, as_of: datetime,
                     use_rollup: bool | None = None) -> pd.DataFrame:
    """Event figures for each direct child of ``unit`` (children with no events included).

    Columns: code, name, reported, closed, closure_rate (0–1, NaN without events), overdue,
    overdue_open, key. Ordered by code. Empty for a unit at the lowest level.
    """
    cols = ["code", "name", "reported", "closed", "closure_rate", "overdue", "overdue_open", "key"]
    if unit.level >= 4:
        return pd.DataFrame(columns=cols)
    lvl = unit.level + 1
    figures = _grouped(engine, scope, unit, period, flt, as_of, events.c[f"l{lvl}_code"],
                       event_rollup.c.unit_code, lvl, use_rollup).rename(columns={"grp": "code"})
    kids = _apply_scope(select(units.c.code, units.c.name).where(units.c.parent_code == unit.code), units, scope)
    with connect(engine) as conn:
        names = pd.DataFrame(conn.execute(kids).all(), columns=["code", "name"])
    df = names.merge(figures, on="code", how="left").fillna(
        {"reported": 0, "closed": 0, "overdue": 0, "overdue_open": 0, "key": 0})
    return _with_rate(df)[cols].sort_values("code", ignore_index=True)


def event_trend(engine: Engine, scope: Scope, unit: Unit, period: Period, flt: EventFilter | None = None, *,
                as_of: datetime) -> pd.DataFrame:
    """Daily counts over ``period`` up to ``as_of`` (days still to come are left out, not
    drawn as zeros): columns day (datetime64, every day present), reported, closed (events closed that
    day, whatever their report date)."""
    day_r = func.date(events.c.reported_at)
    day_c = func.date(events.c.closed_at)
    rq = _period_query([day_r.label("day"), func.count().label("n")], scope, unit, period, flt).group_by(day_r)
    cq = select(day_c.label("day"), func.count().label("n")).where(
        events.c.closed_at >= period.start_dt, events.c.closed_at < period.end_dt)
    cq = _apply_event_filter(_apply_scope(cq, events, scope, unit), events, flt).group_by(day_c)
    with connect(engine) as conn:
        rep = pd.DataFrame(conn.execute(rq).all(), columns=["day", "reported"])
        clo = pd.DataFrame(conn.execute(cq).all(), columns=["day", "closed"])
    last = min(period.end, as_of.date() + timedelta(days=1))
    days = pd.DataFrame({"day": pd.date_range(period.start, max(last, period.start), inclusive="left")})
    for part in (rep, clo):
        part["day"] = pd.to_datetime(part["day"].astype(str))
        days = days.merge(part, on="day", how="left")
    return days.fillna(0).astype({"reported": "int64", "closed": "int64"})


def event_list(engine: Engine, scope: Scope, unit: Unit, period: Period | None = None, *, status: str = "all",
               whistle: str | None = None, flt: EventFilter | None = None, as_of: datetime,
               limit: int = 200, due_by: datetime | None = None) -> pd.DataFrame:
    """Individual events under ``unit``, newest first.

    ``status``: ``all``, ``open`` (not closed) or ``overdue_open`` (open past deadline at ``as_of``).
    ``due_by``: only open events whose deadline lies between ``as_of`` and ``due_by`` (soonest first).
    Columns: id, title, unit_code, unit_name, area_name (subdistrict + community names), category,
    category_label (with the file's own label when it was not in the vocabulary: 其他（…）), source, source_label,
    whistle, whistle_label, status, status_label, reported_at, deadline, closed_at, lon, lat.
    """
    l1, l2 = units.alias("l1"), units.alias("l2")
    q = select(
        events.c.id, events.c.title, events.c.unit_code, units.c.name.label("unit_name"),
        (func.coalesce(l1.c.name, "") + func.coalesce(l2.c.name, "")).label("area_name"), events.c.category,
        events.c.source, events.c.whistle, events.c.status, events.c.reported_at, events.c.deadline,
        events.c.closed_at, events.c.lon, events.c.lat, events.c.category_raw, events.c.source_raw,
    ).join(units, units.c.code == events.c.unit_code).outerjoin(l1, l1.c.code == events.c.l1_code).outerjoin(
        l2, l2.c.code == events.c.l2_code)
    if period is not None:
        q = q.where(events.c.reported_at >= period.start_dt, events.c.reported_at < period.end_dt)
    if status == "open":
        q = q.where(events.c.closed_at.is_(None))
    elif status == "overdue_open":
        q = q.where(open_overdue(as_of))
    if whistle:
        q = q.where(events.c.whistle == whistle)
    if due_by is not None:
        q = q.where(open_due(as_of, due_by))
    q = _apply_event_filter(_apply_scope(q, events, scope, unit), events, flt)
    by_deadline = status == "overdue_open" or due_by is not None
    order = events.c.deadline.asc() if by_deadline else events.c.reported_at.desc()
    q = q.order_by(order, events.c.id).limit(int(limit))
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])
    for col, labels in (("category", vocab.CATEGORIES), ("source", vocab.SOURCES), ("whistle", vocab.WHISTLES),
                        ("status", vocab.STATUSES)):
        df.insert(df.columns.get_loc(col) + 1, f"{col}_label", df[col].map(labels))
    for col in ("category", "source"):  # a label the vocabulary did not know: 其他（共享单车乱停放）
        raw = df.pop(f"{col}_raw")
        df[f"{col}_label"] = [lab if pd.isna(r) else f"{lab}（{r}）" for lab, r in zip(df[f"{col}_label"], raw)]
    for col in ("reported_at", "deadline", "closed_at"):
        df[col] = pd.to_datetime(df[col])
    return df


def deadline_span(engine: Engine, scope: Scope, unit: Unit, period: Period) -> tuple[datetime | None, datetime | None]:
    """The earliest and latest deadline (办结时限) of the events reported in ``period`` under ``unit``:
    the days whose working-day calendar the period's overdue figures rely on. (None, None) without events."""
    q = _period_query([func.min(events.c.deadline), func.max(events.c.deadline)], scope, unit, period, None)
    with connect(engine) as conn:
        lo, hi = conn.execute(q).one()
    return tuple(None if v is None else pd.Timestamp(v).to_pydatetime() for v in (lo, hi))


def latest_event_time(engine: Engine, scope: Scope, unit: Unit) -> datetime | None:
    """The newest ``reported_at`` or ``closed_at`` under ``unit``: how fresh the data is."""
    with connect(engine) as conn:
        a = conn.execute(_apply_scope(select(func.max(events.c.reported_at)), events, scope, unit)).scalar()
        b = conn.execute(_apply_scope(select(func.max(events.c.closed_at)), events, scope, unit)).scalar()
    vals = [pd.Timestamp(v).to_pydatetime() for v in (a, b) if v is not None]
    return max(vals) if vals else None
