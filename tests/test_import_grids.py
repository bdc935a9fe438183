"""Tests for boundary re-imports and odd rows: a round trip changes nothing, a file changes only the
columns it gives, a moved unit takes its subtree and every fact row along (and ``check`` proves the
ancestor chains), bad rows are rejected with reasons identically on SQLite and PostgreSQL, files
over the caps are refused up front and the preview reads a sample only."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, make_url, select, text, update

from data_access.db import schema
from data_access.db.check import check
from data_access.db.engine import get_engine
from data_access.db.schema import event_rollup, events, units
from data_access.filters import Scope, parse_period
from data_access.importers import import_grids
from data_access.importers.common import ImportFileError
from data_access.queries import events as ev
from data_access.queries import units as un

from .conftest import ROOT, _pg_admin_engine

AS_OF = pd.Timestamp("2026-10-31 12:00").to_pydatetime()
FACTS = [t for t in schema.metadata.sorted_tables if "l0_code" in t.c and t.name not in ("units", "event_rollup")]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def eng(request, tmp_path):
    """A private copy of the tiny demo on each engine (these tests write to it)."""
    if request.param == "sqlite":
        dst = tmp_path / "g.db"
        with sqlite3.connect(make_url(request.getfixturevalue("sqlite_tiny")).database) as a, sqlite3.connect(dst) as b:
            a.backup(b)
        yield get_engine(f"sqlite:///{dst}")
        return
    template = request.getfixturevalue("pg_tiny")
    get_engine(template).dispose()  # CREATE DATABASE … TEMPLATE needs the template without sessions
    name = f"sanling_grids_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        # An engine evicted from get_engine's cache (a long single-process run opens many databases) may
        # still hold pooled sessions on the template; they are ended here (pools pre-ping and reconnect).
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": make_url(template).database})
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"'))
    url = template.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield get_engine(url)
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _units(eng) -> pd.DataFrame:
    with eng.connect() as conn:
        return pd.DataFrame(conn.execute(select(units).order_by(units.c.code)).mappings().all()).set_index("code")


def _cli(*args) -> tuple[int, dict]:
    out = subprocess.run([sys.executable, "-m", "data_access", *map(str, args)], capture_output=True, text=True,
                         cwd=ROOT)
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout.strip().splitlines()[-1])


def _url(eng) -> str:
    return eng.url.render_as_string(hide_password=False)


def _healthy(eng) -> dict:
    res = check(eng)
    assert (res["orphans"], res["bad_parents"], res["bad_ancestors"]) == (0, 0, 0), res
    return res


# ------------------------------------------------------------------ re-import keeps what the file does not say

def test_export_import_round_trip_changes_nothing(eng, tmp_path):
    """export-grids → import-grids: every stored value survives (population, kind township, parents…)."""
    before = _units(eng)
    assert (before["kind"] == "township").any() and (before["population"] > 0).all()
    out = tmp_path / "all.geojson"
    assert _cli("export-grids", out, "--db", _url(eng))[0] == 0
    code, summary = _cli("import-grids", out, "--db", _url(eng), "--rejects", tmp_path / "r.csv")
    assert code == 0 and summary["rejected"] == 0 and summary["imported"] == len(before)
    after = _units(eng)
    geo = ["geom_wkb", "min_lon", "min_lat", "max_lon", "max_lat", "center_lon", "center_lat", "area_km2"]
    pd.testing.assert_frame_equal(before.drop(columns=geo), after.drop(columns=geo))
    for a, b in zip(before["geom_wkb"], after["geom_wkb"], strict=True):
        assert shapely.from_wkb(a).equals_exact(shapely.from_wkb(b), 1e-9)
    _healthy(eng)


def _file_of(eng, codes: list[str], **columns) -> gpd.GeoDataFrame:
    """The stored units ``codes`` as a boundary file with code, name, level, parent_code (+ ``columns``)."""
    gdf = un.geometries(eng, Scope.all(), codes=codes)[["code", "name", "level", "parent_code", "geometry"]]
    for k, v in columns.items():
        gdf[k] = v
    return gdf


def test_missing_or_empty_columns_keep_stored_values(eng, tmp_path):
    """A file without kind/population columns, or with empty cells, never defaults stored values away."""
    before = _units(eng)
    subs = list(before.index[before["level"] == 1])
    path = tmp_path / "no_columns.geojson"
    _file_of(eng, subs).to_file(path, driver="GeoJSON")
    assert import_grids(eng, str(path))["rejected"] == 0
    path = tmp_path / "empty_cells.geojson"
    _file_of(eng, subs, kind="", population=None, name="").to_file(path, driver="GeoJSON")
    assert import_grids(eng, str(path))["rejected"] == 0
    after = _units(eng)
    for col in ("name", "kind", "population", "parent_code", "households"):
        assert after.loc[subs, col].tolist() == before.loc[subs, col].tolist(), col
    path = tmp_path / "given.geojson"
    _file_of(eng, subs[:1], kind="乡镇", population="12,345").to_file(path, driver="GeoJSON")
    import_grids(eng, str(path))
    assert tuple(_units(eng).loc[subs[0], ["kind", "population"]]) == ("township", 12345)


def _move_target(eng):
    """A community with compounds, buildings and events, its subdistrict and another subdistrict."""
    with eng.connect() as conn:
        rows = conn.execute(select(units.c.code, units.c.l1_code).where(units.c.level == 2)).all()
        n = {c: conn.execute(select(func.count()).select_from(events).where(events.c.l2_code == c)).scalar()
             for c, _ in rows}
        subs = [r[0] for r in conn.execute(select(units.c.code).where(units.c.level == 1).order_by(units.c.code))]
    com, old = max(rows, key=lambda r: n[r[0]])
    return com, old, next(s for s in subs if s != old), n[com]


def test_parent_change_carries_the_subtree_and_every_fact_row(eng, tmp_path):
    """A community moved to another subdistrict: its descendants, events, rollups and all fact rows
    follow in the same import; staff of the new subdistrict see its events, the old one's no longer."""
    com, old, new, n_events = _move_target(eng)
    assert n_events > 0
    period = parse_period("2026-10")
    kpis = {s: ev.event_kpis(eng, Scope(s, 1), un.get_unit(eng, s), period, as_of=AS_OF) for s in (old, new)}
    com_kpi = ev.event_kpis(eng, Scope.all(), un.get_unit(eng, com), period, as_of=AS_OF, use_rollup=False)
    path = tmp_path / "move.geojson"
    _file_of(eng, [com], parent_code=new).to_file(path, driver="GeoJSON")
    out = import_grids(eng, str(path))
    assert out["moved"] == 1 and out["rejected"] == 0
    with eng.connect() as conn:
        assert conn.execute(select(units.c.parent_code).where(units.c.code == com)).scalar() == new
        sub = conn.execute(select(func.count()).select_from(units).where(units.c.l2_code == com)).scalar()
        assert sub > 1 and conn.execute(select(func.count()).select_from(units).where(
            units.c.l2_code == com, units.c.l1_code == new)).scalar() == sub
        for t in FACTS:  # every table with ancestor columns, events included
            total = conn.execute(select(func.count()).select_from(t).where(t.c.l2_code == com)).scalar()
            moved = conn.execute(select(func.count()).select_from(t).where(t.c.l2_code == com,
                                                                             t.c.l1_code == new)).scalar()
            assert moved == total, t.name
        assert conn.execute(select(func.sum(event_rollup.c.reported)).where(event_rollup.c.level == 0)).scalar() \
            == conn.execute(select(func.count()).select_from(events)).scalar()
    for s, sign in ((old, -1), (new, 1)):
        for use_rollup in (True, False):  # the staff's figures, both paths
            k = ev.event_kpis(eng, Scope(s, 1), un.get_unit(eng, s), period, as_of=AS_OF, use_rollup=use_rollup)
            assert k["reported"] == kpis[s]["reported"] + sign * com_kpi["reported"], (s, use_rollup)
    with pytest.raises(Exception, match="(?i)scope|范围"):
        un.resolve_unit(eng, Scope(old, 1), com)
    assert un.resolve_unit(eng, Scope(new, 1), com).code == com
    _healthy(eng)


def test_level_change_is_refused(eng, tmp_path):
    com, *_ = _move_target(eng)
    path = tmp_path / "level.geojson"
    _file_of(eng, [com], level=3).to_file(path, driver="GeoJSON")
    out = import_grids(eng, str(path), rejects=str(tmp_path / "r.csv"))
    assert out["rejected"] == 1 and "不能更改层级" in open(out["rejects_file"], encoding="utf-8-sig").read()
    assert _units(eng).loc[com, "level"] == 2


def test_check_reports_bad_ancestors(eng):
    """check verifies every ancestor chain: units against their parents, fact rows against their unit."""
    assert _healthy(eng)["bad_ancestors_by_table"] == {}
    com, old, new, _ = _move_target(eng)
    with eng.begin() as conn:  # what the old importer did: the parent changed, nothing else
        conn.execute(update(units).where(units.c.code == com).values(parent_code=new))
        n_desc = conn.execute(select(func.count()).select_from(units).where(units.c.l2_code == com)).scalar()
        one = conn.execute(select(events.c.id).where(events.c.l2_code != com).limit(1)).scalar()
        conn.execute(update(events).where(events.c.id == one).values(l1_code=new if new else "X"))
    res = check(eng)
    assert res["bad_ancestors_by_table"]["units"] == n_desc
    assert res["bad_ancestors_by_table"]["events"] == 1
    assert res["bad_ancestors"] == n_desc + 1
    code, out = _cli("check", "--db", _url(eng))
    assert code == 1 and out["bad_ancestors"] == n_desc + 1


# ------------------------------------------------------------------ odd rows: rejects and warnings, never an abort

def _district_file(eng) -> gpd.GeoDataFrame:
    gdf = _file_of(eng, [c for c in _units(eng).index if len(c) <= 9])  # the district and its subdistricts
    return gdf.sort_values("level", ignore_index=True)


def test_gpkg_district_with_empty_parent_and_numeric_codes(eng, tmp_path):
    """Numeric code columns (a district's parent empty → NaN) store NULL, not 'nan', and '411602', not
    '411602.0'; check stays clean."""
    gdf = _district_file(eng)
    gdf["code"] = gdf["code"].astype("int64")
    gdf["parent_code"] = pd.to_numeric(gdf["parent_code"]).astype("float64")  # NaN for the district
    path = tmp_path / "grid.gpkg"
    gdf.to_file(path, driver="GPKG")
    out = import_grids(eng, str(path))
    assert out["rejected"] == 0 and out["imported"] == len(gdf)
    stored = _units(eng)
    assert stored.loc[stored["level"] == 0, "parent_code"].isna().all()
    assert not stored.index.str.contains(r"\.").any()
    assert check(eng)["bad_parents"] == 0


def test_district_parent_outside_the_database_is_not_an_error(eng, tmp_path):
    gdf = _district_file(eng)
    gdf.loc[gdf["level"] == 0, "parent_code"] = "411600"  # the city, not in this database
    path = tmp_path / "grid.geojson"
    gdf.to_file(path, driver="GeoJSON")
    assert import_grids(eng, str(path))["rejected"] == 0
    assert _units(eng).query("level == 0")["parent_code"].tolist() == ["411600"]
    _healthy(eng)


def test_bad_rows_are_rejected_with_reasons_on_both_engines(eng, tmp_path):
    """A 150-character name, an HTML/SQL code, a malformed parent: per-row rejects with reasons (PostgreSQL
    would otherwise abort the whole import on varchar(100)); 约三万 people is a warning, not a ValueError."""
    com, *_ = _move_target(eng)
    base = _file_of(eng, [com])
    geom, parent = base.geometry.iloc[0], base["parent_code"].iloc[0]
    small = shapely.affinity.scale(geom, 0.2, 0.2)
    rows = [
        ("N_LONG", "长" * 150, 2, parent, small, "", "名称超过 100 个字符"),
        ("411602005001 <b>x</b>'; --", "注入", 2, parent, small, "", "编码格式无效"),
        ("N_PARENT", "坏上级", 2, "41' OR 1=1", small, "", "上级编码格式无效"),
        ("N_OK", "正常", 2, parent, small, "约三万", None),
        (com, "改名", 2, parent, geom, "约三万", None),
    ]
    gdf = gpd.GeoDataFrame({"code": [r[0] for r in rows], "name": [r[1] for r in rows], "level": [r[2] for r in rows],
                            "parent_code": [r[3] for r in rows], "population": [r[5] for r in rows]},
                           geometry=[r[4] for r in rows], crs="EPSG:4326")
    path = tmp_path / "odd.geojson"
    gdf.to_file(path, driver="GeoJSON")
    pop_before = _units(eng).loc[com, "population"]
    out = import_grids(eng, str(path), rejects=str(tmp_path / "r.csv"))
    assert (out["read"], out["imported"], out["rejected"]) == (5, 2, 3)
    report = pd.read_csv(out["rejects_file"], encoding="utf-8-sig", dtype=str)
    for _code, *_, reason in rows:
        if reason:
            assert report["原因"].str.contains(reason, regex=False).any(), reason
    assert report["原因"].str.contains("人口无法识别：约三万").sum() == 2
    stored = _units(eng)
    assert stored.loc["N_OK", "population"] == 0 and stored.loc[com, "population"] == pop_before
    assert stored.loc[com, "name"] == "改名"
    _healthy(eng)


# ------------------------------------------------------------------ caps and the sampled preview

def _many_cells(eng, n: int) -> gpd.GeoDataFrame:
    comp = _file_of(eng, [c for c in _units(eng).query("level == 3").index[:1]]).iloc[0]
    c = comp.geometry.representative_point()
    boxes = [shapely.box(c.x + i * 1e-5, c.y, c.x + (i + 1) * 1e-5, c.y + 1e-5) for i in range(n)]
    return gpd.GeoDataFrame({"code": [f"{comp['code']}{i:04d}" for i in range(n)], "name": "楼", "level": 4,
                             "parent_code": comp["code"]}, geometry=boxes, crs="EPSG:4326")


def test_preview_reads_a_sample_and_counts_existing_codes_of_the_whole_file(eng, tmp_path, monkeypatch):
    from data_access.importers.grids import preview_grid_file

    gdf = _many_cells(eng, 40)
    path = tmp_path / "cells.gpkg"
    gdf.to_file(path, driver="GPKG")
    import_grids(eng, str(path))
    gdf = pd.concat([gdf, _many_cells(eng, 60).iloc[40:]], ignore_index=True)
    gdf.to_file(path, driver="GPKG")
    monkeypatch.setenv("GRID_PREVIEW_FEATURES", "7")
    p = preview_grid_file(eng, str(path))
    assert (p.features, len(p.sample), p.existing) == (60, 7, 40)
    assert len(p.table) <= 10 and "code" in p.columns


@pytest.mark.parametrize("setting, value", [("GRID_IMPORT_MAX_FEATURES", "5"), ("GRID_IMPORT_MAX_MB", "0.001")])
def test_files_over_the_caps_are_refused_up_front(eng, tmp_path, monkeypatch, setting, value):
    from data_access.importers.grids import preview_grid_file

    path = tmp_path / "cells.geojson"
    _many_cells(eng, 9).to_file(path, driver="GeoJSON")
    monkeypatch.setenv(setting, value)
    with pytest.raises(ImportFileError, match=f"超过上限.*{setting}"):
        preview_grid_file(eng, str(path))
    code, out = _cli("import-grids", path, "--db", _url(eng))
    assert code == 1 and "超过上限" in out["error"]


def test_bad_settings_and_crs_are_clear_errors(monkeypatch, tmp_path):
    from data_access.importers.grid_files import Limits
    from data_access.importers.grids import crs_flag

    monkeypatch.setenv("GRID_IMPORT_MAX_MB", "lots")
    with pytest.raises(ImportFileError, match="GRID_IMPORT_MAX_MB"):
        Limits.from_env()
    assert crs_flag("cgcs2000") == "EPSG:4490" and crs_flag("epsg:4549") == "EPSG:4549" and crs_flag(None) is None
    with pytest.raises(ImportFileError, match="坐标系参数无效"):
        crs_flag("+proj=longlat +nadgrids=/etc/passwd")


def test_import_job_runs_in_a_child_process(eng, tmp_path):
    """The page's import: a child process, progress in a file, the summary at the end, folder removed."""
    from data_access.importers.jobs import start_grid_import

    path = tmp_path / "cells.geojson"
    _many_cells(eng, 30).to_file(path, driver="GeoJSON")
    job = start_grid_import(_url(eng), path, None, "admin")
    assert job.proc.pid != __import__("os").getpid()
    status = job.poll()
    assert status.state in ("running", "done")
    job.proc.wait(120)
    status = job.poll()
    assert status.state == "done", status
    assert status.result["imported"] == 30 and status.result["read"] == 30
    job.cleanup()
    assert not job.folder.exists()
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    job = start_grid_import(_url(eng), bad, None, "admin")
    job.proc.wait(120)
    status = job.poll()
    assert status.state == "failed" and "无法读取" in status.error
    job.cleanup()
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(units).where(units.c.code.like(
            _many_cells(eng, 1)["code"].iloc[0][:-4] + "%"), units.c.level == 4)).scalar() >= 30
        audit = conn.execute(select(schema.audit_log.c.username, schema.audit_log.c.detail)
                             .where(schema.audit_log.c.action == "import")).all()
    assert any(u == "admin" and '"imported": 30' in d for u, d in audit)


def test_numeric_text_helpers():
    from data_access.importers.grids import _population, _text

    assert _text(np.float64(411602005.0)) == "411602005" and _text(float("nan")) == "" and _text(None) == ""
    assert _text(pd.NA) == "" and _text(" 41 ") == "41"
    assert [_population(s) for s in ("30000", "30,000", "3e4", "约三万", "-5", "1.5", "9" * 12)] == \
        [30000, 30000, 30000, None, None, None, None]


def test_other_layers_are_reported_not_dropped_silently(eng, tmp_path):
    path = tmp_path / "two.gpkg"
    _many_cells(eng, 3).to_file(path, driver="GPKG", layer="cells")
    _many_cells(eng, 5).to_file(path, driver="GPKG", layer="more")
    out = import_grids(eng, str(path), rejects=str(tmp_path / "r.csv"))
    assert out["imported"] == 3 and out["warnings"] == 1
    assert "只导入了第一个「cells」" in open(out["rejects_file"], encoding="utf-8-sig").read()


def test_a_job_left_by_its_session_cleans_up_after_itself(eng, tmp_path):
    """The session ended (the job object is gone) while the child ran: it finishes, its folder goes."""
    import gc

    from data_access.importers.jobs import start_grid_import

    path = tmp_path / "cells.geojson"
    _many_cells(eng, 5).to_file(path, driver="GeoJSON")
    job = start_grid_import(_url(eng), path, None, "admin")
    folder, proc = job.folder, job.proc
    del job
    gc.collect()
    proc.wait(120)
    for _ in range(50):
        if not folder.exists():
            break
        __import__("time").sleep(0.1)
    assert not folder.exists()
    assert _units(eng).index.isin(_many_cells(eng, 5)["code"]).sum() == 5
