"""Preview of a boundary file before import: its polygons over the units already in the database."""

from __future__ import annotations

import json

import geopandas as gpd
import pydeck as pdk
import shapely
import streamlit as st

from data_access.filters import Scope
from data_access.queries.units import geometries
from geo import round_coords

from .data import db_url, engine
from .grid_map import fit_view

NEW_RGB, OLD_RGB = [0, 229, 255], [255, 179, 0]
# Names and codes come from an uploaded file: a text tooltip (set as innerText by the browser), never HTML.
TOOLTIP = {"text": "{name}\n{code}", "style": {"fontSize": "13px", "whiteSpace": "pre-line"}}


def _features(gdf: gpd.GeoDataFrame) -> dict:
    gdf = gdf[["code", "name", "geometry"]].copy()
    gdf["geometry"] = [_display(g) for g in gdf.geometry]
    return json.loads(gdf.to_json(drop_id=True))


def _display(geom):
    """``geom`` simplified to about a metre and rounded (outlines only; survey detail would weigh on the
    browser); an invalid geometry from a file is repaired first, and shown as it is if that fails."""
    try:
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        return round_coords(shapely.simplify(geom, 1e-5, preserve_topology=True))
    except shapely.errors.GEOSException:
        return geom


def boundary_overlay(new: gpd.GeoDataFrame, scope: Scope, total: int | None = None, height: int = 460) -> dict:
    """Draw ``new`` (columns code, name, level, geometry; EPSG:4326: the file's first features, a
    sample of ``total``) filled in cyan under the outlines of the existing units of the same levels
    around it (amber). Returns counts {"new", "existing" (outlines drawn)}."""
    if new.empty:
        st.info("文件中没有可显示的边界。")
        return {"new": 0, "existing": 0}
    bounds = tuple(float(v) for v in new.total_bounds)
    x0, y0, x1, y1 = bounds
    dx, dy = (x1 - x0) * 0.5, (y1 - y0) * 0.5  # the neighbours around the file's extent too
    old = geometries(engine(db_url()), scope, bounds=(x0 - dx, y0 - dy, x1 + dx, y1 + dy))
    old = old[old["level"].isin([lv for lv in new["level"].dropna().unique()])]
    layers = [  # existing outlines drawn last: visible even where a re-import has the same shape
        pdk.Layer("GeoJsonLayer", _features(new), id="incoming", stroked=True, filled=True,
                  get_fill_color=NEW_RGB + [80], get_line_color=NEW_RGB + [255], line_width_min_pixels=3,
                  pickable=True),
        pdk.Layer("GeoJsonLayer", _features(old), id="existing", stroked=True, filled=False,
                  get_line_color=OLD_RGB + [230], line_width_min_pixels=1.2, pickable=True),
    ]
    deck = pdk.Deck(layers=layers, initial_view_state=fit_view(list(bounds), 1000, height), map_provider=None,
                    tooltip=TOOLTIP)
    st.pydeck_chart(deck, height=height, key="import_preview_map")
    shown = f"{len(new)}" if total is None or total <= len(new) else f"预览前 {len(new):,} 个，共 {total:,} 个"
    st.html(f'<div data-testid="import-legend" style="font-size:13px">'
            f'<span style="color:rgb({",".join(map(str, NEW_RGB))})">■ 待导入边界（{shown}）</span>　'
            f'<span style="color:rgb({",".join(map(str, OLD_RGB))})">□ 现有网格（{len(old)}）</span></div>')
    return {"new": len(new), "existing": len(old)}
