"""Mediation, petitions, criminal cases and safety inspections (矛盾调解 · 信访 · 治安 · 安全)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, case, func, select

from data_access.db.connection import connect
from data_access.db.schema import criminal_cases, mediation_cases, petitions, safety_inspections, units
from data_access.db.sqlfn import month_of
from data_access.filters import Period, Scope, Unit, _apply_scope, month_period
from data_access.vocab import CASE_TYPES, DISPUTE_TYPES, MEDIATION_STATUSES


def mediation_by_type(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """Disputes by type: type, label, screened, mediating, settled, failed, total, success_rate (0–1)."""
    t = mediation_cases
    cols = [func.sum(case((t.c.status == s, 1), else_=0)) for s in MEDIATION_STATUSES]
    q = _apply_scope(select(t.c.dispute_type, *cols).where(t.c.received_at >= period.start_dt,
                                                           t.c.received_at < period.end_dt), t, scope, unit)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q.group_by(t.c.dispute_type)).all(),
                          columns=["type", *MEDIATION_STATUSES])
    df.insert(1, "label", df["type"].map(DISPUTE_TYPES))
    df["total"] = df[list(MEDIATION_STATUSES)].sum(axis=1)
    df["success_rate"] = df["settled"] / (df["settled"] + df["failed"]).where(lambda x: x > 0)
    return df


def _monthly(engine, scope, unit, table, tcol, start, end, *cols, names):
    m = month_of(tcol)
    q = _apply_scope(select(m, func.count(), *cols).where(tcol >= start, tcol < end), table, scope, unit)
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q.group_by(m).order_by(m)).all(), columns=["month", "total", *names])


def petition_monthly(engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime
                     ) -> pd.DataFrame:
    """Petitions per month for the 12 months to ``period``'s end, with the same month a year before.

    Columns: month, total, visits (batches), persons, online, letters, total_prev_year, yoy (ratio).
    The month that ``as_of`` falls in is still running: its year-before figure counts
    the same elapsed days only, so the comparison is like for like.
    """
    t = petitions
    end = period.end_dt
    start = (pd.Timestamp(end) - pd.DateOffset(months=24)).to_pydatetime()
    cols = [func.sum(case((t.c.channel == c, 1), else_=0)) for c in ("visit", "online", "letter")]
    df = _monthly(engine, scope, unit, t, t.c.received_at, start, end, *cols,
                  func.sum(case((t.c.channel == "visit", t.c.persons), else_=0)),
                  names=["visits", "online", "letters", "persons"])
    prev = dict(zip((pd.PeriodIndex(df["month"], freq="M") + 12).strftime("%Y-%m"), df["total"]))
    df["total_prev_year"] = df["month"].map(prev)
    today = as_of.date()
    running = f"{today:%Y-%m}"
    if running in set(df["month"]):
        ago = month_period(today.replace(day=1)).comparable_year_ago(today)
        q = _apply_scope(select(func.count()).where(t.c.received_at >= ago.start_dt, t.c.received_at < ago.end_dt),
                         t, scope, unit)
        with connect(engine) as conn:
            df.loc[df["month"] == running, "total_prev_year"] = conn.execute(q).scalar_one()
    df["yoy"] = df["total"] / df["total_prev_year"] - 1
    return df.tail(12).reset_index(drop=True)[["month", "total", "visits", "persons", "online", "letters",
                                                "total_prev_year", "yoy"]]


def case_stats(engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime) -> pd.DataFrame:
    """Criminal cases per child of ``unit``: code, name, cases, cases_prev_year, yoy, zero_case_days
    (days since the child's last case, up to ``as_of``)."""
    t = criminal_cases
    lvl = min(unit.level + 1, 4)
    grp = t.c[f"l{lvl}_code"]

    def counts(p: Period) -> dict:
        q = _apply_scope(select(grp, func.count()).where(t.c.occurred_at >= p.start_dt, t.c.occurred_at < p.end_dt),
                         t, scope, unit).group_by(grp)
        with connect(engine) as conn:
            return dict(conn.execute(q).all())

    last_q = _apply_scope(select(grp, func.max(t.c.occurred_at)).where(t.c.occurred_at <= as_of), t, scope,
                          unit).group_by(grp)
    names_q = _apply_scope(select(units.c.code, units.c.name).where(units.c.level == lvl), units, scope, unit)
    with connect(engine) as conn:
        last = dict(conn.execute(last_q).all())
        df = pd.DataFrame(conn.execute(names_q.order_by(units.c.code)).all(), columns=["code", "name"])
    cur, prev = counts(period), counts(period.comparable_year_ago(as_of.date()))
    df["cases"] = df["code"].map(cur).fillna(0).astype("int64")
    df["cases_prev_year"] = df["code"].map(prev).fillna(0).astype("int64")
    df["yoy"] = df["cases"] / df["cases_prev_year"].where(df["cases_prev_year"] > 0) - 1
    df["zero_case_days"] = [(as_of - pd.Timestamp(last[c]).to_pydatetime()).days if c in last else None
                            for c in df["code"]]
    return df


def case_types(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """Criminal cases by type in ``period``: type, label, cases, solved."""
    t = criminal_cases
    q = _apply_scope(select(t.c.case_type, func.count(), func.sum(case((t.c.solved, 1), else_=0)))
                     .where(t.c.occurred_at >= period.start_dt, t.c.occurred_at < period.end_dt), t, scope, unit)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q.group_by(t.c.case_type)).all(), columns=["type", "cases", "solved"])
    df.insert(1, "label", df["type"].map(CASE_TYPES))
    return df


def inspections(engine: Engine, scope: Scope, unit: Unit, period: Period) -> dict:
    """Safety inspections in ``period``. Keys: inspections, hazards_found, hazards_rectified, rectified_rate."""
    t = safety_inspections
    q = _apply_scope(select(func.count(), func.sum(t.c.hazards_found), func.sum(t.c.hazards_rectified))
                     .where(t.c.inspected_on >= period.start, t.c.inspected_on < period.end), t, scope, unit)
    with connect(engine) as conn:
        n, found, fixed = conn.execute(q).one()
    found, fixed = int(found or 0), int(fixed or 0)
    return {"inspections": int(n), "hazards_found": found, "hazards_rectified": fixed,
            "rectified_rate": fixed / found if found else float("nan")}
