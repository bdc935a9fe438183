"""Per-level display simplification, so the map payload stays small.

Tolerances are metric (metres). A subdistrict outline on a district-wide view needs far
fewer vertices than a building seen close up. Siblings are simplified together with
``shapely.coverage_simplify`` so shared borders stay shared (no gaps or overlaps).
Display-precision guarantee: a simplified child lies within its simplified parent
buffered by the larger of the two tolerances (tested in tests/test_geo.py).
"""

from __future__ import annotations

import numpy as np
import shapely

from .coords import from_metric, metric_crs, to_metric

# level -> tolerance in metres (0 district … 4 building)
LEVEL_TOLERANCE_M: dict[int, float] = {0: 30.0, 1: 20.0, 2: 8.0, 3: 3.0, 4: 1.0}
# 5 decimals ≈ 1.1 m at this latitude: enough for a building footprint on screen.
DISPLAY_DECIMALS = 5


def simplify_for_level(geom, level: int):
    """``geom`` (WGS84) simplified with the level's metric tolerance (topology preserved)."""
    if geom is None or geom.is_empty:
        return geom
    c = geom.centroid
    crs = metric_crs(c.x, c.y)
    return from_metric(to_metric(geom, crs).simplify(LEVEL_TOLERANCE_M[level], preserve_topology=True), crs)


def simplify_coverage(geoms, level: int) -> np.ndarray:
    """Simplify sibling polygons (a coverage) together so shared edges stay shared."""
    arr = np.asarray(list(geoms), dtype=object)
    if len(arr) == 0:
        return arr
    c = shapely.union_all(shapely.envelope(arr)).centroid
    crs = metric_crs(c.x, c.y)
    metric = np.array([to_metric(g, crs) for g in arr], dtype=object)
    simple = shapely.coverage_simplify(metric, LEVEL_TOLERANCE_M[level], simplify_boundary=True)
    return np.array([from_metric(g, crs) for g in simple], dtype=object)


def round_coords(geom, decimals: int = DISPLAY_DECIMALS):
    """Coordinates rounded to ``decimals`` (a smaller JSON payload); stays valid."""
    out = shapely.set_precision(geom, 10.0 ** -decimals)
    return out if out.is_valid else shapely.make_valid(out)


def vertex_count(geom) -> int:
    return int(shapely.get_num_coordinates(geom))
