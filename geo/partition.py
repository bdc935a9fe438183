"""Split a polygon into nested, non-overlapping pieces (the generated demo grid)."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.affinity import translate

from .coords import from_metric, metric_crs, to_metric


def _random_points_inside(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniformly random points inside ``poly`` (rejection sampling), as an (n, 2) array."""
    minx, miny, maxx, maxy = poly.bounds
    out = np.empty((0, 2))
    prepared = poly
    shapely.prepare(prepared)
    for _ in range(200):
        k = max(4 * n, 32)
        cand = np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)])
        out = np.vstack([out, cand[shapely.contains_xy(prepared, cand[:, 0], cand[:, 1])]])
        if len(out) >= n:
            return out[:n]
    raise ValueError("could not place points inside polygon (degenerate geometry?)")


def _cells(poly, pts: np.ndarray) -> list:
    """Voronoi cells of ``pts`` clipped to ``poly``, in the order of ``pts``."""
    vor = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=poly.envelope.buffer(1.0), ordered=True)
    return list(shapely.intersection(np.asarray(vor.geoms), poly))


def _merge_fragments(pieces: list, min_share: float = 0.02) -> list:
    """Give stray parts of MultiPolygon pieces to the neighbour sharing their longest border."""
    pieces = [shapely.make_valid(p) for p in pieces]
    main = []
    strays = []
    for i, p in enumerate(pieces):
        parts = [g for g in getattr(p, "geoms", [p]) if g.geom_type == "Polygon" and g.area > 0]
        parts.sort(key=lambda g: g.area, reverse=True)
        keep = [parts[0]] + [g for g in parts[1:] if g.area >= min_share * parts[0].area]
        main.append(shapely.union_all(keep))
        strays += [(i, g) for g in parts[1:] if g.area < min_share * parts[0].area]
    for owner, frag in strays:
        best, best_len = owner, -1.0
        for j, other in enumerate(main):
            if j != owner and other.intersects(frag):
                length = other.boundary.intersection(frag.boundary).length
                if length > best_len:
                    best, best_len = j, length
        main[best] = shapely.union_all([main[best], frag])
    return main


def partition(polygon, n: int, rng: np.random.Generator, relax: int = 2) -> list:
    """Split a WGS84 (multi)polygon into ``n`` non-overlapping valid pieces covering it.

    Voronoi cells of ``n`` random interior points, moved ``relax`` times to their cell
    centroids (Lloyd) for even sizes, clipped to the polygon; stray fragments are merged
    into a neighbour. Pieces are ordered north → south, then west → east. Deterministic
    for a given ``rng`` state. Returns a list of shapely (Multi)Polygons in WGS84.
    """
    if n < 1:
        raise ValueError("n must be ≥ 1")
    if polygon.is_empty or polygon.area == 0:
        raise ValueError("cannot partition an empty polygon")
    if n == 1:
        return [polygon]
    c = polygon.centroid
    crs = metric_crs(c.x, c.y)
    poly = to_metric(polygon, crs)
    pts = _random_points_inside(poly, n, rng)
    for _ in range(relax):
        cells = _cells(poly, pts)
        cent = shapely.centroid(cells)
        inside = shapely.contains(poly, cent)
        cent = np.where(inside, cent, shapely.point_on_surface(cells))
        pts = np.column_stack([shapely.get_x(cent), shapely.get_y(cent)])
    pieces = _merge_fragments(_cells(poly, pts))
    pieces = [from_metric(p, crs) for p in pieces]
    key = [(-round(p.centroid.y, 4), p.centroid.x) for p in pieces]
    return [pieces[i] for i in sorted(range(len(pieces)), key=key.__getitem__)]


def city_layout(outline, n: int, gap_deg: float = 0.03) -> list:
    """``n`` copies of ``outline`` translated onto a grid (first at the original place), not overlapping."""
    minx, miny, maxx, maxy = outline.bounds
    cols = math.ceil(math.sqrt(n))
    dx, dy = (maxx - minx) + gap_deg, (maxy - miny) + gap_deg
    return [translate(outline, xoff=(i % cols) * dx, yoff=-(i // cols) * dy) for i in range(n)]
