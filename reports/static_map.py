"""The unit's four-colour warning map as a static vector image (matplotlib + geopandas, SVG).

Colours are the screen's (``common.colors.WARNING_COLORS``). So that the map reads in
black-and-white print, every warning level also gets its own hatching and each label carries
the level name. Hatching is drawn as plain line geometry (parallel lines clipped to each
polygon with shapely) rather than matplotlib's hatch patterns, which SVG stores as
``<pattern>`` elements that PDF layout engines such as fpdf2 drop.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from shapely.geometry import LineString, box

from common.colors import WARNING_COLORS
from geo import metric_crs

from .charts import INK, plt, setup_matplotlib, to_svg

# level -> hatch angles in degrees (empty: solid fill), line colour, spacing factor. In grey the
# red and blue fills come out alike and blue and normal nearly so: the hatching tells them apart.
HATCH: dict[str, tuple[tuple[float, ...], str, float]] = {
    "red": ((45.0, 135.0), "#5B0F0E", 1.0),
    "orange": ((45.0,), "#6B3A00", 1.0),
    "yellow": ((0.0,), "#6B5A00", 1.0),
    "blue": ((), "#0D3C6B", 1.0),
    "none": ((90.0,), "#DDE3E8", 2.2),
}
SHORT = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色", "none": "正常"}
LEVELS = ("red", "orange", "yellow", "blue", "none")


def hatch_segments(geom, color: str, spacing: float) -> list[np.ndarray]:
    """The hatch lines of warning level ``color`` inside ``geom``, as (n, 2) coordinate arrays.

    ``spacing`` is the distance between parallel lines in ``geom``'s units.
    """
    angles, _, factor = HATCH.get(color, ((), "", 1.0))
    if geom is None or geom.is_empty or not angles:
        return []
    spacing *= factor
    minx, miny, maxx, maxy = geom.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    r = math.hypot(maxx - minx, maxy - miny) / 2 + spacing
    out: list[np.ndarray] = []
    for ang in angles:
        a = math.radians(ang)
        dx, dy = math.cos(a), math.sin(a)  # line direction
        nx, ny = -dy, dx  # offset direction
        offs = np.arange(-r, r + spacing, spacing)
        lines = [LineString([(cx + o * nx - r * dx, cy + o * ny - r * dy),
                             (cx + o * nx + r * dx, cy + o * ny + r * dy)]) for o in offs]
        clipped = shapely.intersection(np.array(lines, dtype=object), geom)
        for part in shapely.get_parts(clipped[~shapely.is_empty(clipped)]):
            if part.geom_type == "LineString" and not part.is_empty:
                out.append(np.asarray(part.coords)[:, :2])
    return out


def _label_point(geom):
    try:
        return shapely.maximum_inscribed_circle(geom, tolerance=max(1.0, math.sqrt(geom.area) / 200)).coords[0]
    except Exception:  # noqa: BLE001 - odd geometry: fall back to a point on the surface
        p = geom.representative_point()
        return (p.x, p.y)


def warning_map(gdf, width_in: float = 6.4, height_in: float = 5.6, title: str = "") -> bytes:
    """The polygons of ``gdf`` filled by warning colour, hatched by level, labelled 'name\\nlevel'.

    ``gdf``: GeoDataFrame (any CRS) with columns name, color (red|orange|yellow|blue|none).
    Returns SVG bytes. An empty frame gives a framed '暂无地图数据' box, never a blank image.
    """
    setup_matplotlib()
    fig, ax = plt.subplots(figsize=(width_in, height_in))
    ax.set_axis_off()
    geoms = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty] if len(gdf) else gdf
    if not len(geoms):
        ax.add_patch(plt.Rectangle((0, 0), 1, 1, fill=False, edgecolor=INK, lw=0.8))
        ax.text(0.5, 0.5, "暂无地图数据", ha="center", va="center", fontsize=14, color=INK)
        return to_svg(fig)
    x0, y0, x1, y1 = geoms.to_crs("EPSG:4326").total_bounds
    g = geoms.to_crs(metric_crs((x0 + x1) / 2, (y0 + y1) / 2))
    minx, miny, maxx, maxy = g.total_bounds
    span = max(maxx - minx, maxy - miny)
    spacing = span / 110
    colors = g["color"].where(g["color"].isin(LEVELS), "none")
    g.plot(ax=ax, color=[WARNING_COLORS[c] for c in colors], edgecolor="white", linewidth=0.9)
    for geom, c in zip(g.geometry, colors):
        segs = hatch_segments(geom, c, spacing)
        if segs:  # one compound path per polygon: one SVG element instead of one per line
            verts = np.concatenate(segs)
            codes = np.full(len(verts), MplPath.LINETO, dtype=np.uint8)
            codes[np.cumsum([0] + [len(sg) for sg in segs[:-1]])] = MplPath.MOVETO
            ax.add_patch(PathPatch(MplPath(verts, codes), fill=False, edgecolor=HATCH[c][1], linewidth=0.45,
                                   alpha=0.85))
    outline = shapely.union_all(g.geometry.to_numpy())
    shapely_outline = outline.boundary
    for part in shapely.get_parts(shapely_outline):
        xy = np.asarray(part.coords)
        ax.plot(xy[:, 0], xy[:, 1], color=INK, lw=1.3)

    n = len(g)
    fs = 11 if n <= 4 else 8.5 if n <= 15 else 7 if n <= 40 else 5.5
    halo = [patheffects.withStroke(linewidth=2.4, foreground="white")]
    for geom, name, c in zip(g.geometry, g["name"], colors):
        lx, ly = _label_point(geom)
        ax.text(lx, ly, f"{name}\n{SHORT[c]}", ha="center", va="center", fontsize=fs, color=INK,
                linespacing=1.15, path_effects=halo)

    pad = span * 0.04
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    _scale_bar(ax, minx, miny, span)
    _north_arrow(ax, maxx, maxy, span)
    if title:
        ax.set_title(title, fontsize=10, color=INK, loc="left")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.96 if title else 0.99, bottom=0.01)
    return to_svg(fig)


def _scale_bar(ax, minx, miny, span) -> None:
    """A scale bar of a round length (about a fifth of the map) in the lower-left corner."""
    target = span / 5
    length = max([v for v in (100, 200, 500, 1000, 2000, 5000, 10000, 20000) if v <= target] or [100])
    x, y = minx, miny - span * 0.02
    ax.plot([x, x + length], [y, y], color=INK, lw=2.2, solid_capstyle="butt")
    ax.plot([x, x + length / 2], [y, y], color="white", lw=1.0, solid_capstyle="butt")
    label = f"{length / 1000:g} 公里" if length >= 1000 else f"{length} 米"
    ax.text(x + length / 2, y + span * 0.012, label, ha="center", va="bottom", fontsize=7, color=INK)


def _north_arrow(ax, maxx, maxy, span) -> None:
    x, y = maxx, maxy - span * 0.02
    ax.annotate("", xy=(x, y), xytext=(x, y - span * 0.07),
                arrowprops={"arrowstyle": "-|>", "color": INK, "lw": 1.2})
    ax.text(x, y + span * 0.005, "北", ha="center", va="bottom", fontsize=8, color=INK)


def legend_swatch(color: str, w: float, h: float, spacing: float) -> list[np.ndarray]:
    """Hatch segments for a ``w`` × ``h`` legend box at the origin (for the PDF's own legends)."""
    return hatch_segments(box(0, 0, w, h), color, spacing)
