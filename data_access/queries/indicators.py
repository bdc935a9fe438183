"""Headline indicators beside the event loop, as the overview and the PDF show them.

Each function returns a small dict (documented keys) for one unit and period; the
thematic pages break the same figures down further. 三零 compliance lives in
:mod:`data_access.queries.sanling`, patrol coverage in :mod:`data_access.queries.patrol`; the
metric catalogue (:mod:`data_access.queries.catalogue`) lists which function computes which figure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, case, func, select

from data_access.db.connection import connect
from data_access.db.schema import (
    cameras,
    criminal_cases,
    event_rollup,
    events,
    mediation_cases,
    petitions,
)
from data_access.db.sqlfn import month_of
from data_access.filters import Period, Scope, Unit, _apply_scope
from data_access.queries.events import _grouped, _with_rate


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


def _yoy(cur: float, prev: float) -> float:
    return (cur - prev) / prev if prev else float("nan")


def event_monthly(engine: Engine, scope: Scope, unit: Unit, period: Period, months: int = 12,
                  use_rollup: bool | None = None, *, as_of: datetime) -> pd.DataFrame:
    """Monthly event figures for the ``months`` whole months ending with ``period``'s last month
    (overdue counted at ``as_of``).

    Columns: month ('YYYY-MM'), reported, closed, closure_rate (0–1), overdue, overdue_open, key.
    Months without events are present with zeros.
    """
    span_m = pd.period_range(end=pd.Period(period.end - timedelta(days=1), freq="M"), periods=months, freq="M")
    span = Period(span_m[0].start_time.date(), (span_m[-1] + 1).start_time.date(), "custom")
    mcol = month_of(events.c.reported_at)
    df = _grouped(engine, scope, unit, span, None, as_of, mcol, event_rollup.c.month, unit.level,
                  use_rollup).rename(columns={"grp": "month"})
    allm = pd.DataFrame({"month": span_m.strftime("%Y-%m")})
    df = allm.merge(df, on="month", how="left").fillna(0)
    return _with_rate(df)


def _count_sum(engine, scope, unit, table, tcol, period: Period, *cols):
    q = _apply_scope(select(func.count(), *cols).where(tcol >= period.start_dt, tcol < period.end_dt),
                     table, scope, unit)
    with connect(engine) as conn:
        return conn.execute(q).one()


def petition_stats(engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime) -> dict:
    """Petitions (信访) in ``period`` and the same span a year earlier (cut to the same date while
    ``period`` is still running at ``as_of``).

    Keys: total, visits (batches), visit_persons, online, letters, total_prev_year, yoy (ratio, NaN if no base).
    """
    t = petitions
    cols = [func.sum(case((t.c.channel == "visit", 1), else_=0)),
            func.sum(case((t.c.channel == "visit", t.c.persons), else_=0)),
            func.sum(case((t.c.channel == "online", 1), else_=0)),
            func.sum(case((t.c.channel == "letter", 1), else_=0))]
    n, visits, persons, online, letters = _count_sum(engine, scope, unit, t, t.c.received_at, period, *cols)
    prev = _count_sum(engine, scope, unit, t, t.c.received_at, period.comparable_year_ago(as_of.date()))[0]
    return {"total": int(n), "visits": int(visits or 0), "visit_persons": int(persons or 0),
            "online": int(online or 0), "letters": int(letters or 0), "total_prev_year": int(prev),
            "yoy": _yoy(n, prev)}


def criminal_case_stats(engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime) -> dict:
    """Criminal cases (刑事案件) in ``period`` vs a year earlier (the same date while ``period`` runs at
    ``as_of``). Keys: cases, solved, cases_prev_year, yoy."""
    t = criminal_cases
    n, solved = _count_sum(engine, scope, unit, t, t.c.occurred_at, period, func.sum(case((t.c.solved, 1), else_=0)))
    prev = _count_sum(engine, scope, unit, t, t.c.occurred_at, period.comparable_year_ago(as_of.date()))[0]
    return {"cases": int(n), "solved": int(solved or 0), "cases_prev_year": int(prev), "yoy": _yoy(n, prev)}


def mediation_stats(engine: Engine, scope: Scope, unit: Unit, period: Period) -> dict:
    """Disputes received for mediation in ``period``. Keys: received, settled, failed, open, success_rate
    (settled / (settled + failed))."""
    t = mediation_cases
    n, settled, failed = _count_sum(engine, scope, unit, t, t.c.received_at, period,
                                    func.sum(case((t.c.status == "settled", 1), else_=0)),
                                    func.sum(case((t.c.status == "failed", 1), else_=0)))
    settled, failed = int(settled or 0), int(failed or 0)
    return {"received": int(n), "settled": settled, "failed": failed, "open": int(n) - settled - failed,
            "success_rate": _ratio(settled, settled + failed)}


def camera_stats(engine: Engine, scope: Scope, unit: Unit) -> dict:
    """Video cameras under ``unit`` now. Keys: cameras, online, online_rate (0–1)."""
    q = _apply_scope(select(func.count(), func.sum(case((cameras.c.online, 1), else_=0))), cameras, scope, unit)
    with connect(engine) as conn:
        n, on = conn.execute(q).one()
    return {"cameras": int(n), "online": int(on or 0), "online_rate": _ratio(on or 0, n)}
