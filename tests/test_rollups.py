"""Tests for event rollups: the rollup path returns exactly what the raw events give, on both
engines, before and after live writes (simulator ticks refresh the touched slices)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from data_access.db.engine import get_engine
from data_access.db.rollups import period_months, usable
from data_access.db.schema import event_rollup
from data_access.demo import build_demo
from data_access.demo.simulate import tick
from data_access.filters import EventFilter, Scope, parse_period
from data_access.queries import events as ev
from data_access.queries import indicators as ind
from data_access.queries import units as un

from .conftest import TEST_UNTIL

AS_OF = datetime(2026, 10, 31, 12, 0)


def _units_at_levels(engine):
    root = un.home_unit(engine, Scope.all())
    sub = un.get_unit(engine, un.children(engine, Scope.all(), root)["code"].iloc[0])
    com = un.get_unit(engine, un.children(engine, Scope.all(), sub)["code"].iloc[0])
    return root, sub, com


def _assert_paths_equal(engine, scope, unit, period, flt=None):
    a = ev.event_kpis(engine, scope, unit, period, flt, as_of=AS_OF, use_rollup=True)
    b = ev.event_kpis(engine, scope, unit, period, flt, as_of=AS_OF, use_rollup=False)
    assert a == pytest.approx(b, nan_ok=True)
    for by in ("source", "category", "whistle"):
        x = ev.closure_by(engine, scope, unit, period, by, flt, as_of=AS_OF, use_rollup=True)
        y = ev.closure_by(engine, scope, unit, period, by, flt, as_of=AS_OF, use_rollup=False)
        pd.testing.assert_frame_equal(x.sort_values("code", ignore_index=True),
                                      y.sort_values("code", ignore_index=True), check_dtype=False)
    x = ev.child_event_kpis(engine, scope, unit, period, flt, as_of=AS_OF, use_rollup=True)
    y = ev.child_event_kpis(engine, scope, unit, period, flt, as_of=AS_OF, use_rollup=False)
    pd.testing.assert_frame_equal(x, y, check_dtype=False)


@pytest.mark.parametrize("token", ["2026-09", "2026-Q3", "2026"])
def test_rollup_equals_raw(tiny_engine, token):
    """At levels 0, 1, 2, for month/quarter/year and with a filter, both paths agree."""
    period = parse_period(token)
    for unit in _units_at_levels(tiny_engine):
        _assert_paths_equal(tiny_engine, Scope.all(), unit, period)
    root, sub, _ = _units_at_levels(tiny_engine)
    _assert_paths_equal(tiny_engine, Scope.all(), root, period, EventFilter(sources=("grid", "app")))
    _assert_paths_equal(tiny_engine, Scope(sub.code, 1), sub, period, EventFilter(whistles=("key",)))


def test_rollup_used_only_when_it_can_answer():
    assert period_months(parse_period("2026-Q1")) == ["2026-01", "2026-02", "2026-03"]
    assert period_months(parse_period("2026-10-03..2026-10-09")) is None
    from data_access.filters import Unit

    leaf = Unit("x", "x", 3, "p", "compound", ("a", "b", "c", "x", None))
    assert usable(Scope.all(), leaf, parse_period("2026-10")) is None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_tiny(request, tmp_path):
    """A private tiny demo (this test writes to it)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'w.db'}"
    else:
        url = request.getfixturevalue("pg_scratch")()
    build_demo(url, scale="tiny", seed=11, until=TEST_UNTIL, log=lambda m: None)
    return get_engine(url)


def test_refresh_keeps_rollup_current(fresh_tiny):
    """After simulator ticks (new events + closures in old months) both paths still agree."""
    eng = fresh_tiny
    rng = np.random.default_rng(3)
    now = datetime(2026, 10, 31, 15, 0)
    for k in range(3):
        tick(eng, rng, 40, 60, now=now.replace(minute=k))
    period = parse_period("2026-10")
    for unit in _units_at_levels(eng):
        _assert_paths_equal(eng, Scope.all(), unit, period)
    m = ind.event_monthly(eng, Scope.all(), _units_at_levels(eng)[0], period, use_rollup=True, as_of=AS_OF)
    r = ind.event_monthly(eng, Scope.all(), _units_at_levels(eng)[0], period, use_rollup=False, as_of=AS_OF)
    pd.testing.assert_frame_equal(m, r, check_dtype=False)
    with eng.connect() as conn:
        assert conn.execute(select(func.sum(event_rollup.c.reported)).where(event_rollup.c.level == 0)).scalar() \
            == conn.execute(select(func.count()).select_from(ev.events)).scalar()
