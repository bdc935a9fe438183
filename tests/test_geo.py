"""Tests for the geo package: GCJ-02 round trip, district outline, partition, simplification."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo import (
    city_layout,
    distance_m,
    gcj02_to_wgs84,
    geodesic_area_km2,
    load_district_outline,
    partition,
    round_coords,
    simplify_coverage,
    wgs84_to_gcj02,
)


def test_gcj02_round_trip_under_a_metre():
    """WGS84 → GCJ-02 → WGS84 errs < 1 m (in fact < 1 cm) over a grid around Zhoukou."""
    lon, lat = np.meshgrid(np.linspace(114.4, 115.1, 15), np.linspace(33.3, 33.9, 15))
    glon, glat = wgs84_to_gcj02(lon.ravel(), lat.ravel())
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    assert distance_m(lon.ravel(), lat.ravel(), back_lon, back_lat).max() < 0.01


def test_gcj02_offset_magnitude_near_zhoukou():
    """The GCJ-02 shift near Zhoukou is a few hundred metres (the reason imports need --crs gcj02)."""
    g = wgs84_to_gcj02(114.715, 33.623)
    shift = distance_m(114.715, 33.623, *g)
    assert 200 < float(shift) < 800
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)  # outside China: unchanged


def test_district_outline():
    """The checked-in 川汇区 outline: ≈333 km², centroid ≈ 114.7146 E 33.6227 N."""
    o = load_district_outline()
    assert o.is_valid and geodesic_area_km2(o) == pytest.approx(333, rel=0.05)
    assert distance_m(o.centroid.x, o.centroid.y, 114.7146, 33.6227) < 2000


def test_partition_exact_cover_no_overlap():
    """n pieces, valid, pairwise disjoint (area), union equal to the input within 0.1 % (cuts are computed
    in UTM, so new vertices on the outer edge sit centimetres off the straight lon/lat edge), deterministic."""
    square = shapely.box(114.0, 33.0, 114.05, 33.04)
    a = partition(square, 7, np.random.default_rng(3))
    b = partition(square, 7, np.random.default_rng(3))
    assert len(a) == 7 and all(p.is_valid and not p.is_empty for p in a)
    assert [p.wkb for p in a] == [p.wkb for p in b]
    assert shapely.union_all(a).symmetric_difference(square).area < 1e-3 * square.area
    for i in range(7):
        for j in range(i + 1, 7):
            assert a[i].intersection(a[j]).area < 1e-12


def test_nested_partition_children_inside_parent():
    """A child piece lies inside its parent, also after display simplification at the child level."""
    outline = load_district_outline()
    rng = np.random.default_rng(1)
    parent = partition(outline, 4, rng)[0]
    kids = partition(parent, 5, rng)
    simple = [round_coords(k) for k in simplify_coverage(kids, 2)]
    assert all(k.is_valid for k in simple)
    tol = 10 / 100_000  # 8 m level-2 tolerance + rounding, in degrees (generous)
    assert shapely.union_all(simple).difference(parent.buffer(tol)).area == pytest.approx(0, abs=1e-10)
    # siblings stay gap-free: the union of simplified children still covers the parent
    assert parent.difference(shapely.union_all(simple).buffer(tol)).area < 1e-3 * parent.area


def test_city_layout_does_not_overlap():
    tiles = city_layout(load_district_outline(), 10)
    assert len(tiles) == 10
    for i in range(10):
        for j in range(i + 1, 10):
            assert not tiles[i].intersects(tiles[j])


def test_covering_tiles_match_slippy_math():
    """Tile indices and bounds follow the XYZ scheme; the set covers the widened bounds; TMS flips y."""
    from geo.tiles import MAX_TILES, covering_tiles, tile_url

    assert tile_url("http://t/{z}/{x}/{-y}.png", 3, 5, 1) == "http://t/3/5/6.png"
    assert tile_url("http://t/{z}/{x}/{y}.png", 3, 5, 1) == "http://t/3/5/1.png"
    whole = covering_tiles((-170, -80, 170, 80), -1.0, "{z}/{x}/{y}")
    assert [(t.z, t.x, t.y) for t in whole] == [(0, 0, 0)]
    assert whole[0].bounds[0] == pytest.approx(-180) and whole[0].bounds[3] == pytest.approx(85.0511, abs=1e-3)
    b = (114.60, 33.55, 114.83, 33.70)  # about the district
    tiles = covering_tiles(b, 11.0, "{z}/{x}/{y}")
    assert 1 < len(tiles) <= MAX_TILES and {t.z for t in tiles} == {12}
    w, s, e, n = b
    assert min(t.bounds[0] for t in tiles) <= w - 0.1 and max(t.bounds[2] for t in tiles) >= e + 0.1
    assert min(t.bounds[1] for t in tiles) <= s and max(t.bounds[3] for t in tiles) >= n
    deep = covering_tiles(b, 16.0, "{z}/{x}/{y}")  # too many at z17: lowered until ≤ MAX_TILES
    assert len(deep) <= MAX_TILES and deep[0].z < 17
