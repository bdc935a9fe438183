"""The wall's map drawn on the server as inline SVG: no WebGL, no JavaScript, one string per view.

Command-center terminals include GPU-less and domestic (信创) PCs whose browsers render WebGL in
software or not at all; deck.gl cost a GPU-less wall seconds per refresh. The wall's map shows the
children of the focus unit filled in the four warning colours, their names, and the rotating focus
outlined — which an SVG does as well, and an SVG string can be rendered once and served to every
wall on the same view (:mod:`components.wall_render`). The interactive map (layers, points, tracks,
zoom) stays deck.gl on 网格地图.

Each child is a link (``<a href="?unit=CODE…" target="_self">``): a click drills down in the same tab,
keeping the wall's other URL parameters. Names are data: every text and attribute is escaped
(:func:`common.markup.h`). Pure function of its inputs, no Streamlit.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from common.colors import WARNING_COLORS
from common.markup import h

FOCUS_STROKE = "#FFD23F"
LINE = "#D2E8FF"


def _projector(bounds: list[float], width: int, height: int, pad: float):
    """lon/lat → SVG pixels: equirectangular scaled by cos(latitude) (a district is small), fitted."""
    x0, y0, x1, y1 = bounds
    kx = math.cos(math.radians((y0 + y1) / 2))
    span_x, span_y = max((x1 - x0) * kx, 1e-9), max(y1 - y0, 1e-9)
    k = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    ox = (width - span_x * k) / 2
    oy = (height - span_y * k) / 2

    def proj(lon: float, lat: float) -> tuple[float, float]:
        return ox + (lon - x0) * kx * k, oy + (y1 - lat) * k

    return proj


def _ring(ring, proj) -> str:
    pts = [proj(x, y) for x, y, *_ in ring]
    if len(pts) < 3:
        return ""
    return "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in pts) + "Z"


def path_d(geometry: dict, proj) -> str:
    """The SVG path data of a GeoJSON Polygon or MultiPolygon (holes as sub-paths, drawn evenodd)."""
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    polys = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    return "".join(_ring(r, proj) for poly in polys for r in poly)


def unit_href(code: str, params: tuple[tuple[str, str], ...] = ()) -> str:
    """The drill-down link: the same page with ``unit`` set and the other URL parameters kept."""
    rest = [(k, v) for k, v in params if k != "unit"]
    return "?" + urlencode([("unit", code), *rest])


def map_svg(features: dict, colors: dict[str, str], labels: dict[str, str], bounds: list[float],
            width: int = 900, height: int = 850, focus: str | None = None,
            params: tuple[tuple[str, str], ...] = (), show_labels: bool = True) -> str:
    """An ``<svg>`` of ``features`` (GeoJSON FeatureCollection with properties code, name, center_lon,
    center_lat) filled by ``colors`` (code → red/orange/yellow/blue/none), ``labels`` (code → warning
    label, shown as the tooltip), the ``focus`` code outlined, each child a drill-down link.

    Empty collection → an SVG with a "暂无边界数据" note.
    """
    proj = _projector(bounds, width, height, pad=12)
    shapes, names, focus_shape = [], [], ""
    for f in features.get("features", []):
        p = f.get("properties", {})
        code = str(p.get("code", ""))
        d = path_d(f.get("geometry") or {}, proj)
        if not d:
            continue
        c = colors.get(code, "none")
        fill = WARNING_COLORS.get(c, WARNING_COLORS["none"])
        title = f'{p.get("name", "")}\n{labels.get(code, "正常")}'
        shapes.append(f'<a href="{h(unit_href(code, params))}" target="_self" data-unit="{h(code)}">'
                      f'<path d="{d}" fill="{fill}" fill-opacity="0.72" data-color="{h(c)}">'
                      f'<title>{h(title)}</title></path></a>')
        if code == focus:
            focus_shape = (f'<path d="{d}" fill="none" stroke="{FOCUS_STROKE}" stroke-width="4" '
                           f'data-testid="map-focus" pointer-events="none"/>')
        if show_labels and p.get("center_lon") is not None:
            x, y = proj(float(p["center_lon"]), float(p["center_lat"]))
            names.append(f'<text x="{x:.1f}" y="{y:.1f}">{h(p.get("name", ""))}</text>')
    if not shapes:
        body = f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" class="empty">暂无边界数据</text>'
    else:
        body = (f'<g stroke="{LINE}" stroke-width="1.2" stroke-opacity="0.9" fill-rule="evenodd">{"".join(shapes)}</g>'
                f'{focus_shape}<g class="lbl" pointer-events="none">{"".join(names)}</g>')
    return (f'<svg class="wall-map" data-testid="wall-map" viewBox="0 0 {width} {height}" '
            f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" role="img">'
            '<style>.wall-map a path:hover{fill-opacity:.95}.wall-map text{font:600 15px "Noto Sans CJK SC",'
            '"Microsoft YaHei",sans-serif;fill:#fff;text-anchor:middle;dominant-baseline:middle;paint-order:stroke;'
            'stroke:#07142B;stroke-width:3px;stroke-opacity:.75}.wall-map .empty{fill:#9FC3FF;font-size:22px}</style>'
            f'{body}</svg>')
