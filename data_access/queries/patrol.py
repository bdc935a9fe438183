"""Patrol coverage (巡逻防控): cells visited, 一日双巡, the three-minute patrol circle, teams, cameras.

One implementation of patrol coverage for every surface: :func:`_coverage` counts the cells and those
:func:`patrolled` in the period, for a unit (:func:`patrol_coverage`) or per unit at a level (:func:`coverage_by`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, and_, case, distinct, func, select

from data_access.db.connection import connect
from data_access.db.schema import cameras, patrol_visits, patrols, police_rooms, units
from data_access.filters import Period, Scope, Unit, _apply_scope
from data_access.vocab import TEAM_KINDS

PV = patrol_visits


def _visits_in(period: Period):
    return and_(PV.c.visited_on >= period.start, PV.c.visited_on < period.end)


def patrolled(period: Period):
    """True for a grid cell (a row of ``units``) a patrol track passed in ``period`` — an index probe per
    cell, instead of joining the whole city's visits of the period. The one definition of "covered"."""
    return select(PV.c.unit_code).where(PV.c.unit_code == units.c.code, _visits_in(period)).exists()


def _coverage(scope: Scope, unit: Unit, period: Period, *group):
    """cells, covered of the grid cells (level-4 units) under ``unit``: the one count behind every coverage."""
    covered = func.coalesce(func.sum(case((patrolled(period), 1), else_=0)), 0)
    return _apply_scope(select(*group, func.count(), covered).where(units.c.level == 4), units, scope, unit)


def coverage_by(engine: Engine, scope: Scope, unit: Unit, period: Period, level: int) -> pd.DataFrame:
    """Patrol coverage (巡逻覆盖率) per unit at ``level`` under ``unit``: the share of its grid cells (level-4
    units) a patrol track passed in ``period``.

    Columns: code, cells, covered, coverage (0–1, NaN without cells). Units without cells are absent.
    """
    grp = units.c[f"l{min(level, 4)}_code"]
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(_coverage(scope, unit, period, grp).group_by(grp)).all(),
                          columns=["code", "cells", "covered"])
    df = df.astype({"cells": "int64", "covered": "int64"})
    df["coverage"] = (df["covered"] / df["cells"].where(df["cells"] > 0)).astype(float)
    return df


def patrol_coverage(engine: Engine, scope: Scope, unit: Unit, period: Period) -> dict:
    """:func:`coverage_by` for ``unit`` itself (the same count, without grouping).

    Keys: cells, covered, coverage (0–1, NaN without cells).
    """
    with connect(engine) as conn:
        cells, covered = conn.execute(_coverage(scope, unit, period)).one()
    return {"cells": int(cells), "covered": int(covered), "coverage": covered / cells if cells else float("nan")}


def patrol_summary(engine: Engine, scope: Scope, unit: Unit, period: Period) -> dict:
    """:func:`patrol_coverage` plus patrols (patrols started in ``period`` whose home unit is under ``unit``)
    and km (their total length)."""
    pq = _apply_scope(select(func.count(), func.coalesce(func.sum(patrols.c.length_km), 0.0)).where(
        patrols.c.started_at >= period.start_dt, patrols.c.started_at < period.end_dt), patrols, scope, unit)
    with connect(engine) as conn:
        n, km = conn.execute(pq).one()
    return patrol_coverage(engine, scope, unit, period) | {"patrols": int(n), "km": float(km)}


def coverage_by_child(engine: Engine, scope: Scope, unit: Unit, period: Period, level: int | None = None
                      ) -> pd.DataFrame:
    """:func:`coverage_by` per unit at ``level`` (default: children) under ``unit``, with names.

    Columns: code, name, cells (level-4 cells), covered_cells, coverage (0–1, cell share), covered (bool:
    a patrol passed any of its cells).
    """
    lvl = min(unit.level + 1 if level is None else level, 4)
    names_q = _apply_scope(select(units.c.code, units.c.name).where(units.c.level == lvl), units, scope, unit)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(names_q.order_by(units.c.code)).all(), columns=["code", "name"])
    cov = coverage_by(engine, scope, unit, period, lvl).set_index("code")
    df["cells"] = df["code"].map(cov["cells"]).fillna(0).astype("int64")
    df["covered_cells"] = df["code"].map(cov["covered"]).fillna(0).astype("int64")
    df["coverage"] = df["covered_cells"] / df["cells"].where(df["cells"] > 0)
    df["covered"] = df["covered_cells"] > 0
    return df


def double_patrol(engine: Engine, scope: Scope, unit: Unit, period: Period) -> dict:
    """一日双巡: share of cell-days with at least two patrols, over all level-4 cells and days of the period.

    Keys: cells, days, cell_days_twice (count), compliance (0–1), cell_days_once (count).
    """
    per_day = _apply_scope(select(PV.c.visited_on, PV.c.unit_code, func.count().label("n")).select_from(
        PV.join(units, units.c.code == PV.c.unit_code)).where(_visits_in(period)), units, scope, unit).group_by(
        PV.c.visited_on, PV.c.unit_code).subquery()
    q = select(func.sum(case((per_day.c.n >= 2, 1), else_=0)), func.count())
    cells_q = _apply_scope(select(func.count()).where(units.c.level == 4), units, scope, unit)
    with connect(engine) as conn:
        twice, any_ = conn.execute(q).one()
        cells = conn.execute(cells_q).scalar_one()
    days = period.days
    return {"cells": int(cells), "days": days, "cell_days_twice": int(twice or 0), "cell_days_once": int(any_ or 0),
            "compliance": (twice or 0) / (cells * days) if cells and days else float("nan")}


def three_minute_circle(engine: Engine, scope: Scope, unit: Unit, speed_kmh: float = 30.0, minutes: float = 3.0
                        ) -> dict:
    """The three-minute patrol circle around police rooms and stations (patrol posts) under ``unit``.

    Reach = speed × minutes as a metric buffer (UTM) around each post. Keys: radius_m, posts,
    area_share, building_share, population_share (0–1), circle (shapely geometry in WGS84, may be empty).
    """
    from geo import from_metric, metric_crs, to_metric

    radius = speed_kmh * 1000 / 60 * minutes
    with connect(engine) as conn:
        posts = conn.execute(_apply_scope(select(police_rooms.c.lon, police_rooms.c.lat), police_rooms, scope, unit)
                             ).all()
        me = conn.execute(_apply_scope(select(units.c.geom_wkb, units.c.center_lon, units.c.center_lat)
                                       .where(units.c.code == unit.code), units, scope)).first()
        leaves = conn.execute(_apply_scope(select(units.c.center_lon, units.c.center_lat, units.c.population)
                                           .where(units.c.level == 4), units, scope, unit)).all()
    empty = {"radius_m": radius, "posts": len(posts), "area_share": 0.0, "building_share": 0.0,
             "population_share": 0.0, "circle": shapely.GeometryCollection()}
    if me is None or me.geom_wkb is None:
        return empty
    crs = metric_crs(me.center_lon, me.center_lat)
    area = to_metric(shapely.from_wkb(me.geom_wkb), crs)
    if not posts:
        return empty
    pts = to_metric(shapely.MultiPoint([(p.lon, p.lat) for p in posts]), crs)
    circle = shapely.intersection(pts.buffer(radius, quad_segs=16), area)
    pop = np.array([r.population or 0 for r in leaves], dtype=float)
    if leaves:
        centers = to_metric(shapely.points([(r.center_lon, r.center_lat) for r in leaves]), crs)
        inside = shapely.contains_xy(circle, shapely.get_x(centers), shapely.get_y(centers))
    else:
        inside = np.array([], dtype=bool)
    return {"radius_m": radius, "posts": len(posts), "area_share": circle.area / area.area if area.area else 0.0,
            "building_share": float(inside.mean()) if len(inside) else 0.0,
            "population_share": float(pop[inside].sum() / pop.sum()) if pop.sum() else 0.0,
            "circle": from_metric(circle, crs)}


def team_stats(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """Patrol teams by kind: team_kind, label, teams, patrols, hours, km."""
    hours = (func.julianday(patrols.c.ended_at) - func.julianday(patrols.c.started_at)) * 24 \
        if engine.dialect.name == "sqlite" else func.extract("epoch", patrols.c.ended_at - patrols.c.started_at) / 3600
    q = _apply_scope(select(patrols.c.team_kind, func.count(distinct(patrols.c.team)), func.count(), func.sum(hours),
                            func.sum(patrols.c.length_km))
                     .where(patrols.c.started_at >= period.start_dt, patrols.c.started_at < period.end_dt),
                     patrols, scope, unit if unit.level <= 1 else _subdistrict(unit)).group_by(patrols.c.team_kind)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["team_kind", "teams", "patrols", "hours", "km"])
    df.insert(1, "label", df["team_kind"].map(TEAM_KINDS))
    df["hours"] = df["hours"].astype(float).round(1)
    df["km"] = df["km"].astype(float).round(1)
    return df


def _subdistrict(unit: Unit) -> Unit:
    return Unit(unit.ancestors[1], "", 1, unit.ancestors[0], "", unit.ancestors[:2] + (None, None, None))


def camera_by_child(engine: Engine, scope: Scope, unit: Unit) -> pd.DataFrame:
    """Cameras per child of ``unit``: code, name, cameras, online, online_rate (0–1)."""
    if unit.level >= 4:
        return pd.DataFrame(columns=["code", "name", "cameras", "online", "online_rate"])
    grp = cameras.c[f"l{unit.level + 1}_code"]
    q = _apply_scope(select(grp, func.count(), func.sum(case((cameras.c.online, 1), else_=0))), cameras, scope,
                     unit).group_by(grp)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["code", "cameras", "online"])
        names = dict(conn.execute(_apply_scope(select(units.c.code, units.c.name)
                                               .where(units.c.parent_code == unit.code), units, scope)).all())
    df.insert(1, "name", df["code"].map(names))
    df["online_rate"] = df["online"] / df["cameras"]
    return df.sort_values("online_rate", ignore_index=True)
