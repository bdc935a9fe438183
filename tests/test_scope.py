"""Scope is enforced in data_access: every public query function, called with a staff scope, returns
nothing outside the staff unit's subtree, and refuses a foreign focus unit.

The functions are discovered, not listed: a new query function in data_access cannot skip this test.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pandas as pd
import pytest
from sqlalchemy import select

import data_access
from data_access.db.schema import units
from data_access.errors import OutOfScopeError
from data_access.filters import Scope, Unit, parse_period
from data_access.queries import units as un

from .conftest import DATA_AS_OF

# Functions that take (engine, scope, unit, …) but are not row queries, or return only aggregates by design.
AGGREGATE_ONLY = {"todo.peer_benchmark"}


def query_functions():
    out = []
    for mod in pkgutil.walk_packages(data_access.__path__, "data_access."):
        leaf = mod.name.rsplit(".", 1)[-1]
        if leaf.startswith("_") or mod.ispkg or ".demo" in mod.name or ".migrations" in mod.name or leaf in (
                "cli", "migrate"):
            continue
        m = importlib.import_module(mod.name)
        for name, fn in inspect.getmembers(m, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != m.__name__:
                continue
            params = list(inspect.signature(fn).parameters)
            if params[:3] == ["engine", "scope", "unit"]:
                out.append((f"{leaf}.{name}", fn, params))
    return out


FUNCTIONS = query_functions()


def test_discovery_finds_the_queries():
    names = {n for n, _, _ in FUNCTIONS}
    assert {"events.event_kpis", "warnings.child_warnings", "map_layers.event_points", "todo.overdue",
            "indicators.patrol_coverage"} <= names
    assert len(names) >= 25


def _call(fn, params, engine, scope, unit):
    kwargs = {}
    if "period" in params:
        kwargs["period"] = parse_period("2026-09")
    if "by" in params:
        kwargs["by"] = "source"
    if "as_of" in params:
        kwargs["as_of"] = DATA_AS_OF
    if "level" in params and inspect.signature(fn).parameters["level"].default is inspect.Parameter.empty:
        kwargs["level"] = unit.level + 1
    return fn(engine, scope, unit, **kwargs)


def _codes_in(obj) -> set[str]:
    """Every string in a result that looks like a unit code (DataFrames, dicts, lists, nested)."""
    found: set[str] = set()
    if isinstance(obj, pd.DataFrame):
        for c in obj.columns:
            if obj[c].dtype == object or str(obj[c].dtype).startswith("str"):
                for v in obj[c].dropna():
                    found |= _codes_in(v)
    elif isinstance(obj, dict):
        for v in obj.values():
            found |= _codes_in(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            found |= _codes_in(v)
    elif isinstance(obj, str) and obj.isdigit() and len(obj) >= 6:
        found.add(obj)
    return found


@pytest.mark.parametrize("name,fn,params", FUNCTIONS, ids=[n for n, _, _ in FUNCTIONS])
def test_staff_scope_is_enforced(tiny_engine, name, fn, params):
    with tiny_engine.connect() as conn:
        subs = [r[0] for r in conn.execute(select(units.c.code).where(units.c.level == 1).order_by(units.c.code))]
        all_codes = {r[0] for r in conn.execute(select(units.c.code))}
    mine, foreign = subs[0], subs[1]
    scope = Scope(mine, 1)
    me = un.get_unit(tiny_engine, mine)
    result = _call(fn, params, tiny_engine, scope, me)
    leaked = {c for c in _codes_in(result) & all_codes if not c.startswith(mine) and c != me.ancestors[0]}
    assert not leaked, f"{name} returned units outside the scope: {sorted(leaked)[:5]}"
    if name in AGGREGATE_ONLY:
        return
    other = un.get_unit(tiny_engine, foreign)
    with pytest.raises(OutOfScopeError):
        un.resolve_unit(tiny_engine, scope, foreign)
    # Even if a caller skipped resolve_unit, the scope filter inside the query returns nothing foreign.
    result = _call(fn, params, tiny_engine, scope, other)
    leaked = {c for c in _codes_in(result) & all_codes if c.startswith(foreign)}
    assert not leaked, f"{name} returned foreign rows when handed a foreign unit: {sorted(leaked)[:5]}"
    assert isinstance(other, Unit)
