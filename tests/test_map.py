"""Tests for the map page (AppTest at every level, bad units) and the map payload helpers."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data_access.db.engine import get_engine
from data_access.db.schema import units

from .conftest import ROOT, login_state


def _code_at(url: str, level: int) -> str:
    with get_engine(url).connect() as conn:
        return conn.execute(select(units.c.code).where(units.c.level == level).order_by(units.c.code)
                            .limit(1)).scalar_one()


@pytest.fixture
def run_map(district_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", district_url)
    monkeypatch.chdir(ROOT)

    def run(**params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        for k, v in login_state(district_url, "leader").items():
            at.session_state[k] = v
        at.switch_page("pages/map.py")
        for k, v in params.items():
            at.query_params[k] = v
        return at.run()

    return run


def _html(at) -> str:
    return "\n".join(str(h.proto.body) for h in at.get("html"))


@pytest.mark.parametrize("level", [0, 1, 2, 3, 4])
def test_map_at_each_level(run_map, district_url, level):
    """The unit card shows the unit, its warning badge and reasons, at every level."""
    code = _code_at(district_url, level)
    at = run_map(unit=code, period="2026-09")
    assert not at.exception, at.exception
    body = _html(at)
    assert 'data-testid="unit-card"' in body and 'data-testid="warning-badge"' in body
    assert 'data-testid="breadcrumb"' in body
    crumbs = body.split('data-testid="breadcrumb"')[1].split("</div>")[0]
    assert crumbs.count("›") == level


@pytest.mark.parametrize("bad", ["nope'--", "999999999", "<script>", ""])
def test_map_bad_unit(run_map, bad):
    """An unknown or malformed unit shows a clear message and the district, never a traceback."""
    at = run_map(unit=bad)
    assert not at.exception
    assert at.warning and ("未知" in at.warning[0].value or "格式" in at.warning[0].value)
    assert "川汇区" in _html(at)


def test_payload_is_small_and_nested(district_url):
    """The district step's payload is well under 1 MB, and each child stays inside the unit's outline
    at display precision (simplification keeps topology)."""
    from components.grid_map import map_features
    from data_access.filters import Scope
    from data_access.queries.units import geometries, get_unit
    from geo import LEVEL_TOLERANCE_M

    eng = get_engine(district_url)
    for level in (0, 1, 2, 3):
        code = _code_at(district_url, level)
        feats = map_features.__wrapped__(district_url, (None, 0), code)
        size = len(json.dumps(feats, ensure_ascii=False).encode())
        assert size < 1_000_000
        parent = geometries(eng, Scope.all(), codes=[code]).geometry.iloc[0]
        tol_deg = (LEVEL_TOLERANCE_M[level + 1] + 2) / 100_000
        kids = [shape(f["geometry"]) for f in feats["children"]["features"]]
        assert len(kids) == len(geometries(eng, Scope.all(), parent=get_unit(eng, code)))
        assert all(k.is_valid for k in kids)
        assert shapely.union_all(kids).difference(parent.buffer(tol_deg)).area < 1e-9


def _deck(at) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert charts, "no deck.gl chart on the page"
    return json.loads(charts[0].proto.json)


@pytest.mark.parametrize("crs", ["wgs84", "gcj02"])
def test_basemap_tiles_cover_the_view(run_map, district_url, monkeypatch, crs):
    """With an intranet tile template configured, the deck carries one BitmapLayer per tile, and the
    tiles together cover the focus unit (shifted to GCJ-02 when the tiles are GCJ-02)."""
    from components.grid_map import map_features
    from geo import wgs84_to_gcj02

    monkeypatch.setenv("BASEMAP_TILE_URL", "http://tiles.intranet/{z}/{x}/{y}.png")
    monkeypatch.setenv("BASEMAP_CRS", crs)
    code = _code_at(district_url, 1)
    at = run_map(unit=code, period="2026-09")
    assert not at.exception, at.exception
    layers = _deck(at)["layers"]
    tiles = [lyr for lyr in layers if lyr["@@type"] == "BitmapLayer"]
    assert 1 <= len(tiles) <= 48
    assert all(t["image"].startswith("http://tiles.intranet/") and t["image"].endswith(".png") for t in tiles)
    assert layers.index(tiles[-1]) < min(i for i, lyr in enumerate(layers) if lyr["@@type"] != "BitmapLayer")
    w, s, e, n = map_features.__wrapped__(district_url, (None, 0), code)["bounds"]
    if crs == "gcj02":
        (w, s), (e, n) = wgs84_to_gcj02(w, s), wgs84_to_gcj02(e, n)
    assert min(t["bounds"][0] for t in tiles) <= w and max(t["bounds"][2] for t in tiles) >= e
    assert min(t["bounds"][1] for t in tiles) <= s and max(t["bounds"][3] for t in tiles) >= n
    children = next(lyr for lyr in layers if lyr.get("id") == "children")
    x0 = min(c[0] for f in children["data"]["features"] for ring in f["geometry"]["coordinates"][:1] for c in ring)
    assert abs(x0 - w) < 0.003  # the data sits in the same coordinates as the tiles (GCJ offset ≈ 0.006°)


def test_no_basemap_by_default(run_map, district_url, monkeypatch):
    monkeypatch.delenv("BASEMAP_TILE_URL", raising=False)
    at = run_map(unit=_code_at(district_url, 0), period="2026-09")
    deck = _deck(at)
    assert not [lyr for lyr in deck["layers"] if lyr["@@type"] == "BitmapLayer"]
    assert "mapProvider" not in deck and not str(deck.get("mapStyle", "")).startswith("http")
