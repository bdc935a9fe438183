"""Geometry for the grid: district outline, nested partition, GCJ-02 ⇄ WGS84, simplification."""

from .coords import (
    distance_m,
    from_metric,
    gcj02_to_wgs84,
    geodesic_area_km2,
    metric_crs,
    to_metric,
    transform_geometry,
    wgs84_to_gcj02,
)
from .outline import load_district_outline
from .partition import city_layout, partition
from .simplify import LEVEL_TOLERANCE_M, round_coords, simplify_coverage, simplify_for_level, vertex_count

__all__ = [
    "LEVEL_TOLERANCE_M", "city_layout", "distance_m", "from_metric", "gcj02_to_wgs84", "geodesic_area_km2",
    "load_district_outline", "metric_crs", "partition", "round_coords", "simplify_coverage", "simplify_for_level",
    "to_metric", "transform_geometry", "vertex_count", "wgs84_to_gcj02",
]
