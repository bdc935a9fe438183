"""Browser: the admin's 数据管理 page — a boundary file previewed over the existing grid, an events
file imported with a progress bar and every row accounted for."""

from __future__ import annotations

import sqlite3
import time

import geopandas as gpd
import pandas as pd
import pytest
from shapely import affinity
from sqlalchemy import func, make_url, select

from data_access.db.engine import get_engine
from data_access.db.schema import events
from data_access.filters import Scope
from data_access.queries.units import geometries

from .conftest import ARTIFACTS, serve_app, session_cookie
from .test_browser import canvas_has_pixels, open_page, wait_rendered

pytestmark = pytest.mark.browser


def _files(url: str, tmp_path) -> tuple[str, str, int]:
    eng = get_engine(url)
    compounds = geometries(eng, Scope.all(), level=3).head(3)
    first = compounds.iloc[0]
    grid = gpd.GeoDataFrame({
        "编码": [*compounds["code"].iloc[:2], first["code"] + "99"],
        "名称": [*compounds["name"].iloc[:2], "新建小区"],
        "层级": ["小区", "小区", "小区"],
        "上级编码": [*compounds["parent_code"].iloc[:2], first["parent_code"]],
    }, geometry=[*compounds.geometry.iloc[:2], affinity.scale(first.geometry, 0.4, 0.4)], crs="EPSG:4326")
    geo = tmp_path / "边界.geojson"
    grid.to_file(geo, driver="GeoJSON")
    buildings = geometries(eng, Scope.all(), level=4)["code"].head(5).tolist()
    n = 30
    ev = pd.DataFrame({"事件编号": [f"UI{i:04d}" for i in range(n)], "网格编码": [buildings[i % 5] for i in range(n)],
                       "类别": "矛盾纠纷", "来源": "网格员上报", "上报时间": "2026-10-08 09:30",
                       "办结时限": "2026-10-15 18:00", "办结时间": "", "状态": "处置中"})
    ev.loc[n - 1, "网格编码"] = "NOPE"  # one row the importer must reject, with its reason
    csv = tmp_path / "事件.csv"
    ev.to_csv(csv, index=False, encoding="gbk")
    return str(geo), str(csv), n


def test_admin_previews_boundaries_and_imports_events(browser, sqlite_tiny, tmp_path):
    db = tmp_path / "data.db"
    with sqlite3.connect(make_url(sqlite_tiny).database) as src, sqlite3.connect(db) as dst:
        src.backup(dst)  # a file copy would miss what is still in the -wal file
    url = f"sqlite:///{db}"
    geo, csv, n = _files(url, tmp_path)
    with serve_app(url, tmp_path / "st.log") as base:
        ctx, page, outside = open_page(browser, f"{base}/data", cookies=[session_cookie(url, base, "admin")])
        try:
            wait_rendered(page, text="导入类型")
            page.locator('input[type="file"]').set_input_files(geo)
            wait_rendered(page, selector='[data-testid="import-legend"]')
            wait_rendered(page, selector="canvas")
            page.wait_for_timeout(2500)
            legend = page.locator('[data-testid="import-legend"]').inner_text()
            assert "待导入边界（3）" in legend and "现有网格（" in legend
            assert page.get_by_text("其中 2 个编码已存在", exact=False).count() == 1
            assert canvas_has_pixels(page)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "data_grid_preview_1920.png"))

            page.get_by_text("事件", exact=True).first.click()
            wait_rendered(page, text="必填列")  # the events uploader has replaced the boundary one
            # Streamlit has no locale: the uploader's button reads 选择文件, its English limit line is hidden
            word = page.locator('[data-testid="stFileUploaderDropzone"] button p').last
            assert word.evaluate("p => getComputedStyle(p, '::after').content") == '"选择文件"'
            assert not page.get_by_text("per file", exact=False).first.is_visible()
            # (the boundary uploader may linger a moment as a stale element of the previous run)
            page.locator('input[type="file"][accept*=".csv"]').set_input_files(csv)
            wait_rendered(page, text="检测到编码")
            page.get_by_role("button", name="开始导入").click()
            wait_rendered(page, text="下载拒绝明细")
            body = page.locator("body").inner_text()
            assert f"读取 {n} 行：导入 {n - 1} 行，拒绝 1 行" in body
            assert f"已读取 {n} 行" in body
            assert page.get_by_text("下载拒绝明细").count() == 1
            page.screenshot(path=str(ARTIFACTS / "data_events_import_1920.png"))
            assert outside == [], f"requests left localhost: {outside[:5]}"
        finally:
            ctx.close()
    with get_engine(url).connect() as conn:
        assert conn.execute(select(func.count()).where(events.c.id.like("UI%"))).scalar_one() == n - 1


NEW_CELLS = "select count(*) from units where level = 4 and length(code) = 20"  # generate()'s codes


def test_admin_imports_boundaries_in_the_background(browser, sqlite_tiny, tmp_path):
    """A boundary file uploaded under a path-like name is stored in the server's own private folder;
    开始导入 starts a child process: the page answers (switching to 事件 and back) while it runs, shows
    its progress, then the result, and leaves no file behind."""
    from benchmarks.grid_preview import generate

    db = tmp_path / "data.db"
    with sqlite3.connect(make_url(sqlite_tiny).database) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    url = f"sqlite:///{db}"
    n = 3000
    grid = generate(n, 8, tmp_path / "cells.zip", str(db))
    tmp = tmp_path / "srv" / "tmp"
    tmp.mkdir(parents=True)
    with serve_app(url, tmp_path / "st.log", TMPDIR=str(tmp)) as base:
        ctx, page, outside = open_page(browser, f"{base}/data", cookies=[session_cookie(url, base, "admin")])
        try:
            wait_rendered(page, text="导入类型")
            page.locator('input[type="file"]').set_input_files(
                files=[{"name": "../../pwned.zip", "mimeType": "application/zip", "buffer": grid.read_bytes()}])
            wait_rendered(page, selector='[data-testid="import-legend"]')
            assert f"共 {n:,} 个" in page.locator('[data-testid="import-legend"]').inner_text()
            assert not (tmp.parent / "pwned.zip").exists()
            assert [p.name for p in tmp.iterdir()] == [next(tmp.iterdir()).name]  # one private folder
            assert [p.name for p in next(tmp.iterdir()).iterdir()] == ["upload.zip"]

            # The test holds SQLite's write lock while it uses the page, so the child's import (which
            # commits in one write transaction, waiting for other writers) is certainly still running
            # however fast the machine is; it is released below and the import then completes.
            hold = sqlite3.connect(db, isolation_level=None)
            hold.execute("BEGIN IMMEDIATE")
            page.get_by_role("button", name="开始导入").click()
            t0 = time.perf_counter()
            page.get_by_text("正在导入", exact=False).first.wait_for(timeout=60_000)
            t1 = time.perf_counter()
            page.get_by_text("事件", exact=True).first.click()  # the page answers while the child imports
            page.get_by_text("必填列", exact=False).first.wait_for(timeout=15_000)
            print(f"progress shown after {t1 - t0:.1f} s, 事件 after {time.perf_counter() - t1:.1f} s")
            with sqlite3.connect(db) as conn:  # the import commits at its end: still running
                assert conn.execute(NEW_CELLS).fetchone()[0] == 0
            page.get_by_text("网格边界", exact=True).first.click()
            page.get_by_text("正在导入", exact=False).first.wait_for(timeout=15_000)  # back: still running
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "data_grid_import_running_1920.png"))
            hold.rollback()
            hold.close()
            page.get_by_text(f"读取 {n} 行：导入 {n} 行", exact=False).first.wait_for(timeout=240_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "data_grid_import_done_1920.png"))
            assert outside == [], f"requests left localhost: {outside[:5]}"
        finally:
            ctx.close()
    assert [p.name for p in tmp.iterdir() if p.name.startswith("sanling-import-")] == []
    with sqlite3.connect(db) as conn:
        assert conn.execute(NEW_CELLS).fetchone()[0] == n
