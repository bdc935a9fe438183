"""Tests for the importers: every format and rejection reason, encodings, CRS, idempotence, atomicity —
on SQLite and PostgreSQL. Fixture files are made here, in each test's tmp dir."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select

from data_access.db.engine import get_engine
from data_access.db.schema import event_rollup, events, units
from data_access.demo import build_demo
from data_access.importers import import_events, import_grids
from data_access.importers.common import ImportFileError
from geo import distance_m, wgs84_to_gcj02

from .conftest import ROOT, TEST_UNTIL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def eng(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'i.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_scratch")()
    build_demo(url, scale="tiny", seed=5, until=TEST_UNTIL, log=lambda m: None)
    return get_engine(url)


def _count(eng, table, where=None):
    q = select(func.count()).select_from(table)
    if where is not None:
        q = q.where(where)
    with eng.connect() as conn:
        return conn.execute(q).scalar()


def _leaf(eng):
    with eng.connect() as conn:
        return conn.execute(select(units.c.code, units.c.geom_wkb).where(units.c.level == 4)
                            .order_by(units.c.code)).first()


def _grid_gdf(eng) -> gpd.GeoDataFrame:
    """New level-4 cells under an existing compound plus one row per rejection reason."""
    with eng.connect() as conn:
        comp = conn.execute(select(units.c.code, units.c.geom_wkb).where(units.c.level == 3)
                            .order_by(units.c.code)).first()
    poly = shapely.from_wkb(comp.geom_wkb)
    c = poly.representative_point()
    sq = lambda dx, d=0.001: shapely.box(c.x + dx, c.y, c.x + dx + d, c.y + d)  # noqa: E731
    hole = shapely.Polygon(sq(0).exterior.coords, [shapely.box(c.x + .0003, c.y + .0003, c.x + .0006,
                                                               c.y + .0006).exterior.coords])
    bowtie = shapely.Polygon([(c.x, c.y), (c.x + .001, c.y + .001), (c.x + .001, c.y), (c.x, c.y + .001)])
    rows = [("N1", "新楼1", "楼栋", comp.code, hole), ("N2", "新楼2", 4, comp.code, shapely.MultiPolygon([sq(.001)])),
            ("N3", "自修复", 4, comp.code, bowtie),
            ("N1", "重复", 4, comp.code, sq(.002)), ("N4", "无上级", 4, "NOPE", sq(.002)),
            ("N5", "层级错", 3, comp.code, sq(.002)), ("N6", "超范围", 7, comp.code, sq(.002)),
            ("N7", "空几何", 4, comp.code, shapely.Polygon()), ("N8", "越界", 4, comp.code,
                                                             shapely.box(c.x + 1, c.y, c.x + 1.001, c.y + .001))]
    return gpd.GeoDataFrame({"编码": [r[0] for r in rows], "名称": [r[1] for r in rows],
                             "层级": [str(r[2]) for r in rows], "上级编码": [r[3] for r in rows]},
                            geometry=[r[4] for r in rows], crs="EPSG:4326")


EXPECTED_REJECTS = {"编码重复", "上级编码不存在", "层级与上级不符", "层级超出范围", "几何为空"}


def _check_grid_result(out, eng, before):
    assert out["read"] == 9 and out["imported"] == 4 and out["rejected"] == 5
    assert out["read"] == out["imported"] + out["rejected"]
    text = open(out["rejects_file"], encoding="utf-8-sig").read()
    for reason in EXPECTED_REJECTS:
        assert reason in text
    assert "已自动修复" in text and "超出上级边界" in text
    assert _count(eng, units) == before + 4


def test_geojson_every_reason_and_idempotent(eng, tmp_path):
    path = tmp_path / "grid.geojson"
    _grid_gdf(eng).to_file(path, driver="GeoJSON")
    before = _count(eng, units)
    out = import_grids(eng, str(path), rejects=str(tmp_path / "rej.csv"))
    _check_grid_result(out, eng, before)
    again = import_grids(eng, str(path), rejects=str(tmp_path / "rej2.csv"))
    assert again["imported"] == 4 and _count(eng, units) == before + 4  # upsert: nothing new
    with eng.connect() as conn:
        n1 = conn.execute(select(units).where(units.c.code == "N1")).mappings().one()
    assert n1["level"] == 4 and n1["l4_code"] == "N1" and n1["l3_code"] == n1["parent_code"]
    assert len(shapely.from_wkb(n1["geom_wkb"]).interiors) == 1  # the hole survived


def test_zipped_shapefile_gbk_and_geopackage_4490(eng, tmp_path):
    gdf = _grid_gdf(eng)
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    gdf.rename(columns={"上级编码": "parent_code", "编码": "code", "名称": "name", "层级": "level"}).to_file(
        shp_dir / "grid.shp", encoding="gbk")
    (shp_dir / "grid.cpg").write_text("GBK")
    z = tmp_path / "grid.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    before = _count(eng, units)
    out = import_grids(eng, str(z), rejects=str(tmp_path / "r.csv"))
    _check_grid_result(out, eng, before)
    with eng.connect() as conn:
        assert conn.execute(select(units.c.name).where(units.c.code == "N2")).scalar() == "新楼2"
    gpkg = tmp_path / "grid.gpkg"
    gdf.to_crs("EPSG:4490").to_file(gpkg, driver="GPKG")
    out = import_grids(eng, str(gpkg), rejects=str(tmp_path / "r2.csv"))
    assert out["imported"] == 4


def test_gcj02_centroid_within_a_metre(eng, tmp_path):
    """A GCJ-02 file lands where it belongs in WGS84 (centroid error < 1 m)."""
    gdf = _grid_gdf(eng).iloc[[1]]
    true_c = gdf.geometry.iloc[0].centroid
    shifted = gdf.copy()
    shifted["geometry"] = [shapely.transform(g, lambda xy: __import__("numpy").column_stack(
        wgs84_to_gcj02(xy[:, 0], xy[:, 1]))) for g in gdf.geometry]
    path = tmp_path / "gcj.geojson"
    shifted.to_file(path, driver="GeoJSON")
    import_grids(eng, str(path), crs="gcj02")
    with eng.connect() as conn:
        g = shapely.from_wkb(conn.execute(select(units.c.geom_wkb).where(units.c.code == "N2")).scalar())
    assert distance_m(g.centroid.x, g.centroid.y, true_c.x, true_c.y) < 1.0


def test_unreadable_file_is_a_clear_error(eng, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ImportFileError, match="无法读取"):
        import_grids(eng, str(bad))
    url = eng.url.render_as_string(hide_password=False)
    out = subprocess.run([sys.executable, "-m", "data_access", "import-grids", str(bad), "--db", url],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1 and "无法读取" in out.stderr


def _events_frame(leaf: str) -> pd.DataFrame:
    rows = [
        ("X1", leaf, "矛盾纠纷", "网格员上报", "常规哨", "2026-10-01 08:30", "2026/10/9 18:00", "2026-10-03 10:00",
         "已办结"),
        ("X2", leaf, "安全隐患", "群众APP", "重点哨", "2026/10/2 8:30", "2026-10-12 18:00", "", "处置中"),
        ("X3", leaf, "environment", "hotline", "routine", "46298.5", "46310", "", "待派单"),  # Excel serials
        ("X4", "NOPE", "矛盾纠纷", "网格员上报", "常规哨", "2026-10-01 08:30", "2026-10-09", "", "待派单"),
        ("X5", leaf, "矛盾纠纷", "网格员上报", "常规哨", "昨天", "2026-10-09", "", "待派单"),
        ("X6", leaf, "矛盾纠纷", "网格员上报", "常规哨", "2026-10-09 08:30", "2026-10-01", "", "待派单"),
        ("X7", leaf, "矛盾纠纷", "网格员上报", "常规哨", "2026-10-09 08:30", "2026-10-19", "2026-10-01", "已办结"),
        ("X1", leaf, "矛盾纠纷", "网格员上报", "常规哨", "2026-10-01 08:30", "2026-10-09", "", "待派单"),
        ("X8", leaf, "", "网格员上报", "常规哨", "2026-10-01 08:30", "2026-10-09", "", "待派单"),
        ("X9", leaf, "矛盾纠纷", "网格员上报", "常规哨", "2026-10-01 08:30", "2026-10-09", "", "已办结"),
        ("X10", leaf, "矛盾纠纷", "网格员上报", "常规哨", "", "2026-10-09", "", "待派单"),
    ]
    return pd.DataFrame(rows, columns=["事件编号", "网格编码", "类别", "来源", "吹哨级别", "上报时间", "办结时限",
                                       "办结时间", "状态"])


EVENT_REASONS = ["网格编码不存在", "日期无法识别", "办结时限早于上报时间", "办结时间早于上报时间",
                 "事件编号在文件中重复",
                 "必填字段为空", "已办结但缺少办结时间"]


@pytest.mark.parametrize("fmt", ["gbk", "utf-8-sig", "xlsx"])
def test_events_formats_reasons_idempotent(eng, tmp_path, fmt):
    leaf = _leaf(eng).code
    df = _events_frame(leaf)
    path = tmp_path / ("e.xlsx" if fmt == "xlsx" else "e.csv")
    if fmt == "xlsx":
        df.to_excel(path, index=False)
    else:
        df.to_csv(path, index=False, encoding=fmt)
        if fmt == "gbk":
            with pytest.raises(UnicodeDecodeError):
                path.read_bytes().decode("utf-8")
    before = _count(eng, events)
    out = import_events(eng, str(path), rejects=str(tmp_path / "r.csv"))
    # X8 has no category: imported under 其他 with a warning (an event is not lost for a missing label)
    assert (out["read"], out["imported"], out["rejected"], out["warnings"]) == (11, 4, 7, 1)
    text = open(out["rejects_file"], encoding="utf-8-sig").read()
    for reason in EVENT_REASONS:
        assert reason in text, reason
    assert "类别为空" in open(out["warnings_file"], encoding="utf-8-sig").read()
    assert _count(eng, events) == before + 4
    with eng.connect() as conn:
        x3 = conn.execute(select(events).where(events.c.id == "X3")).mappings().one()
        assert conn.execute(select(events.c.category).where(events.c.id == "X8")).scalar() == "other"
        rolled = conn.execute(select(func.sum(event_rollup.c.reported)).where(event_rollup.c.level == 0)).scalar()
    # Excel serial 46298.5: serial 45658 is 2025-01-01, +640 days = 2026-10-03, .5 = noon
    assert str(x3["reported_at"]).startswith("2026-10-03 12:00") and x3["category"] == "environment"
    assert rolled == _count(eng, events)  # rollups refreshed in the same transaction
    again = import_events(eng, str(path), rejects=str(tmp_path / "r2.csv"))
    assert again["imported"] == 4 and _count(eng, events) == before + 4


def test_events_import_is_atomic(eng, tmp_path, monkeypatch):
    """A failure after the first chunk leaves the database exactly as it was."""
    import data_access.importers.events as imp

    leaf = _leaf(eng).code
    big = pd.concat([_events_frame(leaf).iloc[:3]] * 4, ignore_index=True)
    big["事件编号"] = [f"B{i}" for i in range(len(big))]
    path = tmp_path / "big.csv"
    big.to_csv(path, index=False)
    monkeypatch.setattr(imp, "CHUNK", 4)
    calls = {"n": 0}
    real = imp.upsert

    def flaky(conn, table, rows, key):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(conn, table, rows, key)

    monkeypatch.setattr(imp, "upsert", flaky)
    before = _count(eng, events)
    with pytest.raises(RuntimeError):
        import_events(eng, str(path))
    assert _count(eng, events) == before


def test_cli_last_line_json(eng, tmp_path):
    leaf = _leaf(eng).code
    path = tmp_path / "e.csv"
    _events_frame(leaf).to_csv(path, index=False, encoding="gbk")
    url = eng.url.render_as_string(hide_password=False)
    out = subprocess.run([sys.executable, "-m", "data_access", "import-events", str(path), "--db", url,
                          "--rejects", str(tmp_path / "rj.csv")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["read"] == summary["imported"] + summary["rejected"] == 11
    assert summary["encoding"] == "gb18030"
