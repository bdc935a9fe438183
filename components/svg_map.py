"""The wall's map drawn on the server as inline SVG: no WebGL, no JavaScript, one string per view.

Command-center terminals include GPU-less and domestic (信创) PCs whose browsers render WebGL in
software or not at all; deck.gl cost a GPU-less wall seconds per refresh. The wall's map shows the
children of the focus unit filled in the four warning colours, their names, and the rotating focus
outlined — which an SVG does as well, and an SVG string can be rendered once and served to every
wall on the same view (:mod:`components.wall_render`). The interactive map (layers, points, tracks,
zoom) stays deck.gl on 网格地图.

Each child is a link (``<a href="?unit=CODE…" target="_self">``, clipped to the child's outline): a
click drills down in the same tab, keeping the wall's other URL parameters. Names are data: every
text and attribute is escaped (:func:`common.markup.h`). Pure functions of their inputs, no Streamlit.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from common.colors import WARNING_COLORS, WARNING_LABELS
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


def _clip_polygon(geometry: dict, proj, width: int, height: int) -> str:
    """A CSS ``clip-path: polygon(evenodd, …)`` in percentages of the box for a Polygon/MultiPolygon.

    Rings (holes, parts) are chained into one outline, each closed back to its own start and joined
    by a segment walked out and back again: the joins enclose no area, so evenodd still cuts the
    holes, and the clip (which also limits where the link can be clicked) scales with the box."""
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    polys = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    rings = [[proj(x, y) for x, y, *_ in r] for poly in polys for r in poly if len(r) >= 3]
    if not rings:
        return ""
    pts: list[tuple[float, float]] = []
    for r in rings:
        pts += r + [r[0]]
    pts += [p0 for p0 in (rings[i][0] for i in range(len(rings) - 2, -1, -1))]  # walk the joins back
    return "polygon(evenodd," + ",".join(f"{x / width * 100:.2f}% {y / height * 100:.2f}%" for x, y in pts) + ")"


def map_svg(features: dict, colors: dict[str, str], bounds: list[float], width: int = 900, height: int = 850,
            focus: str | None = None) -> str:
    """An SVG document of ``features`` (GeoJSON FeatureCollection with properties code, name) filled by
    ``colors`` (code → red/orange/yellow/blue/none), outlined, the ``focus`` code outlined in amber."""
    proj = _projector(bounds, width, height, pad=12)
    shapes, focus_shape = [], ""
    for f in features.get("features", []):
        p = f.get("properties", {})
        code = str(p.get("code", ""))
        d = path_d(f.get("geometry") or {}, proj)
        if not d:
            continue
        c = colors.get(code, "none")
        fill = WARNING_COLORS.get(c, WARNING_COLORS["none"])
        shapes.append(f'<path d="{d}" fill="{fill}" data-unit="{h(code)}" data-color="{h(c)}"/>')
        if code == focus:
            focus_shape = f'<path d="{d}" fill="none" stroke="{FOCUS_STROKE}" stroke-width="5" data-focus="1"/>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}"><g fill-opacity="0.72" stroke="{LINE}" stroke-width="1.2" stroke-opacity="0.9" '
            f'fill-rule="evenodd">{"".join(shapes)}</g>{focus_shape}</svg>')


_CSS = ("<style>.wall-map{position:relative;width:100%}.wall-map img{position:absolute;inset:0;width:100%;"
        "height:100%;pointer-events:none;z-index:1}.wall-map a.u{position:absolute;inset:0;display:block}"
        ".wall-map a.u:hover{background:rgba(255,255,255,.18)}.wall-map .lb{position:absolute;z-index:2;"
        "transform:translate(-50%,-50%);pointer-events:none;white-space:nowrap;font-weight:600;font-size:15px;"
        "color:#fff;text-shadow:0 0 3px #07142B,0 0 3px #07142B}.wall-map .lb.f{color:#FFD23F}"
        ".wall-map .empty{position:absolute;top:45%;width:100%;text-align:center;color:#9FC3FF;font-size:22px}"
        "</style>")


def map_html(features: dict, colors: dict[str, str], labels: dict[str, str], bounds: list[float],
             width: int = 900, height: int = 850, focus: str | None = None,
             params: tuple[tuple[str, str], ...] = (), show_labels: bool = True) -> str:
    """The wall's map as HTML that Streamlit's ``st.html`` keeps (its sanitiser drops inline ``<svg>``).

    The picture is :func:`map_svg` as an ``<img>`` (a data URI); over it, one link per child
    (``<a href="?unit=CODE…" target="_self">``) clipped to the child's outline with a CSS ``clip-path``,
    so a click on a child drills down in the same tab; the names are HTML labels at the children's
    centres. ``labels`` (code → warning label) become the links' tooltips. Empty → "暂无边界数据".
    """
    import base64

    proj = _projector(bounds, width, height, pad=12)
    links, names = [], []
    for f in features.get("features", []):
        p = f.get("properties", {})
        code = str(p.get("code", ""))
        clip = _clip_polygon(f.get("geometry") or {}, proj, width, height)
        if not clip:
            continue
        tip = f'{p.get("name", "")} {labels.get(code, "正常")}'
        links.append(f'<a class="u" href="{h(unit_href(code, params))}" target="_self" data-unit="{h(code)}" '
                     f'data-color="{h(colors.get(code, "none"))}" title="{h(tip)}" style="clip-path:{clip}"></a>')
        if show_labels and p.get("center_lon") is not None:
            x, y = proj(float(p["center_lon"]), float(p["center_lat"]))
            cls = "lb f" if code == focus else "lb"
            names.append(f'<span class="{cls}" style="left:{x / width * 100:.2f}%;top:{y / height * 100:.2f}%">'
                         f'{h(p.get("name", ""))}</span>')
    svg = base64.b64encode(map_svg(features, colors, bounds, width, height, focus).encode()).decode("ascii")
    empty = "" if links else '<div class="empty">暂无边界数据</div>'
    shown = [str(f.get("properties", {}).get("code", "")) for f in features.get("features", [])]
    return (f'{_CSS}<div class="wall-map" data-testid="wall-map" style="aspect-ratio:{width}/{height}">'
            f'{"".join(links)}<img alt="" data-testid="wall-map-svg" src="data:image/svg+xml;base64,{svg}">'
            f'{"".join(names)}{empty}</div>{legend_html([colors.get(c, "none") for c in shown]) if links else ""}')


def legend_html(shown: list[str]) -> str:
    """The map's key: each warning colour (as filled on the map) with its name and how many of the
    units drawn have it (``shown``: their colours), so grey is read as 正常, not as 蓝色."""
    chips = "".join(
        f'<span data-color="{k}" style="display:inline-flex;align-items:center;margin:0 14px;white-space:nowrap">'
        f'<i style="display:inline-block;width:14px;height:14px;border-radius:2px;margin-right:6px;'
        f'background:{WARNING_COLORS[k]};opacity:.72;outline:1px solid {LINE}"></i>{name} '
        f'<b style="margin-left:4px;color:#fff">{shown.count(k)}</b></span>' for k, name in WARNING_LABELS.items())
    return (f'<div data-testid="wall-map-legend" style="text-align:center;font-size:15px;color:#CFE3FF;'
            f'margin:4px 0 6px">{chips}</div>')
