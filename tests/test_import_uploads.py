"""Tests for uploads on the 数据管理 page: the client's file name is never a path, one private folder
per upload that reruns reuse and clearing removes, every upload, preview and refusal audited, and
a boundary import that runs in a child process while the page keeps answering (AppTest)."""

from __future__ import annotations

import gc
import json
import sqlite3
import tempfile
import time

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import make_url, select
from streamlit.testing.v1 import AppTest

from data_access.db.engine import get_engine
from data_access.db.schema import audit_log
from data_access.filters import Scope
from data_access.queries.units import geometries

from .conftest import ROOT, login_state

# "ABS" becomes an absolute path into the test's own folder (the old page wrote wherever it pointed).
TRAVERSAL = ["../../pwned.geojson", "..\\..\\pwned.geojson", "ABS"]


# ------------------------------------------------------------------ the helper


@pytest.mark.parametrize("name", TRAVERSAL + ["C:\\Windows\\pwned.geojson", "pwned.GEOJSON"])
def test_client_name_is_never_a_path(tmp_path, name):
    from data_access.importers.uploads import UploadSlot

    slot = UploadSlot(tmp_path / "root")
    (tmp_path / "root").mkdir()
    name = name.replace("ABS", str(tmp_path / "pwned.geojson"))
    stored, new = slot.store("k1", b'{"type": "FeatureCollection"}', name, [".geojson", ".json"])
    assert new and stored.path.name == "upload.geojson"
    assert stored.path.parent.parent == tmp_path / "root" and stored.path.parent.name.startswith("sanling-upload-")
    assert stored.name == "pwned.geojson" or stored.name == "pwned.GEOJSON"
    assert [p.name for p in tmp_path.rglob("pwned*")] == []


@pytest.mark.parametrize("name", ["grid.vrt", "grid.geojson.vrt", "grid", "grid.geojson\x00.vrt", "grid.geo json"])
def test_other_types_are_refused_before_writing(tmp_path, name):
    from data_access.importers.uploads import UploadRefused, UploadSlot

    slot = UploadSlot(tmp_path)
    with pytest.raises(UploadRefused, match="不支持的文件类型"):
        slot.store("k", b"x", name, [".geojson"])
    assert list(tmp_path.iterdir()) == []


def test_one_folder_per_upload_replaced_cleared_and_collected(tmp_path):
    from data_access.importers.uploads import UploadRefused, UploadSlot

    slot = UploadSlot(tmp_path)
    a, new = slot.store("a", b"1", "a.csv", ["csv"])
    again, new_again = slot.store("a", b"1", "a.csv", ["csv"])  # a rerun: the same file, nothing written
    assert new and not new_again and again.path == a.path and len(list(tmp_path.iterdir())) == 1
    (a.path.parent / "upload.rejects.csv").write_text("x")  # written beside it by an import
    b, _ = slot.store("b", b"2", "b.csv", ["csv"])
    assert not a.path.parent.exists() and list(tmp_path.iterdir()) == [b.path.parent]
    slot.clear()
    assert list(tmp_path.iterdir()) == []
    slot.store("c", b"3", "c.csv", ["csv"])
    del slot
    gc.collect()  # the Streamlit session (and with it the slot) is gone
    assert list(tmp_path.iterdir()) == []
    slot = UploadSlot(tmp_path)
    with pytest.raises(UploadRefused, match="超过上限"):
        slot.store("d", b"12345", "d.csv", ["csv"], max_bytes=4)
    with pytest.raises(UploadRefused, match="为空"):
        slot.store("e", b"", "e.csv", ["csv"])
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ the page (AppTest)


@pytest.fixture
def page(sqlite_tiny, tmp_path, monkeypatch):
    """The 数据管理 page as admin on a private copy of the tiny demo, temporary files under tmp/."""
    db = tmp_path / "p.db"
    with sqlite3.connect(make_url(sqlite_tiny).database) as a, sqlite3.connect(db) as b:
        a.backup(b)
    url = f"sqlite:///{db}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in login_state(url, "admin").items():
        at.session_state[k] = v
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    return at, url, tmp


def _boundary_file(url: str, n: int = 3) -> bytes:
    gdf = geometries(get_engine(url), Scope.all(), level=3).head(n)
    return gdf[["code", "name", "level", "parent_code", "geometry"]].to_json(drop_id=True).encode()


def _audit(url: str) -> list[tuple[str, dict]]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(audit_log.c.action, audit_log.c.detail).order_by(audit_log.c.id)).all()
    return [(a, json.loads(d)) for a, d in rows if a in ("upload", "upload_refused", "preview", "preview_refused")]


@pytest.mark.parametrize("name", TRAVERSAL)
def test_page_upload_with_a_traversal_name_writes_only_its_own_folder(page, name):
    at, url, tmp = page
    name = name.replace("ABS", str(tmp.parent / "pwned.geojson"))
    at.file_uploader(key="data_file_网格边界").set_value((name, _boundary_file(url), "application/json"))
    for _ in range(3):  # reruns (any widget) reuse the stored file
        at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not (tmp.parent / "pwned.geojson").exists()
    folders = list(tmp.iterdir())
    assert len(folders) == 1 and [p.name for p in folders[0].iterdir()] == ["upload.geojson"]
    assert any("3 个要素" in c.value for c in at.caption)
    at.file_uploader(key="data_file_网格边界").set_value(None)
    at.run()
    assert list(tmp.iterdir()) == []
    assert [a for a, _ in _audit(url)] == ["upload", "preview"]


def test_uploads_previews_and_refusals_are_audited(page, monkeypatch):
    at, url, tmp = page
    vrt = (b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd</SrcDataSource></OGRVRTLayer>'
           b'</OGRVRTDataSource>')
    at.file_uploader(key="data_file_网格边界").set_value(("grid.json", vrt, "application/json"))
    at.run()
    assert any("无法预览该文件" in e.value for e in at.error)
    monkeypatch.setenv("GRID_IMPORT_MAX_MB", "0.0001")
    at.run()  # the uploader states the configured limit: a new limit is a new widget (as after a restart)
    at.file_uploader(key="data_file_网格边界").set_value(("big.geojson", _boundary_file(url), "application/json"))
    at.run()
    assert any("文件未接收" in e.value for e in at.error)
    monkeypatch.delenv("GRID_IMPORT_MAX_MB")
    at.radio(key="data_kind").set_value("事件")
    at.run()
    at.file_uploader(key="data_file_事件").set_value(("事件.csv", "事件编号,网格编码\nA,B\n".encode("gbk"), "text/csv"))
    at.run()
    assert not at.exception
    log = _audit(url)
    assert [a for a, _ in log] == ["upload", "preview_refused", "upload_refused", "upload"]
    assert log[0][1]["file"] == "grid.json" and log[0][1]["kind"] == "grids" and len(log[0][1]["sha256"]) == 16
    assert "GeoJSON" in log[1][1]["reason"] and "超过上限" in log[2][1]["reason"]
    assert log[3][1]["kind"] == "events"
    assert len(list(tmp.iterdir())) == 1  # the events file; the refused and replaced ones are gone


def test_boundary_import_runs_beside_the_page_and_shows_its_result(page):
    """开始导入 returns at once (a child process imports), the page reruns meanwhile, the result and
    the rejects appear when it is done, and the job's folder is removed."""
    at, url, tmp = page
    at.file_uploader(key="data_file_网格边界").set_value(("边界.geojson", _boundary_file(url, 5), "application/json"))
    at.run()
    started = time.perf_counter()
    at.button(key="data_go").click()
    at.run()
    assert time.perf_counter() - started < 5
    assert "grid_job" in at.session_state or at.success
    for _ in range(120):
        if any("导入 5 行" in s.value for s in at.success):
            break
        time.sleep(0.5)
        at.run()  # what the progress fragment's timer does
        assert not at.exception
    done = [s.value for s in at.success]  # Markdown source: the file's name is escaped
    assert any("边界\\.geojson：读取 5 行：导入 5 行，拒绝 0 行" in s for s in done), done
    assert [p.name for p in tmp.iterdir() if p.name.startswith("sanling-import-")] == []
    with get_engine(url).connect() as conn:
        actions = [r[0] for r in conn.execute(select(audit_log.c.action, audit_log.c.username)
                                              .where(audit_log.c.action == "import"))]
    assert actions == ["import"]


def test_preview_of_invalid_polygons_draws_instead_of_failing(page):
    """A file's self-intersecting or degenerate polygons are repaired for the preview map, never an error."""
    at, url, tmp = page
    bowtie = shapely.Polygon([(114.6, 33.6), (114.601, 33.601), (114.601, 33.6), (114.6, 33.601)])
    spike = shapely.Polygon([(114.6, 33.6), (114.6000001, 33.6), (114.6000001, 33.60000001), (114.6, 33.6),
                             (114.6, 33.6001), (114.6, 33.6)])
    gdf = gpd.GeoDataFrame({"code": ["B1", "B2"], "name": ["自交", "尖刺"], "level": [4, 4], "parent_code": ["P", "P"]},
                           geometry=[bowtie, spike], crs="EPSG:4326")
    at.file_uploader(key="data_file_网格边界").set_value(("bad.geojson", gdf.to_json().encode(), "application/json"))
    at.run()
    assert not at.exception, at.exception
    assert any("待导入边界（2）" in str(h.proto.body) for h in at.get("html"))
