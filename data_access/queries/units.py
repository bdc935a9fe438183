"""The grid hierarchy: look-ups, children, breadcrumbs and geometries."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Engine, func, select

from data_access.db.connection import connect
from data_access.db.schema import units
from data_access.errors import OutOfScopeError, UnknownUnitError
from data_access.filters import Scope, Unit, _apply_scope, validate_code

_ANCESTORS = [units.c[f"l{lv}_code"] for lv in range(5)]


def _row_to_unit(row) -> Unit:
    return Unit(
        code=row.code,
        name=row.name,
        level=row.level,
        parent_code=row.parent_code,
        kind=row.kind,
        ancestors=tuple(getattr(row, f"l{lv}_code") for lv in range(5)),
    )


def get_unit(engine: Engine, code: str) -> Unit:
    """The unit with ``code``; raises :class:`UnknownUnitError` if malformed or absent."""
    try:
        validate_code(code)
    except Exception as exc:
        raise UnknownUnitError(code) from exc
    q = select(units.c.code, units.c.name, units.c.level, units.c.parent_code, units.c.kind, *_ANCESTORS).where(
        units.c.code == code
    )
    with connect(engine) as conn:
        row = conn.execute(q).first()
    if row is None:
        raise UnknownUnitError(code)
    return _row_to_unit(row)


def root_units(engine: Engine, scope: Scope) -> list[Unit]:
    """The top units a caller sees: the scope's own unit, or every level-0 unit."""
    if not scope.is_all:
        return [get_unit(engine, scope.unit_code)]
    q = select(units.c.code, units.c.name, units.c.level, units.c.parent_code, units.c.kind, *_ANCESTORS).where(
        units.c.level == 0
    ).order_by(units.c.code)
    with connect(engine) as conn:
        return [_row_to_unit(r) for r in conn.execute(q)]


def home_unit(engine: Engine, scope: Scope) -> Unit:
    """The unit a page shows when none is asked for: the scope root or the first district."""
    roots = root_units(engine, scope)
    if not roots:
        raise UnknownUnitError("(empty database)")
    return roots[0]


def resolve_unit(engine: Engine, scope: Scope, code: str | None) -> Unit:
    """The focus unit for ``code`` checked against ``scope``.

    ``None`` gives :func:`home_unit`. Raises :class:`UnknownUnitError` for a bad or
    unknown code and :class:`OutOfScopeError` when the unit lies outside ``scope``.
    """
    if code is None:
        return home_unit(engine, scope)
    unit = get_unit(engine, code)
    if not unit.within(scope):
        raise OutOfScopeError(code)
    return unit


def breadcrumb(engine: Engine, scope: Scope, unit: Unit) -> list[Unit]:
    """Ancestors of ``unit`` from the top visible to the caller down to ``unit`` itself."""
    codes = [c for c in unit.ancestors[: unit.level + 1] if c]
    q = select(units.c.code, units.c.name, units.c.level, units.c.parent_code, units.c.kind, *_ANCESTORS).where(
        units.c.code.in_(codes)
    )
    with connect(engine) as conn:
        found = {r.code: _row_to_unit(r) for r in conn.execute(q)}
    chain = [found[c] for c in codes if c in found]
    return [u for u in chain if u.within(scope)]


def unit_info(engine: Engine, scope: Scope, unit: Unit) -> dict:
    """Card data for ``unit``: name, level, kind, population, households, grid worker, area (km²),
    child count."""
    q = _apply_scope(
        select(
            units.c.code, units.c.name, units.c.level, units.c.kind, units.c.population, units.c.households,
            units.c.grid_worker, units.c.grid_worker_phone, units.c.area_km2,
        ).where(units.c.code == unit.code),
        units, scope,
    )
    cq = _apply_scope(select(func.count()).select_from(units).where(units.c.parent_code == unit.code), units, scope)
    with connect(engine) as conn:
        row = conn.execute(q).mappings().first()
        n_children = conn.execute(cq).scalar_one()
    return {**dict(row), "children": n_children} if row else {}


def children(engine: Engine, scope: Scope, unit: Unit) -> pd.DataFrame:
    """Direct children of ``unit`` inside ``scope``.

    Columns: code, name, level, kind, population, households, grid_worker, area_km2,
    center_lon, center_lat (degrees WGS84). Ordered by code.
    """
    q = _apply_scope(
        select(
            units.c.code, units.c.name, units.c.level, units.c.kind, units.c.population, units.c.households,
            units.c.grid_worker, units.c.area_km2, units.c.center_lon, units.c.center_lat,
        ).where(units.c.parent_code == unit.code),
        units, scope,
    ).order_by(units.c.code)
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])


def units_at_level(engine: Engine, scope: Scope, unit: Unit, level: int) -> pd.DataFrame:
    """Units at ``level`` under ``unit`` (inside ``scope``): code, name, level, parent_code, population."""
    q = _apply_scope(
        select(units.c.code, units.c.name, units.c.level, units.c.parent_code, units.c.population).where(
            units.c.level == level
        ),
        units, scope, unit,
    ).order_by(units.c.code)
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])


def geometries(engine: Engine, scope: Scope, parent: Unit | None = None, level: int | None = None,
               codes: list[str] | None = None, bounds: tuple[float, float, float, float] | None = None
               ) -> gpd.GeoDataFrame:
    """Unit polygons inside ``scope`` as a GeoDataFrame in EPSG:4326.

    Select by ``parent`` (its direct children), by ``level`` (under ``parent`` if given), by
    explicit ``codes``, and/or by ``bounds`` (min_lon, min_lat, max_lon, max_lat: units whose
    centre lies inside). Columns: code, name, level, parent_code, kind, population, center_lon,
    center_lat, geometry.
    """
    cols = [units.c.code, units.c.name, units.c.level, units.c.parent_code, units.c.kind, units.c.population,
            units.c.center_lon, units.c.center_lat, units.c.geom_wkb]
    q = select(*cols)
    if level is not None:
        q = q.where(units.c.level == level)
        if parent is not None:
            q = q.where(units.c[f"l{parent.level}_code"] == parent.code)
    elif parent is not None:
        q = q.where(units.c.parent_code == parent.code)
    if codes is not None:
        q = q.where(units.c.code.in_(codes))
    if bounds is not None:
        x0, y0, x1, y1 = (float(v) for v in bounds)
        q = q.where(units.c.center_lon.between(x0, x1), units.c.center_lat.between(y0, y1))
    q = _apply_scope(q, units, scope).order_by(units.c.code)
    with connect(engine) as conn:
        rows = conn.execute(q).all()
    df = pd.DataFrame(rows, columns=[c.name for c in cols])
    geom = shapely.from_wkb(df.pop("geom_wkb").to_numpy()) if len(df) else []
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geom, crs="EPSG:4326"), crs="EPSG:4326")


def level_counts(engine: Engine) -> dict[str, int]:
    """Number of units per level, keys '0'…'4' (whole database; for the integrity check)."""
    with connect(engine) as conn:
        rows = conn.execute(select(units.c.level, func.count()).group_by(units.c.level)).all()
    return {str(lv): n for lv, n in sorted(rows)}
