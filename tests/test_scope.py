"""Tests for scope enforcement: a staff user gets exactly what they would get if nothing outside their
subtree existed.

Every public function that takes an ``engine`` and a ``scope`` (data_access and reports, found by
walking the packages, whatever its other parameters) is called under the ``staff`` account's scope on
the tiny demo, and again on the same demo from which every unit outside the staff's subtree and all
their facts were deleted (:mod:`tests.scope_db`). The results must be equal — figures, coordinates
and geometries, not only unit codes — for focus units inside the scope, above it (the district) and
outside it (a foreign subdistrict and one of its compounds, as if a caller had skipped
``resolve_unit``). A public function of ``data_access.queries`` that takes an engine but no scope
must be listed in :data:`NO_SCOPE` with the reason it is safe, or this test fails.

``tests/test_scope_can_fail.py`` runs this module with the scope filter removed
(``SCOPE_TEST_WITHOUT_SCOPE=1``) and expects the case of every function to fail.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import itertools
import math
import os
import pkgutil
import sys
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import select

import data_access
import reports
from data_access import filters
from data_access.db.engine import get_engine
from data_access.db.schema import units as units_t
from data_access.errors import OutOfScopeError, UnknownUnitError
from data_access.filters import Scope, Unit, parse_period

WITHOUT_SCOPE = os.environ.get("SCOPE_TEST_WITHOUT_SCOPE") == "1"


def _remove_scope_filter() -> None:
    """What a query that forgot the scope would do: ``_apply_scope`` keeps only the focus filter and
    ``Unit.within`` (the check behind ``resolve_unit`` and breadcrumbs) lets every unit through."""
    original = filters._apply_scope

    def focus_only(query, table, scope, focus=None):
        return original(query, table, Scope.all(), focus)

    for mod in list(sys.modules.values()):
        if getattr(mod, "_apply_scope", None) is original:
            mod._apply_scope = focus_only
    Unit.within = lambda self, scope: True


if WITHOUT_SCOPE:
    _remove_scope_filter()

# The tiny_url fixture's demo (tests/conftest.py): same generator, seed and end date.
SEED = 7
UNTIL = date(2026, 10, 31)
AS_OF = datetime(2026, 10, 20, 15, 0)
PERIODS = (parse_period("2026-Q3"), parse_period("2025-11-03..2026-10-20"))  # rollup path, raw path
ONE_DAY = parse_period("2026-10-10..2026-10-10")  # a day on which cells outside the staff scope were missed

# Public data_access.queries functions that read the database without a scope, and why that is safe.
NO_SCOPE = {
    "units.get_unit": "look-up by code behind resolve_unit (which checks the scope, tested here); "
                      "callers pass its unit to scoped queries only",
    "units.level_counts": "units per level of the whole database, for the integrity check (CLI)",
    "report_data.data_source": "the data source label and load time (meta table), no unit data",
    "report_data.log_export": "writes the audit row of an export, returns nothing",
    "targets.target_values": "province/city targets, the same for every unit",
    "freshness.feed_health": "per feed (API key, pull source) counts and times: system metadata, no unit data "
                             "(admin page, any API key)",
    "freshness.feed_hourly": "rows per feed and hour: system metadata, no unit data (admin page)",
    "bulletins.month_completeness": "the newest event time of the whole database vs a month's end: no unit data",
    "bulletins.record": "writes one archive row, returns its id",
    "bulletins.archive_periods": "which months have an archived bulletin (the scheduler), no unit data",
}
# Scoped functions that deliberately read outside the scope; checked by their own test below.
BY_DESIGN = {
    "todo.peer_benchmark": "the staff's rank among all units of its level: aggregates only "
                           "(test_peer_benchmark_returns_aggregates_only)",
    "ingest.ingest_records": "a writer, not a reader: a row outside the scope is rejected with a reason, never "
                             "stored (tests/test_api.py::test_rows_outside_the_keys_subtree_are_rejected)",
}
# Scoped functions whose scope does not go through _apply_scope or Unit.within, so removing those
# cannot make them fail; the proof test expects them to pass then (so this list stays true).
SCOPE_WITHOUT_FILTER = {
    "units.root_units": "returns the scope's own unit, read from Scope.unit_code",
    "units.home_unit": "root_units()[0]",
}

_SKIP_MODULES = (".demo", ".migrations", ".cli", "__main__")


def _public_functions():
    """(name, function) of every public function defined in data_access and reports."""
    for pkg in (data_access, reports):
        for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if mod.ispkg or any(s in mod.name for s in _SKIP_MODULES) or mod.name.rsplit(".", 1)[1].startswith("_"):
                continue
            m = importlib.import_module(mod.name)
            for name, fn in inspect.getmembers(m, inspect.isfunction):
                if not name.startswith("_") and fn.__module__ == m.__name__:
                    yield f"{mod.name.rsplit('.', 1)[1]}.{name}", mod.name, fn


def scoped_functions() -> dict:
    """Every public function taking ``engine`` and ``scope``, by ``module.function``."""
    out = {}
    for name, _mod, fn in _public_functions():
        params = inspect.signature(fn).parameters
        if "engine" in params and "scope" in params:
            out[name] = fn
    return dict(sorted(out.items()))


SCOPED = scoped_functions()


def test_every_query_function_is_covered():
    """A public query function either takes a scope (and is tested below) or is listed with a reason."""
    uncovered = []
    for name, mod, fn in _public_functions():
        params = inspect.signature(fn).parameters
        if mod.startswith("data_access.queries.") and "engine" in params and "scope" not in params \
                and name not in NO_SCOPE:
            uncovered.append(name)
    assert not uncovered, f"query functions without scope and without a reason in NO_SCOPE: {uncovered}"
    stale = [n for n in (*NO_SCOPE, *BY_DESIGN, *SCOPE_WITHOUT_FILTER)
             if n not in SCOPED and n not in {x for x, _m, _f in _public_functions()}]
    assert not stale, f"exemptions for functions that no longer exist: {stale}"
    assert {"events.event_kpis", "units.geometries", "units.units_at_level", "units.resolve_unit",
            "warnings.unit_metrics", "patrol.coverage_by_child", "snapshot.build_snapshot"} <= set(SCOPED)


# --- the two databases ------------------------------------------------------------------------------


@dataclasses.dataclass
class World:
    full: object  # Engine with the whole tiny demo
    pruned: object  # Engine with only the staff subtree
    scope: Scope
    focus: dict  # label -> Unit
    codes: list  # every unit code of the full database
    bounds: tuple
    bulletin_ids: tuple = ()  # archived bulletins of every unit of levels 0-1 (see _archive)


def _subtree_only_url(request, engine_name: str) -> str:
    if engine_name == "sqlite":
        url = f"sqlite:///{request.getfixturevalue('tmp_path_factory').mktemp('scope') / 'subtree.db'}"
    else:
        url = request.getfixturevalue("pg_scratch")()
    return url


@pytest.fixture(scope="session")
def _pruned_cache():
    return {}


@pytest.fixture
def world(tiny_url, request, _pruned_cache) -> World:
    from data_access.accounts import get_user, scope_for
    from data_access.queries import units as un
    from tests.scope_db import build_subtree_only

    full = get_engine(tiny_url)
    staff = get_user(full, "staff")
    scope = scope_for(full, staff["role"], staff["unit_code"])
    assert not scope.is_all
    if tiny_url not in _pruned_cache:
        engine_name = "sqlite" if tiny_url.startswith("sqlite") else "postgres"
        _pruned_cache[tiny_url] = build_subtree_only(_subtree_only_url(request, engine_name), scope.unit_code,
                                                     scope.level, seed=SEED, until=UNTIL)
    pruned = get_engine(_pruned_cache[tiny_url])
    with full.connect() as conn:
        rows = conn.execute(select(units_t.c.code, units_t.c.level, units_t.c[f"l{scope.level}_code"],
                                   units_t.c.min_lon, units_t.c.min_lat, units_t.c.max_lon, units_t.c.max_lat)
                            .order_by(units_t.c.code)).all()
    mine = [r for r in rows if r[2] == scope.unit_code]
    foreign = [r for r in rows if r[2] is not None and r[2] != scope.unit_code]
    root = next(r for r in rows if r[1] == 0)
    # The foreign subdistrict with the most units: the one with the most data of every kind.
    foreign_sub = max((r for r in foreign if r[1] == scope.level), key=lambda r: sum(x[2] == r[0] for x in foreign))
    focus = {
        "district": un.get_unit(full, root[0]),
        "own": un.get_unit(full, scope.unit_code),
        "own_compound": un.get_unit(full, next(r[0] for r in mine if r[1] == 3)),
        "foreign": un.get_unit(full, foreign_sub[0]),
        "foreign_compound": un.get_unit(full, next(r[0] for r in foreign if r[1] == 3 and r[2] == foreign_sub[0])),
    }
    ids = _archive(full, pruned, request.getfixturevalue("tmp_path_factory"), _pruned_cache)
    return World(full, pruned, scope, focus, [r[0] for r in rows], tuple(root[3:7]), ids)


def _archive(full, pruned, tmp_factory, cache) -> tuple[int, ...]:
    """The same bulletin archive rows (explicit ids, one real file) in both databases — the pruned one
    keeps only its own units' — so that the archive's scope has something to hide. Once per database."""
    from sqlalchemy import delete, insert

    from data_access.db.schema import bulletins, units

    key = ("archive", str(full.url))
    if key not in cache:
        path = tmp_factory.mktemp("archive") / "b.pdf"
        path.write_bytes(b"%PDF-1.4 test")
        with full.connect() as conn:
            us = conn.execute(select(units).where(units.c.level <= 1).order_by(units.c.code)).mappings().all()
        rows = [{"id": 9000 + i, "unit_code": u["code"], "unit_name": u["name"], "period": "2026-09",
                 "generated_at": datetime(2026, 10, 1, 6), "generated_by": "schedule", "pdf_path": str(path),
                 "xlsx_path": str(path), "incomplete": None, **{f"l{lv}_code": u[f"l{lv}_code"] for lv in range(5)}}
                for i, u in enumerate(us)]
        with pruned.connect() as conn:
            kept = {r[0] for r in conn.execute(select(units.c.code))}
        for eng, rs in ((full, rows), (pruned, [r for r in rows if r["unit_code"] in kept])):
            with eng.begin() as conn:
                conn.execute(delete(bulletins).where(bulletins.c.id >= 9000))
                conn.execute(insert(bulletins), rs)
        cache[key] = tuple(r["id"] for r in rows)
    return cache[key]


# --- calling any scoped function -----------------------------------------------------------------


def _options(name: str, fn, w: World) -> dict[str, list]:
    """The values each parameter of ``fn`` is called with (cartesian product)."""
    units = list(w.focus.values())
    opts: dict[str, list] = {}
    for p in inspect.signature(fn).parameters.values():
        optional = p.default is not inspect.Parameter.empty
        if p.name == "engine":
            continue
        if p.name == "scope":
            opts["scope"] = [w.scope]
        elif p.name in ("unit", "parent"):
            opts[p.name] = units + ([None] if optional else [])
        elif p.name == "code":
            opts["code"] = [u.code for u in units] + [None]
        elif p.name == "period":
            opts["period"] = list(PERIODS) + ([None] if optional else [])
            if name == "todo.uncovered_cells":  # a working district patrols every cell over a quarter
                opts["period"].append(ONE_DAY)
        elif p.name == "level":
            opts["level"] = ([None] if optional else []) + [0, 1, 2, 3, 4]
        elif p.name == "by":
            opts["by"] = ["source", "category", "whistle"]
        elif p.name == "as_of":
            opts["as_of"] = [AS_OF]
        elif p.name == "use_rollup":
            opts["use_rollup"] = [None, False]
        elif p.name == "status":
            opts["status"] = ["all", "open", "overdue_open"]
        elif p.name == "whistle":
            opts["whistle"] = [None, "key"]
        elif p.name == "workdays":  # 2 finds nothing due at AS_OF in the fixture; 20 does
            opts["workdays"] = [2, 20]
        elif p.name == "codes":
            opts["codes"] = [None, w.codes]
        elif p.name == "bounds":
            opts["bounds"] = [None, w.bounds]
        elif p.name == "bulletin_id":
            opts["bulletin_id"] = list(w.bulletin_ids)
        elif p.name == "fmt" and name.startswith("bulletins."):
            opts["fmt"] = ["pdf"]
        elif p.name == "sections" and name == "snapshot.build_snapshot":
            opts["sections"] = [None]
        elif not optional:
            raise AssertionError(f"{name}: the scope test does not know a value for parameter {p.name!r}; "
                                 "add it to _options")
    return opts


def _calls(name: str, fn, w: World):
    opts = _options(name, fn, w)
    keys = list(opts)
    for values in itertools.product(*(opts[k] for k in keys)):
        yield dict(zip(keys, values))


def _run(fn, engine, kwargs):
    try:
        return fn(engine, **kwargs)
    except (OutOfScopeError, UnknownUnitError):
        return ("refused",)  # a foreign code is not there at all on the subtree-only database
    except Exception as exc:  # noqa: BLE001 - the same error on both databases is an equal answer
        return ("raised", type(exc).__name__)


# --- comparing answers ------------------------------------------------------------------------------

# Fields that say when a result was made, not what it shows.
_WHEN = {"generated_at"}


def _canonical_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with geometry as WKB hex and rows in a fixed order (SQL without ORDER BY may differ)."""
    df = pd.DataFrame(df).copy()
    for c in df.columns:
        if isinstance(df[c], gpd.GeoSeries) or (len(df) and isinstance(df[c].iloc[0], shapely.Geometry)):
            df[c] = [None if g is None else shapely.to_wkb(shapely.normalize(g), hex=True) for g in df[c]]
    if len(df) and len(df.columns):
        key = df.astype(str)
        order = key.sort_values(list(key.columns)).index
        df = df.loc[order]
    return df.reset_index(drop=True)


def assert_same(a, b, where: str = "result") -> None:
    """Equal answers: DataFrames value by value (NaN = NaN, floats to 1e-9), dicts by key, geometry exactly."""
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        assert isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame), f"{where}: {type(a)} vs {type(b)}"
        pd.testing.assert_frame_equal(_canonical_frame(a), _canonical_frame(b), check_exact=False, rtol=1e-9,
                                      check_index_type=False, obj=where)
    elif isinstance(a, pd.Series):
        assert_same(a.to_frame(), b.to_frame() if isinstance(b, pd.Series) else b, where)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(map(str, a))} vs " \
                                                         f"{sorted(map(str, b)) if isinstance(b, dict) else b}"
        for k in a:
            if k not in _WHEN:
                assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{where}: {a!r:.300} vs {b!r:.300}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), f"{where}: {type(a)} vs {type(b)}"
        for f in dataclasses.fields(a):
            if f.name not in _WHEN:
                assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, shapely.Geometry):
        assert isinstance(b, shapely.Geometry) and shapely.equals_exact(
            shapely.normalize(a), shapely.normalize(b), 1e-9), f"{where}: geometries differ"
    elif isinstance(a, np.ndarray):
        np.testing.assert_allclose(a, b, rtol=1e-9, err_msg=where)
    elif isinstance(a, (float, np.floating)) and not isinstance(a, bool):
        assert isinstance(b, (float, int, np.number)) and (
            (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9)), f"{where}: {a!r} vs {b!r}"
    else:
        assert a == b, f"{where}: {a!r:.300} vs {b!r:.300}"


# --- the tests -------------------------------------------------------------------------------------

_CASES = [n for n in SCOPED if n not in BY_DESIGN]


@pytest.mark.parametrize("name", _CASES)
def test_answers_as_if_nothing_outside_the_scope_existed(world, name):
    fn = SCOPED[name]
    calls = 0
    for kwargs in _calls(name, fn, world):
        shown = {k: (v.code if isinstance(v, Unit) else getattr(v, "token", v)) for k, v in kwargs.items()
                 if k not in ("scope", "codes")}
        assert_same(_run(fn, world.full, kwargs), _run(fn, world.pruned, kwargs), f"{name}({shown})")
        calls += 1
    assert calls, name


def test_foreign_focus_is_refused(world):
    """resolve_unit refuses a unit outside the scope, and the district above it."""
    from data_access.queries import units as un

    for label in ("foreign", "foreign_compound", "district"):
        with pytest.raises(OutOfScopeError):
            un.resolve_unit(world.full, world.scope, world.focus[label].code)
    assert un.resolve_unit(world.full, world.scope, world.focus["own_compound"].code) == world.focus["own_compound"]


def test_peer_benchmark_returns_aggregates_only(world):
    """The one query that reads outside the scope returns counts and averages only, and refuses a
    foreign unit (whose rank and rate it would otherwise give away)."""
    from data_access.queries.todo import peer_benchmark

    got = peer_benchmark(world.full, world.scope, world.focus["own"], PERIODS[0], as_of=AS_OF)
    assert set(got) == {"peers", "rank", "peer_avg_closure_rate", "peer_avg_overdue_share", "own_closure_rate"}
    assert all(v is None or isinstance(v, (int, float)) for v in got.values())
    assert got["peers"] >= 2
    for label in ("foreign", "foreign_compound", "district"):
        with pytest.raises(OutOfScopeError):
            peer_benchmark(world.full, world.scope, world.focus[label], PERIODS[0], as_of=AS_OF)
