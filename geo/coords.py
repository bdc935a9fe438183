"""Coordinate systems: GCJ-02 ⇄ WGS84, metric projections, geodesic areas.

Chinese web maps and many survey exports use GCJ-02 (the "Mars" offset, no EPSG
code); we store WGS84. The forward transform is the public standard algorithm;
the inverse is solved by fixed-point iteration to < 1e-7° (≈ 1 cm).
"""

from __future__ import annotations

import math

import numpy as np
import pyproj
import shapely
from pyproj import Geod, Transformer

_A = 6378245.0
_EE = 0.00669342162296594323
_GEOD = Geod(ellps="WGS84")


def _outside_china(lon, lat):
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _tlat(x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return r


def _tlon(x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return r


def _offset(lon, lat):
    dlat = _tlat(lon - 105.0, lat - 35.0)
    dlon = _tlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sq = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sq) * np.pi)
    dlon = (dlon * 180.0) / (_A / sq * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """WGS84 → GCJ-02 (degrees). Floats or arrays; points outside China are unchanged."""
    lon_a, lat_a = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _offset(lon_a, lat_a)
    out = _outside_china(lon_a, lat_a)
    rlon, rlat = np.where(out, lon_a, lon_a + dlon), np.where(out, lat_a, lat_a + dlat)
    return (float(rlon), float(rlat)) if np.ndim(lon) == 0 else (rlon, rlat)


def gcj02_to_wgs84(lon, lat, tol: float = 1e-9, max_iter: int = 30):
    """GCJ-02 → WGS84 (degrees) by fixed-point iteration of the forward transform (< 1e-7°)."""
    glon, glat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = np.asarray(flon) - glon, np.asarray(flat) - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.max(np.abs(elon), initial=0) < tol and np.max(np.abs(elat), initial=0) < tol:
            break
    return (float(wlon), float(wlat)) if np.ndim(lon) == 0 else (wlon, wlat)


def transform_geometry(geom, fn):
    """Apply ``fn(lon_array, lat_array) -> (lon, lat)`` to every vertex of ``geom`` (any type)."""
    def _xy(coords):
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, _xy)


def metric_crs(lon: float, lat: float) -> pyproj.CRS:
    """The UTM zone CRS (EPSG:326xx north / 327xx south) for a point."""
    zone = int(math.floor((lon + 180) / 6)) + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def to_metric(geom, crs: pyproj.CRS | None = None):
    """Project a WGS84 shapely geometry to metres (its UTM zone unless ``crs`` is given)."""
    if crs is None:
        c = shapely.centroid(geom) if not geom.is_empty else shapely.Point(0, 0)
        crs = metric_crs(c.x, c.y)
    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def from_metric(geom, crs: pyproj.CRS):
    """Inverse of :func:`to_metric` for a geometry in ``crs``."""
    t = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def geodesic_area_km2(geom) -> float:
    """Area of a WGS84 (multi)polygon on the ellipsoid, km² (0 for other types)."""
    if geom is None or geom.is_empty:
        return 0.0
    return abs(_GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres between WGS84 points (arrays broadcast)."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, float) for v in (lon1, lat1, lon2, lat2)))
    return _GEOD.inv(lon1, lat1, lon2, lat2)[2]
