"""Minimal grid map (children of the focus unit), replaced by the full drill-down map component."""

from __future__ import annotations

import json

import pydeck as pdk
import streamlit as st

from .data import query

_FILL = {"good": [30, 136, 229, 150], "warn": [253, 216, 53, 170], "bad": [229, 57, 53, 180]}


@st.cache_data(ttl=3600, show_spinner=False)
def _children_geojson(db: str, scope: tuple, unit_code: str) -> str:
    from data_access.filters import Scope
    from data_access.units import geometries, get_unit
    from geo import simplify_coverage

    from .data import engine

    eng = engine(db)
    gdf = geometries(eng, Scope(*scope), parent=get_unit(eng, unit_code))
    if not gdf.empty:
        gdf["geometry"] = simplify_coverage(gdf.geometry, int(gdf["level"].iloc[0]))
    return gdf[["code", "name", "geometry"]].to_json(drop_id=True)


def grid_map(ctx, layers: set[str] | None = None, height: int = 600, key: str = "grid_map") -> str | None:
    """Draw the focus unit's children filled by closure rate; returns a clicked child code or None."""
    from .data import db_url, scope_key

    gj = json.loads(_children_geojson(db_url(), scope_key(ctx.scope), ctx.unit.code))
    kpis = query("child_event_kpis", ctx.scope, ctx.unit.code, ctx.period.token).set_index("code")
    for f in gj["features"]:
        rate = kpis["closure_rate"].get(f["properties"]["code"])
        band = "bad" if rate is not None and rate < 0.95 else "warn" if rate is not None and rate < 0.99 else "good"
        f["properties"]["fill"] = _FILL[band]
    b = gj.get("bbox")
    lons = [c[0] for f in gj["features"] for ring in _rings(f["geometry"]) for c in ring]
    lats = [c[1] for f in gj["features"] for ring in _rings(f["geometry"]) for c in ring]
    view = _fit_view(min(lons), min(lats), max(lons), max(lats), height) if lons else \
        pdk.ViewState(latitude=33.62, longitude=114.7, zoom=10)
    del b
    layer = pdk.Layer("GeoJsonLayer", gj, id="children", pickable=True, stroked=True, filled=True,
                      get_fill_color="properties.fill", get_line_color=[200, 230, 255], line_width_min_pixels=1)
    deck = pdk.Deck(layers=[layer], initial_view_state=view, map_provider=None, tooltip={"text": "{name}"})
    st.pydeck_chart(deck, height=height, key=key)
    return None


def _fit_view(x0: float, y0: float, x1: float, y1: float, height: int, width: int = 900) -> pdk.ViewState:
    """A view that fits the bounds into a ``width``×``height`` pixel map (Web Mercator zoom)."""
    import math

    lat_rad = lambda y: math.log(math.tan(math.pi / 4 + math.radians(y) / 2))  # noqa: E731
    zx = math.log2(width / 512 * 360 / max(x1 - x0, 1e-6))
    zy = math.log2(height / 512 * 2 * math.pi / max(lat_rad(y1) - lat_rad(y0), 1e-9))
    return pdk.ViewState(longitude=(x0 + x1) / 2, latitude=(y0 + y1) / 2, zoom=min(zx, zy) - 0.15)


def _rings(geom):
    if geom["type"] == "Polygon":
        return geom["coordinates"]
    return [ring for poly in geom["coordinates"] for ring in poly]
