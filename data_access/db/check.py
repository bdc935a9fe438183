"""Integrity check of a database (``python -m data_access check``)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import shapely
from sqlalchemy import Engine, and_, func, not_, select

from data_access.db import schema
from data_access.db.connection import connect
from data_access.queries.units import level_counts
from data_access.workdays import unknown_years, years_spanned

# Fact tables whose rows must sit on an existing unit with a consistent ancestor chain.
FACT_TABLES = ["events", "sanling_subjects", "patrols", "patrol_visits", "cameras", "police_rooms",
               "mediation_cases", "petitions", "criminal_cases", "safety_inspections"]
# Every table other than ``units`` whose rows carry their unit's ancestor codes, found in the schema
# so that a new fact table is checked too.
ANCESTOR_TABLES = [t.name for t in schema.metadata.sorted_tables if "l0_code" in t.c and t.name != "units"]


def calendar_years_missing(engine: Engine, as_of: datetime | None = None) -> list[int]:
    """Years of the events' report times and deadlines (and of ``as_of``) whose public holidays neither
    ``config/holidays.toml`` nor chinese-calendar knows: working days there are counted Monday–Friday."""
    e = schema.events
    with connect(engine) as conn:
        span = conn.execute(select(func.min(e.c.reported_at), func.max(e.c.reported_at), func.min(e.c.deadline),
                                   func.max(e.c.deadline))).one()
    return unknown_years([*years_spanned(*(pd.Timestamp(v) for v in span if v is not None)),
                          *([as_of.year] if as_of else [])])


def check(engine: Engine, nesting_tolerance_m: float = 1.0, as_of: datetime | None = None) -> dict:
    """Check the parent chain, levels, ancestor codes, rows on existing units and geometry validity and nesting.

    Returns ``{"units": {level: n}, "events": n, "orphans": n, "invalid_geometries": n,
    "bad_parents": n, "bad_ancestors": n, "bad_ancestors_by_table": {table: n}, "not_nested": n,
    "calendar_years_missing": [years]}``; everything but units/events should be 0 (or empty).
    ``bad_ancestors`` counts units whose ``l0_code`` … ``l4_code`` differ from the chain their parents
    give, plus fact and rollup rows whose ancestor codes differ from their unit's
    (``bad_ancestors_by_table`` names where, non-zero tables only). A district's (level 0) parent may
    lie outside the database (its city). ``calendar_years_missing`` is a warning, not a failure: see
    :func:`calendar_years_missing` (``as_of``, the caller's "now", adds its year).
    """
    u = schema.units
    with connect(engine) as conn:
        rows = conn.execute(select(u.c.code, u.c.level, u.c.parent_code, u.c.geom_wkb,
                                   *[u.c[f"l{i}_code"] for i in range(5)])).all()
        n_events = conn.execute(select(func.count()).select_from(schema.events)).scalar_one()
        orphans = 0
        for name in FACT_TABLES:
            t = schema.metadata.tables[name]
            q = select(func.count()).select_from(t.outerjoin(u, u.c.code == t.c.unit_code)).where(u.c.code.is_(None))
            orphans += conn.execute(q).scalar_one()
        by_table = {}
        for name in ANCESTOR_TABLES:
            t = schema.metadata.tables[name]
            same = and_(*[t.c[f"l{i}_code"].is_not_distinct_from(u.c[f"l{i}_code"]) for i in range(5)])
            q = select(func.count()).select_from(t.join(u, u.c.code == t.c.unit_code)).where(not_(same))
            by_table[name] = int(conn.execute(q).scalar_one())
    by_code = {r.code: r for r in rows}
    bad_parents = 0
    for r in rows:
        anc = [getattr(r, f"l{i}_code") for i in range(5)]
        if r.level == 0:
            p = by_code.get(r.parent_code) if r.parent_code is not None else None
            ok = p is None  # none, or a unit outside this database
        else:
            p = by_code.get(r.parent_code)
            ok = p is not None and p.level == r.level - 1
        ok = ok and 0 <= r.level <= 4 and anc[r.level] == r.code and all(
            anc[i] is not None for i in range(r.level + 1)) and all(anc[i] is None for i in range(r.level + 1, 5))
        bad_parents += not ok
    chains = _chains(by_code)
    by_table["units"] = sum(1 for r in rows if chains.get(r.code) != [getattr(r, f"l{i}_code") for i in range(5)])
    geoms = {r.code: shapely.from_wkb(r.geom_wkb) for r in rows if r.geom_wkb is not None}
    invalid = sum(1 for g in geoms.values() if g.is_empty or not g.is_valid)
    tol = nesting_tolerance_m / 111_000  # degrees, conservative at this latitude
    not_nested = 0
    for r in rows:
        g, p = geoms.get(r.code), geoms.get(r.parent_code)
        if g is not None and p is not None and not g.is_empty and g.is_valid and p.is_valid:
            if g.difference(p.buffer(tol)).area > 1e-4 * g.area:
                not_nested += 1
    return {"units": level_counts(engine), "events": int(n_events), "orphans": int(orphans),
            "invalid_geometries": invalid, "bad_parents": bad_parents,
            "bad_ancestors": sum(by_table.values()), "bad_ancestors_by_table": {k: v for k, v in by_table.items() if v},
            "not_nested": not_nested, "calendar_years_missing": calendar_years_missing(engine, as_of)}


def _chains(by_code: dict) -> dict[str, list]:
    """Each unit's ancestor codes by level as its parents give them (None where the chain is broken)."""
    out: dict[str, list | None] = {}

    def chain(code: str, depth: int = 0):
        if code in out:
            return out[code]
        r = by_code[code]
        if depth > 5 or not 0 <= r.level <= 4:
            c = None
        elif r.level == 0:
            c = [code, None, None, None, None]
        else:
            p = by_code.get(r.parent_code)
            pc = chain(p.code, depth + 1) if p is not None and p.level == r.level - 1 else None
            c = None if pc is None else [*pc[:r.level], code, *[None] * (4 - r.level)]
        out[code] = c
        return c

    for code in by_code:
        chain(code)
    return out
