"""Tests for the event and unit query functions, on SQLite and PostgreSQL.

Each figure is checked against an independent computation in pandas over the raw
table rows, so a wrong SQL filter or grouping fails here on both engines.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from data_access.db.schema import events as events_t
from data_access.db.schema import units as units_t
from data_access.errors import OutOfScopeError, UnknownUnitError
from data_access.filters import EventFilter, Scope, month_period
from data_access.queries import events as ev
from data_access.queries import units as un

AS_OF = datetime(2026, 10, 31, 12, 0)


def _raw_events(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(select(events_t)).mappings().all())
    for c in ("reported_at", "closed_at", "deadline"):
        df[c] = pd.to_datetime(df[c])
    return df


def _expected(df: pd.DataFrame) -> dict:
    closed = int((df["status"] == "closed").sum())
    open_overdue = df["closed_at"].isna() & (df["deadline"] < AS_OF)
    overdue = open_overdue | (df["closed_at"] > df["deadline"])
    return {"reported": len(df), "closed": closed, "overdue": int(overdue.sum()),
            "overdue_open": int(open_overdue.sum()), "key": int((df["whistle"] == "key").sum())}


def _in_period(df, period):
    return df[(df["reported_at"] >= period.start_dt) & (df["reported_at"] < period.end_dt)]


def test_event_kpis_match_raw_rows(tiny_engine):
    """District KPIs for a month equal a pandas count over the raw rows."""
    root = un.home_unit(tiny_engine, Scope.all())
    period = month_period(datetime(2026, 9, 1))
    got = ev.event_kpis(tiny_engine, Scope.all(), root, period, as_of=AS_OF)
    exp = _expected(_in_period(_raw_events(tiny_engine), period))
    assert exp["reported"] > 100
    assert {k: got[k] for k in exp} == exp
    assert got["closure_rate"] == pytest.approx(exp["closed"] / exp["reported"])


def test_event_kpis_scoped_to_subtree(tiny_engine):
    """A staff scope on one subdistrict counts only that subtree's rows."""
    root = un.home_unit(tiny_engine, Scope.all())
    sub = un.children(tiny_engine, Scope.all(), root).iloc[1]
    scope = Scope(sub["code"], 1)
    unit = un.resolve_unit(tiny_engine, scope, None)
    assert unit.code == sub["code"]
    period = month_period(datetime(2026, 9, 1))
    raw = _in_period(_raw_events(tiny_engine), period)
    got = ev.event_kpis(tiny_engine, scope, unit, period, as_of=AS_OF)
    assert got["reported"] == (raw["l1_code"] == sub["code"]).sum() > 0
    with pytest.raises(OutOfScopeError):
        un.resolve_unit(tiny_engine, scope, root.code)


def test_children_kpis_sum_to_parent(tiny_engine):
    """Children's figures add up to the parent's (every event sits in exactly one child)."""
    root = un.home_unit(tiny_engine, Scope.all())
    period = month_period(datetime(2026, 8, 1))
    kids = ev.child_event_kpis(tiny_engine, Scope.all(), root, period, as_of=AS_OF)
    total = ev.event_kpis(tiny_engine, Scope.all(), root, period, as_of=AS_OF)
    assert len(kids) == len(un.children(tiny_engine, Scope.all(), root))
    for k in ("reported", "closed", "overdue", "overdue_open", "key"):
        assert kids[k].sum() == total[k]


def test_closure_by_source_and_filter(tiny_engine):
    root = un.home_unit(tiny_engine, Scope.all())
    period = month_period(datetime(2026, 9, 1))
    raw = _in_period(_raw_events(tiny_engine), period)
    by = ev.closure_by(tiny_engine, Scope.all(), root, period, "source", as_of=AS_OF).set_index("code")
    for src, grp in raw.groupby("source"):
        assert by.loc[src, "reported"] == len(grp)
        assert by.loc[src, "closed"] == (grp["status"] == "closed").sum()
    assert by.loc["grid", "label"] == "网格员上报"
    only = ev.event_kpis(tiny_engine, Scope.all(), root, period, EventFilter(sources=("grid",)), as_of=AS_OF)
    assert only["reported"] == by.loc["grid", "reported"]


def test_trend_covers_every_day(tiny_engine):
    root = un.home_unit(tiny_engine, Scope.all())
    period = month_period(datetime(2026, 9, 1))
    tr = ev.event_trend(tiny_engine, Scope.all(), root, period, as_of=AS_OF)
    assert len(tr) == 30 and tr["day"].is_monotonic_increasing
    raw = _in_period(_raw_events(tiny_engine), period)
    assert tr["reported"].sum() == len(raw)


def test_event_list_overdue_sorted(tiny_engine):
    root = un.home_unit(tiny_engine, Scope.all())
    df = ev.event_list(tiny_engine, Scope.all(), root, None, status="overdue_open", as_of=AS_OF, limit=50)
    assert df["closed_at"].isna().all()
    assert (df["deadline"] < AS_OF).all()
    assert df["deadline"].is_monotonic_increasing
    assert set(df["status_label"]) <= {"待派单", "处置中", "待核查"}


def test_unknown_and_malformed_units(tiny_engine):
    for bad in ("999999", "1' OR '1'='1", ""):
        with pytest.raises(UnknownUnitError):
            un.resolve_unit(tiny_engine, Scope.all(), bad)


def test_breadcrumb_and_geometries(tiny_engine):
    with tiny_engine.connect() as conn:
        leaf = conn.execute(select(units_t.c.code).where(units_t.c.level == 4).limit(1)).scalar_one()
    unit = un.get_unit(tiny_engine, leaf)
    crumbs = un.breadcrumb(tiny_engine, Scope.all(), unit)
    assert [c.level for c in crumbs] == [0, 1, 2, 3, 4]
    assert crumbs[-1].code == leaf
    # a staff user bound at level 1 sees the chain from their own unit down
    scoped = un.breadcrumb(tiny_engine, Scope(crumbs[1].code, 1), unit)
    assert [c.level for c in scoped] == [1, 2, 3, 4]
    gdf = un.geometries(tiny_engine, Scope.all(), parent=crumbs[0])
    assert len(gdf) == len(un.children(tiny_engine, Scope.all(), crumbs[0]))
    assert gdf.crs.to_epsg() == 4326 and gdf.geometry.is_valid.all()
    assert np.isfinite(gdf.total_bounds).all()
