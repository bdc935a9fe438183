"""The closed loop in detail: funnel 上报 → 派单 → 处置 → 核查 → 办结, stage times, whistles."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, select

from data_access.db.connection import connect
from data_access.db.schema import events
from data_access.filters import EventFilter, Period, Scope, Unit, _apply_event_filter, _apply_scope
from data_access.vocab import LOOP_STAGES, WHISTLES

STAGE_COLS = list(LOOP_STAGES)  # reported_at … closed_at


def _stage_frame(engine: Engine, scope: Scope, unit: Unit, period: Period, flt: EventFilter | None) -> pd.DataFrame:
    q = select(events.c.whistle, events.c.deadline, *[events.c[c] for c in STAGE_COLS]).where(
        events.c.reported_at >= period.start_dt, events.c.reported_at < period.end_dt)
    q = _apply_event_filter(_apply_scope(q, events, scope, unit), events, flt)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["whistle", "deadline", *STAGE_COLS])
    for c in ["deadline", *STAGE_COLS]:
        df[c] = pd.to_datetime(df[c])
    return df


def funnel(engine: Engine, scope: Scope, unit: Unit, period: Period, flt: EventFilter | None = None
           ) -> pd.DataFrame:
    """Events of the period that reached each stage of the loop.

    Columns: stage (column name), label (上报…办结), count, conversion (share of the previous
    stage, 0–1), median_hours (from the previous stage to this one; NaN for 上报).
    """
    df = _stage_frame(engine, scope, unit, period, flt)
    rows, prev_col = [], None
    for col, label in LOOP_STAGES.items():
        reached = df[col].notna()
        n = int(reached.sum())
        conv = n / rows[-1]["count"] if rows and rows[-1]["count"] else float("nan")
        med = float("nan")
        if prev_col is not None and n:
            hours = (df.loc[reached, col] - df.loc[reached, prev_col]).dt.total_seconds() / 3600
            med = float(hours.median())
        rows.append({"stage": col, "label": label, "count": n, "conversion": conv, "median_hours": med})
        prev_col = col
    return pd.DataFrame(rows)


def whistle_stats(engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime) -> pd.DataFrame:
    """网格吹哨: per whistle level — reported, closed, closure_rate, median_dispatch_hours,
    median_close_hours (report → close), overdue (closed late or open past deadline at ``as_of``)."""
    as_of = pd.Timestamp(as_of)
    df = _stage_frame(engine, scope, unit, period, None)
    out = []
    for code, label in WHISTLES.items():
        g = df[df["whistle"] == code]
        closed = g["closed_at"].notna()
        overdue = (closed & (g["closed_at"] > g["deadline"])) | (~closed & (g["deadline"] < as_of))
        out.append({"code": code, "label": label, "reported": len(g), "closed": int(closed.sum()),
                    "closure_rate": closed.mean() if len(g) else float("nan"),
                    "median_dispatch_hours": ((g["dispatched_at"] - g["reported_at"]).dt.total_seconds() / 3600
                                              ).median(),
                    "median_close_hours": ((g["closed_at"] - g["reported_at"]).dt.total_seconds() / 3600).median(),
                    "overdue": int(overdue.sum())})
    return pd.DataFrame(out)
