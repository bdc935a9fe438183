"""Raster basemap tiles for a fitted map view, placed server-side.

deck.gl's ``TileLayer`` needs a JavaScript ``renderSubLayers`` callback to draw images, which
pydeck cannot pass; so the tiles that cover a view are worked out here (slippy-map XYZ indices
from :mod:`mercantile`) and each becomes one ``BitmapLayer`` at its Web-Mercator bounds. The map
view is always fitted to the focus unit, so the set is known before the page is sent.

GCJ-02 tile servers (most Chinese web maps) draw GCJ-02 coordinates at the tile's nominal
bounds; the grid map shifts its WGS84 data to GCJ-02 in that case (``BASEMAP_CRS=gcj02``), so the
tiles themselves are always placed at their nominal bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mercantile

MAX_TILES = 48


@dataclass(frozen=True)
class Tile:
    """One basemap tile: slippy-map indices, its image URL, and its bounds [west, south, east, north]."""

    z: int
    x: int
    y: int
    url: str
    bounds: tuple[float, float, float, float]


def tile_url(template: str, z: int, x: int, y: int) -> str:
    """Fill ``{z}``/``{x}``/``{y}`` (and ``{-y}`` for TMS servers such as GeoServer's TMS endpoint)."""
    return (template.replace("{z}", str(z)).replace("{x}", str(x))
            .replace("{-y}", str(2 ** z - 1 - y)).replace("{y}", str(y)))


def covering_tiles(bounds: tuple[float, float, float, float], view_zoom: float, template: str,
                   margin: float = 0.5, min_zoom: int = 0, max_zoom: int = 18) -> list[Tile]:
    """The tiles covering ``bounds`` (WGS84 or GCJ-02 lon/lat, widened by ``margin`` of its size on
    every side) at the tile zoom that matches a deck.gl ``view_zoom`` (512-pixel world, 256-pixel
    tiles: one level above), lowered until at most :data:`MAX_TILES` are needed."""
    w, s, e, n = bounds
    dx, dy = (e - w) * margin, (n - s) * margin
    w, s, e, n = max(w - dx, -180.0), max(s - dy, -85.05), min(e + dx, 180.0), min(n + dy, 85.05)
    z = int(min(max(math.ceil(view_zoom + 1), min_zoom), max_zoom))
    while True:
        tiles = list(mercantile.tiles(w, s, e, n, [z]))
        if len(tiles) <= MAX_TILES or z <= min_zoom:
            break
        z -= 1
    out = []
    for t in tiles:
        b = mercantile.bounds(t)
        out.append(Tile(t.z, t.x, t.y, tile_url(template, t.z, t.x, t.y), (b.west, b.south, b.east, b.north)))
    return out
