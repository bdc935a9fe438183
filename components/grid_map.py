"""The grid map: the focus unit's children filled by warning colour, click to drill down.

Note: pydeck serialises plain strings as JavaScript expressions, so literal string props
(character set, font family, units) are wrapped in ``pydeck.types.String``.

Offline by design: ``pdk.Deck(map_provider=None)`` with no ``map_style``; an intranet tile
server can be configured with ``BASEMAP_TILE_URL`` (an XYZ template; drawn as one BitmapLayer per
tile covering the fitted view, see :mod:`geo.tiles`) and ``BASEMAP_CRS=gcj02`` when its tiles are
GCJ-02, in which case our WGS84 polygons, points and tracks are shifted to match. Geometry is simplified per
level and rounded before it is sent, and cached: it does not change between refreshes, so
pydeck keeps the user's view (it resets when the deck's data changes).
"""

from __future__ import annotations

import html
import json
import math

import pydeck as pdk
import streamlit as st
from pydeck.types import String

from common import settings
from common.colors import WARNING_COLORS, WARNING_LABELS
from data_access.filters import Scope

from .data import current_version, db_url, engine, query, scope_key
from .live import last_good

LAYERS = {"fill": "四色预警", "labels": "边界与名称", "events": "事件分布", "patrols": "巡逻轨迹",
          "cameras": "视频监控", "police": "警务室"}
DEFAULT_LAYERS = ("fill", "labels")
_RGBA = {k: [int(v[i:i + 2], 16) for i in (1, 3, 5)] for k, v in WARNING_COLORS.items()}
# A text tooltip: the browser sets it as innerText, so a unit name is never parsed as HTML (an "html"
# tooltip relies on the frontend escaping each interpolated value).
TOOLTIP = {"text": "{name}\n{warning}", "style": {"fontSize": "14px", "whiteSpace": "pre-line"}}
STATUS_RGB = {"reported": [255, 82, 82], "dispatched": [255, 179, 0], "handled": [255, 235, 59],
              "closed": [105, 240, 174]}


@st.cache_data(ttl=3600, show_spinner=False, max_entries=512)
def map_features(db: str, scope: tuple, unit_code: str, version: str = "") -> dict:
    """Simplified, rounded GeoJSON of the children of ``unit_code`` (or the unit itself at the lowest
    level), plus the focus outline and the bounds. Cached: geometry does not change between refreshes;
    ``version`` (the data version) makes a boundary import show at once."""
    from data_access.queries.units import geometries, get_unit
    from geo import round_coords, simplify_coverage

    eng = engine(db)
    sc = Scope(*scope)
    unit = get_unit(eng, unit_code)
    gdf = geometries(eng, sc, parent=unit)
    if gdf.empty:  # a building: show it alone
        gdf = geometries(eng, sc, codes=[unit.code])
    level = int(gdf["level"].iloc[0]) if len(gdf) else unit.level
    if len(gdf):
        gdf["geometry"] = [round_coords(g) for g in simplify_coverage(gdf.geometry, level)]
    gdf["center_lon"] = gdf["center_lon"].round(5)
    gdf["center_lat"] = gdf["center_lat"].round(5)
    outline = geometries(eng, sc, codes=[unit.code])
    bounds = [float(x) for x in outline.total_bounds] if len(outline) else [float(x) for x in gdf.total_bounds]
    return {"children": json.loads(gdf[["code", "name", "center_lon", "center_lat", "geometry"]].to_json(drop_id=True)),
            "bounds": bounds, "level": level}


def fit_view(bounds: list[float], width: int, height: int) -> pdk.ViewState:
    """A view fitting ``bounds`` (min_lon, min_lat, max_lon, max_lat) into width×height pixels."""
    x0, y0, x1, y1 = bounds
    merc = lambda y: math.log(math.tan(math.pi / 4 + math.radians(y) / 2))  # noqa: E731
    zx = math.log2(width / 512 * 360 / max(x1 - x0, 1e-6))
    zy = math.log2(height / 512 * 2 * math.pi / max(merc(y1) - merc(y0), 1e-9))
    return pdk.ViewState(longitude=(x0 + x1) / 2, latitude=(y0 + y1) / 2, zoom=min(zx, zy, 19) - 0.2)


def _gcj02_tiles() -> bool:
    """True when the configured basemap's tiles are GCJ-02 (our data is then shifted onto them)."""
    return settings.get("BASEMAP_CRS").lower() == "gcj02"


def _basemap(view: pdk.ViewState, bounds: list[float]) -> list:
    """One BitmapLayer per intranet tile covering the fitted view (none unless BASEMAP_TILE_URL is set)."""
    url = settings.get("BASEMAP_TILE_URL")
    if not url:
        return []
    from geo.tiles import covering_tiles

    max_zoom = settings.get("BASEMAP_MAX_ZOOM")
    return [pdk.Layer("BitmapLayer", data=None, id=f"basemap-{t.z}-{t.x}-{t.y}", image=String(t.url),
                      bounds=list(t.bounds), opacity=settings.get("BASEMAP_OPACITY"))
            for t in covering_tiles(tuple(bounds), view.zoom, url, max_zoom=max_zoom)]


def _basemap_bounds(bounds: list[float]) -> list[float]:
    """The view bounds in the basemap's coordinates (GCJ-02 tiles: shifted like the data)."""
    if not _gcj02_tiles():
        return bounds
    from geo import wgs84_to_gcj02

    (x0, y0), (x1, y1) = wgs84_to_gcj02(bounds[0], bounds[1]), wgs84_to_gcj02(bounds[2], bounds[3])
    return [x0, y0, x1, y1]


def _shift_for_basemap(features: dict) -> dict:
    """Move WGS84 data onto GCJ-02 tiles when the configured basemap uses GCJ-02."""
    if not _gcj02_tiles():
        return features
    from shapely.geometry import mapping, shape

    from geo import transform_geometry, wgs84_to_gcj02

    for f in features["features"]:
        f["geometry"] = mapping(transform_geometry(shape(f["geometry"]), wgs84_to_gcj02))
    return features


def _shift_points(df):
    """Points (``lon``/``lat`` columns) and paths (``path`` column) onto GCJ-02 tiles when configured."""
    if not _gcj02_tiles() or df.empty:
        return df
    from geo import wgs84_to_gcj02

    df = df.copy()
    if "lon" in df:
        df["lon"], df["lat"] = wgs84_to_gcj02(df["lon"].to_numpy(), df["lat"].to_numpy())
    if "path" in df:
        df["path"] = [[list(wgs84_to_gcj02(x, y)) for x, y in p] for p in df["path"]]
    return df


def grid_map(ctx, layers: set[str] | None = None, height: int = 650, key: str = "grid_map",
             width_hint: int = 1100, flt=None) -> str | None:
    """Draw the focus unit's children; returns the code of a clicked child (or None).

    ``layers``: subset of :data:`LAYERS` keys. Colours come from the warning engine for the
    period; the same colours and reasons appear in the unit card, the overview and the PDF.
    """
    layers = set(DEFAULT_LAYERS if layers is None else layers)
    # Through last_good: on a wall, a database outage longer than the cache TTL keeps the last map.
    feats, _ = last_good(f"map:{ctx.unit.code}", lambda: map_features(db_url(), scope_key(ctx.scope), ctx.unit.code,
                                                                current_version()))
    warn, _ = last_good(f"map_warnings:{ctx.unit.code}:{ctx.period.token}",
                        lambda: query("child_warnings", ctx.scope, ctx.unit.code, ctx.period.token,
                                              as_of=ctx.as_of))
    color = dict(zip(warn["code"], warn["color"])) if len(warn) else {}
    label = dict(zip(warn["code"], warn["color_label"])) if len(warn) else {}
    gj = {"type": "FeatureCollection", "features": []}
    for f in feats["children"]["features"]:
        p = f["properties"]
        c = color.get(p["code"], "none")
        alpha = 175 if "fill" in layers else 0
        p["fill"] = _RGBA[c] + [alpha]
        p["warning"] = label.get(p["code"], "正常")
        gj["features"].append(f)
    gj = _shift_for_basemap(gj)
    bounds = _basemap_bounds(feats["bounds"])
    view = fit_view(bounds, width_hint, height)
    deck_layers = _basemap(view, bounds) + [pdk.Layer(
        "GeoJsonLayer", gj, id="children", pickable=True, stroked=True, filled=True, auto_highlight=True,
        get_fill_color="properties.fill", get_line_color=[210, 232, 255, 230], line_width_min_pixels=1.2,
        highlight_color=[255, 255, 255, 70])]
    if "labels" in layers:
        pts = [{"name": f["properties"]["name"], "pos": [f["properties"]["center_lon"], f["properties"]["center_lat"]]}
               for f in gj["features"]]
        deck_layers.append(pdk.Layer(
            "TextLayer", pts, id="labels", get_position="pos", get_text="name", get_size=14,
            size_units=String("pixels"),
            get_color=[255, 255, 255], character_set=String("auto"),
            font_family=String('"Noto Sans CJK SC", "Microsoft YaHei", sans-serif'),
            background=True, get_background_color=[7, 20, 43, 150], background_padding=[3, 1], billboard=True))
    deck_layers += _point_layers(ctx, layers, flt)
    deck = pdk.Deck(layers=deck_layers, initial_view_state=view,
                    map_provider=None, tooltip=TOOLTIP)
    event = st.pydeck_chart(deck, height=height, key=key, on_select="rerun", selection_mode="single-object")
    return _clicked_code(event)


def _clicked_code(event) -> str | None:
    """The code of the clicked child feature in a pydeck selection event, if any."""
    try:
        objs = event.selection.get("objects", {}).get("children") or []
    except AttributeError:
        return None
    if objs:
        props = objs[0].get("properties", objs[0])
        return props.get("code")
    return None


def _point_layers(ctx, layers: set[str], flt) -> list:
    out = []
    if "events" in layers:
        pts = _shift_points(query("event_points", ctx.scope, ctx.unit.code, ctx.period.token, flt=flt))
        if len(pts):
            if len(pts) > 3000:
                out.append(pdk.Layer("HexagonLayer", pts[["lon", "lat"]].to_dict("records"), id="events_hex",
                                     get_position=["lon", "lat"], radius=250 if ctx.unit.level <= 1 else 80,
                                     elevation_scale=0, extruded=False, opacity=0.55, coverage=0.9,
                                     color_range=[[255, 255, 178], [254, 204, 92], [253, 141, 60], [240, 59, 32],
                                                  [189, 0, 38], [128, 0, 38]]))
            else:
                pts = pts.assign(color=pts["status"].map(STATUS_RGB))
                out.append(pdk.Layer("ScatterplotLayer", pts[["lon", "lat", "color"]].to_dict("records"),
                                     id="events", get_position=["lon", "lat"], get_fill_color="color",
                                     get_radius=4, radius_units=String("pixels"), opacity=0.85))
    if "patrols" in layers:
        tr = _shift_points(query("patrol_tracks", ctx.scope, ctx.unit.code, ctx.period.token))
        if len(tr):
            out.append(pdk.Layer("PathLayer", tr[["path"]].to_dict("records"), id="patrols", get_path="path",
                                 get_color=[0, 229, 255, 120], width_min_pixels=1.5))
    if "cameras" in layers:
        cams = _shift_points(query("camera_points", ctx.scope, ctx.unit.code))
        if len(cams):
            cams = cams.assign(color=[[105, 240, 174] if o else [255, 82, 82] for o in cams["online"]])
            out.append(pdk.Layer("ScatterplotLayer", cams[["lon", "lat", "color"]].to_dict("records"), id="cameras",
                                 get_position=["lon", "lat"], get_fill_color="color", get_radius=3,
                                 radius_units=String("pixels")))
    if "police" in layers:
        rooms = _shift_points(query("police_room_points", ctx.scope, ctx.unit.code))
        if len(rooms):
            out.append(pdk.Layer("ScatterplotLayer", rooms.to_dict("records"), id="police",
                                 get_position=["lon", "lat"], get_fill_color=[33, 150, 243], get_line_color=[255] * 3,
                                 stroked=True, line_width_min_pixels=2, get_radius=7, radius_units=String("pixels")))
    return out


def legend(layers: set[str] | None = None) -> None:
    """The always-visible legend: warning colours (with names, not colour alone) and active layers."""
    layers = set(DEFAULT_LAYERS if layers is None else layers)
    items = [(WARNING_COLORS[k], n) for k, n in WARNING_LABELS.items()]
    if "events" in layers:
        items += [("#FF5252", "事件·待派单"), ("#FFB300", "事件·处置中"), ("#FFEB3B", "事件·待核查"),
                  ("#69F0AE", "事件·已办结")]
    if "cameras" in layers:
        items += [("#69F0AE", "监控在线"), ("#FF5252", "监控离线")]
    if "police" in layers:
        items += [("#2196F3", "警务室")]
    if "patrols" in layers:
        items += [("#00E5FF", "巡逻轨迹")]
    chips = "".join(f'<span style="display:inline-flex;align-items:center;margin-right:12px;white-space:nowrap">'
                    f'<i style="display:inline-block;width:12px;height:12px;border-radius:2px;background:{c};'
                    f'margin-right:4px"></i>{html.escape(n)}</span>' for c, n in items)
    st.html(f'<div data-testid="map-legend" style="font-size:13px;color:#CFE3FF;line-height:1.9">{chips}</div>')
