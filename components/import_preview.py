"""Preview of a boundary file before import: its polygons over the units already in the database."""

from __future__ import annotations

import json

import geopandas as gpd
import pydeck as pdk
import streamlit as st

from data_access.filters import Scope
from data_access.queries.units import geometries
from geo import round_coords

from .data import db_url, engine
from .grid_map import fit_view

NEW_RGB, OLD_RGB = [0, 229, 255], [255, 179, 0]


def _features(gdf: gpd.GeoDataFrame) -> dict:
    gdf = gdf[["code", "name", "geometry"]].copy()
    gdf["geometry"] = [round_coords(g) for g in gdf.geometry]
    return json.loads(gdf.to_json(drop_id=True))


def boundary_overlay(new: gpd.GeoDataFrame, scope: Scope, height: int = 460) -> dict:
    """Draw ``new`` (columns code, name, level, geometry; EPSG:4326) filled in cyan under the outlines
    of the existing units of the same levels around it (amber). Returns counts {"new", "existing"
    (outlines drawn), "replaced"} where replaced = codes already in the database (a re-import
    updates them)."""
    if new.empty:
        st.info("文件中没有可显示的边界。")
        return {"new": 0, "existing": 0, "replaced": 0}
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
                    tooltip={"html": "<b>{name}</b><br/>{code}", "style": {"fontSize": "13px"}})
    st.pydeck_chart(deck, height=height, key="import_preview_map")
    st.html(f'<div data-testid="import-legend" style="font-size:13px">'
            f'<span style="color:rgb({",".join(map(str, NEW_RGB))})">■ 待导入边界（{len(new)}）</span>　'
            f'<span style="color:rgb({",".join(map(str, OLD_RGB))})">□ 现有网格（{len(old)}）</span></div>')
    # "replaced" counts the file's codes that exist in the whole database, not just in view
    known = geometries(engine(db_url()), scope, codes=new["code"].tolist())
    return {"new": len(new), "existing": len(old), "replaced": int(new["code"].isin(known["code"]).sum())}
