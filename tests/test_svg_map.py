"""Tests for the wall's server-rendered map (components.svg_map): colours, links, escaping, clip outlines."""

from __future__ import annotations

import base64
import re

from common.colors import WARNING_COLORS
from components.svg_map import _clip_polygon, _projector, map_html, unit_href

SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
HOLE = [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6], [0.4, 0.4]]
HOSTILE = '<img src=x onerror="alert(1)">"&\''


def _fc(*feats):
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": c, "name": n, "center_lon": g[0][0][0] + 0.5,
                                           "center_lat": g[0][0][1] + 0.5},
         "geometry": {"type": "Polygon", "coordinates": g}} for c, n, g in feats]}


def _shift(ring, dx):
    return [[x + dx, y] for x, y in ring]


def test_children_are_filled_linked_and_escaped():
    """Each child: its warning colour in the SVG, a link keeping the other URL parameters, its name as text."""
    fc = _fc(("A1", HOSTILE, [SQUARE, HOLE]), ("B2", "乙街道", [_shift(SQUARE, 1)]))
    out = map_html(fc, {"A1": "red"}, {"A1": "红色"}, [0, 0, 2, 1], 400, 200, focus="B2",
                   params=(("kiosk", "1"), ("unit", "OLD"), ("token", "t&k")))
    svg = base64.b64decode(re.search(r'base64,([^"]+)"', out).group(1)).decode()
    assert f'fill="{WARNING_COLORS["red"]}" data-unit="A1"' in svg
    assert f'fill="{WARNING_COLORS["none"]}" data-unit="B2"' in svg, "no warning: the 'none' colour"
    assert 'data-focus="1"' in svg
    assert 'href="?unit=A1&amp;kiosk=1&amp;token=t%26k" target="_self"' in out
    assert "<img src=x" not in out and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in out
    assert out.count('class="lb') == 2 and 'class="lb f"' in out


def test_legend_counts_the_units_drawn_per_colour():
    """Under the map, every warning colour with its name and how many drawn units have it."""
    fc = _fc(("A1", "甲", [SQUARE]), ("B2", "乙", [_shift(SQUARE, 1)]), ("C3", "丙", [_shift(SQUARE, 2)]))
    out = map_html(fc, {"A1": "red", "B2": "red", "Z9": "orange"}, {}, [0, 0, 3, 1], 300, 100)
    legend = out[out.index('data-testid="wall-map-legend"'):]
    counts = dict(re.findall(r'data-color="(\w+)".*?<b[^>]*>(\d+)</b>', legend))
    assert counts == {"red": "2", "orange": "0", "yellow": "0", "blue": "0", "none": "1"}
    assert all(n in legend for n in ("红色预警", "橙色预警", "黄色预警", "蓝色预警", "正常"))
    assert WARNING_COLORS["none"] in legend


def test_clip_outline_keeps_holes_and_parts():
    """The clip polygon walks every ring and returns along the joins (evenodd cuts the hole)."""
    proj = _projector([0, 0, 1, 1], 100, 100, pad=0)
    clip = _clip_polygon({"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [_shift(SQUARE, 0.5)]]},
                         proj, 100, 100)
    assert clip.startswith("polygon(evenodd,")
    pts = clip[len("polygon(evenodd,"):-1].split(",")
    assert len(pts) == 5 + 1 + 5 + 1 + 5 + 1 + 2  # three rings closed, then back along two joins
    assert pts[-1] == pts[0]


def test_empty_collection_says_so():
    assert "暂无边界数据" in map_html({"type": "FeatureCollection", "features": []}, {}, {}, [0, 0, 1, 1])


def test_unit_href_replaces_unit():
    assert unit_href("9", (("unit", "1"), ("period", "2026-09"))) == "?unit=9&period=2026-09"
