"""Tests for the meeting snapshot: report queries, PDF, Excel, CLI, scope and audit.

Query figures are checked against pandas over the raw rows on SQLite and PostgreSQL; the
PDF is checked with poppler (pdftotext, pdffonts, pdftoppm) against what data_access returns
for the same period; the workbook is read back with openpyxl.
"""

from __future__ import annotations

import getpass
import io
import json
import math
import shutil
import subprocess
import sys
import warnings
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

import reports
from common.colors import WARNING_COLORS
from common.fmt import num, pct
from data_access.db import schema
from data_access.db.engine import get_engine
from data_access.errors import OutOfScopeError
from data_access.filters import Scope, month_period, parse_period
from data_access.queries import events as ev
from data_access.queries import patrol, sanling
from data_access.queries import report_data as rd
from data_access.queries import units as un
from data_access.queries import warnings as wn
from reports import static_map
from reports.excel import render_excel
from reports.pdf import render_pdf
from reports.snapshot import build_snapshot

from .conftest import ROOT

AS_OF = datetime(2026, 10, 31, 12, 0)
PERIOD = month_period(date(2026, 9, 1))
POPPLER = shutil.which("pdftotext") and shutil.which("pdffonts") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext/pdffonts/pdftoppm) not installed")


def _raw(engine, table) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(table)).mappings().all())


def _root(engine):
    return un.home_unit(engine, Scope.all())


def _sub(engine, i: int = 0):
    root = _root(engine)
    code = un.children(engine, Scope.all(), root)["code"].iloc[i]
    return un.get_unit(engine, code)


# --- report queries, both engines ---------------------------------------------------------------

def _judgements(engine) -> pd.DataFrame:
    subj, jud = _raw(engine, schema.sanling_subjects), _raw(engine, schema.sanling_judgements)
    df = jud.merge(subj, left_on="subject_id", right_on="id")
    df["month"] = pd.to_datetime(df["month"]).dt.date
    return df[(df["month"] >= PERIOD.start) & (df["month"] < PERIOD.end)]


def test_sanling_compliance_matches_raw_rows(tiny_engine):
    """Compliance per kind equals a pandas count over the judgements of the (judged) month, also under a scope."""
    j = _judgements(tiny_engine)
    assert len(j) > 20
    for scope, unit, rows in ((Scope.all(), _root(tiny_engine), j),
                              (Scope(_sub(tiny_engine, 1).code, 1), _sub(tiny_engine, 1),
                               j[j["l1_code"] == _sub(tiny_engine, 1).code])):
        got = sanling.compliance_by_kind(tiny_engine, scope, unit, PERIOD).set_index("kind")
        for kind in ("village", "enterprise"):
            part = rows[rows["kind"] == kind]
            assert got.loc[kind, "subjects"] == len(part)
            assert got.loc[kind, "compliant"] == int(part["compliant"].astype(bool).sum())
            if len(part):
                assert got.loc[kind, "rate"] == pytest.approx(part["compliant"].astype(bool).mean())


def test_sanling_noncompliant_lists_every_broken_subject(tiny_engine):
    j = _judgements(tiny_engine)
    bad = j[~j["compliant"].astype(bool)]
    got = rd.sanling_noncompliant(tiny_engine, Scope.all(), _root(tiny_engine), PERIOD)
    assert sorted(got["subject_id"]) == sorted(bad["subject_id"])
    flags = {"零上访": "broke_petition", "零事故": "broke_accident", "零案件": "broke_case"}
    for rec in got.merge(bad[["subject_id", *flags.values()]], on="subject_id").to_dict("records"):
        assert rec["broken"] and all(rec[flags[b]] for b in rec["broken"].split("、"))


def test_patrol_summary_and_children_match_raw_rows(tiny_engine):
    """Coverage = distinct level-4 cells visited in the period / cells, for the unit and per child."""
    units = _raw(tiny_engine, schema.units)
    visits = _raw(tiny_engine, schema.patrol_visits)
    visits["visited_on"] = pd.to_datetime(visits["visited_on"]).dt.date
    visits = visits[(visits["visited_on"] >= PERIOD.start) & (visits["visited_on"] < PERIOD.end)]
    cells = units[units["level"] == 4]
    root = _root(tiny_engine)
    got = patrol.patrol_summary(tiny_engine, Scope.all(), root, PERIOD)
    assert got["cells"] == len(cells)
    assert got["covered"] == visits["unit_code"].nunique() > 0
    assert got["coverage"] == pytest.approx(got["covered"] / got["cells"])
    kids = rd.child_breakdown(tiny_engine, Scope.all(), root, PERIOD).set_index("code")
    seen = cells.merge(visits[["unit_code"]].drop_duplicates(), left_on="code", right_on="unit_code")
    for code, row in kids.iterrows():
        assert row["cells"] == (cells["l1_code"] == code).sum()
        assert row["covered"] == (seen["l1_code"] == code).sum()
    assert kids["cells"].sum() == got["cells"] and kids["covered"].sum() == got["covered"]


def test_overdue_events_match_raw_rows(tiny_engine):
    raw = _raw(tiny_engine, schema.events)
    for c in ("reported_at", "deadline", "closed_at"):
        raw[c] = pd.to_datetime(raw[c])
    sub = _sub(tiny_engine, 0)
    exp = raw[(raw["reported_at"] >= PERIOD.start_dt) & (raw["reported_at"] < PERIOD.end_dt)
              & raw["closed_at"].isna() & (raw["deadline"] < AS_OF) & (raw["l1_code"] == sub.code)]
    got = rd.overdue_events(tiny_engine, Scope(sub.code, 1), sub, PERIOD, as_of=AS_OF)
    assert sorted(got["id"]) == sorted(exp["id"])
    assert got["deadline"].is_monotonic_increasing
    assert (got["l1_name"] == sub.name).all()
    kpis = ev.event_kpis(tiny_engine, Scope(sub.code, 1), sub, PERIOD, as_of=AS_OF)
    assert len(got) == kpis["overdue_open"]


def test_report_units_respect_scope(tiny_engine):
    sub = _sub(tiny_engine, 2)
    got = rd.report_units(tiny_engine, Scope(sub.code, 1), sub)
    raw = _raw(tiny_engine, schema.units)
    exp = raw[(raw["l1_code"] == sub.code) & (raw["level"] <= 3)]
    assert sorted(got["code"]) == sorted(exp["code"])
    assert got["level"].is_monotonic_increasing


def test_log_export_writes_audit_row(tiny_engine):
    sub = _sub(tiny_engine, 0)
    with tiny_engine.connect() as conn:
        before = conn.execute(select(func.max(schema.audit_log.c.id))).scalar() or 0
    rd.log_export(tiny_engine, "tester", sub, PERIOD, "pdf", ("kpis",), at=AS_OF)
    with tiny_engine.connect() as conn:
        rows = conn.execute(select(schema.audit_log).where(schema.audit_log.c.id > before)).mappings().all()
    assert len(rows) == 1 and rows[0]["action"] == "export" and rows[0]["username"] == "tester"
    assert json.loads(rows[0]["detail"]) == {"unit": sub.code, "unit_name": sub.name, "period": "2026-09",
                                             "format": "pdf", "sections": ["kpis"]}


# --- snapshot figures --------------------------------------------------------------------------

def test_snapshot_figures_equal_data_access(tiny_engine):
    """The key-figure table is what event_kpis / closure_by / report_data return, this and last period."""
    root = _root(tiny_engine)
    snap = build_snapshot(tiny_engine, Scope.all(), root, PERIOD, as_of=AS_OF)
    kpis = snap.tables["kpis"].data.set_index("key")
    for period, col in ((PERIOD, "value"), (PERIOD.previous(), "previous")):
        k = ev.event_kpis(tiny_engine, Scope.all(), root, period, as_of=AS_OF)
        for key in ("reported", "closed", "overdue", "overdue_open", "key", "closure_rate"):
            assert kpis.loc[key, col] == pytest.approx(k[key])
        src = ev.closure_by(tiny_engine, Scope.all(), root, period, "source", as_of=AS_OF).set_index("code")
        assert kpis.loc["closure_rate_grid", col] == pytest.approx(src.loc["grid", "closure_rate"])
        cov = patrol.patrol_coverage(tiny_engine, Scope.all(), root, period)["coverage"]
        assert kpis.loc["patrol_coverage", col] == pytest.approx(cov)
    assert kpis.loc["closure_rate", "met"] == ("达标" if kpis.loc["closure_rate", "value"] >= 0.95 else "未达标")
    assert kpis.loc["reported", "change"] == pytest.approx(
        (kpis.loc["reported", "value"] / kpis.loc["reported", "previous"] - 1) * 100)
    rank = snap.tables["ranking"].data
    assert rank["reported"].sum() == kpis.loc["reported", "value"]
    assert list(rank["rank"]) == list(range(1, len(rank) + 1))
    assert rank["closure_rate"].fillna(-1).is_monotonic_decreasing
    assert snap.highlights and str(num(kpis.loc["reported", "value"])) in snap.highlights[0]
    # colours and reasons are the warning engine's, for the same unit and period
    uw = wn.unit_warning(tiny_engine, Scope.all(), root, PERIOD, as_of=AS_OF)
    assert snap.own_warning["color"] == uw["color"] and snap.own_warning["reasons"] == uw["reasons"]
    kids = uw["children"]
    assert dict(zip(snap.geo["code"], snap.geo["color"])) == dict(zip(kids["code"], kids["color"]))
    red_orange = kids[kids["color"].isin(["red", "orange"])]
    assert sorted(snap.tables["warnings"].data["code"]) == sorted(red_orange["code"])


def test_snapshot_under_staff_scope_sees_only_its_subtree(tiny_engine):
    sub = _sub(tiny_engine, 1)
    who = reports.Exporter("staff", Scope(sub.code, 1), "科员")
    snap = reports.gather(tiny_engine, who, None, PERIOD.token, as_of=AS_OF)
    assert snap.unit.code == sub.code
    kids = un.children(tiny_engine, Scope.all(), sub)
    assert set(snap.tables["ranking"].data["code"]) == set(kids["code"])
    with pytest.raises(OutOfScopeError):
        reports.gather(tiny_engine, who, _root(tiny_engine).code, PERIOD.token, as_of=AS_OF)


def test_snapshot_shows_what_the_warning_engine_says(tiny_engine, monkeypatch, tmp_path):
    """Colours, reasons and counts come from the warning engine: map fill, red/orange list, ranking, PDF."""
    import reports.snapshot as snapshot_mod

    root = _root(tiny_engine)
    kids = un.children(tiny_engine, Scope.all(), root)
    colours = (["orange", "red", "blue", "yellow"] * 3)[: len(kids)]
    reasons = [[f"原因{i}甲", f"原因{i}乙"] for i in range(len(kids))]

    def fake_unit(engine, scope, unit, period, rules=None, as_of=None):
        assert unit.code == root.code and scope == Scope.all()
        kids_w = kids[["code", "name"]].assign(color=colours, color_label=[f"{c}级" for c in colours],
                                               reasons=reasons)
        return {"color": "red", "color_label": "红色", "reasons": ["本级原因"], "children": kids_w}

    monkeypatch.setattr(snapshot_mod.wn, "unit_warning", fake_unit)
    snap = build_snapshot(tiny_engine, Scope.all(), root, PERIOD, as_of=AS_OF)
    assert dict(zip(snap.geo["code"], snap.geo["color"])) == dict(zip(kids["code"], colours))
    assert snap.warning_counts == {c: colours.count(c) for c in ("red", "orange", "yellow", "blue", "none")}
    ro = snap.tables["warnings"].data
    assert list(ro["color"]) == sorted((c for c in colours if c in ("red", "orange")), key=["red", "orange"].index)
    expect = {code: "；".join(r) for code, r, c in zip(kids["code"], reasons, colours) if c in ("red", "orange")}
    assert dict(zip(ro["code"], ro["reasons_text"])) == expect
    rank = snap.tables["ranking"].data.set_index("code")
    assert all(rank.loc[code, "color"] == c for code, c in zip(kids["code"], colours))
    path = tmp_path / "w.pdf"
    path.write_bytes(render_pdf(snap))
    if POPPLER:
        text = _pdftotext(path).replace(" ", "")
        assert "本单位预警等级：红色预警" in text and "本级原因" in text
        for r in expect.values():
            assert r.split("；")[0] in text
    # the map page lists red/orange units even when the full list is not chosen
    only_map = build_snapshot(tiny_engine, Scope.all(), root, PERIOD, as_of=AS_OF, sections=("map",))
    path.write_bytes(render_pdf(only_map))
    if POPPLER:
        text = _pdftotext(path).replace(" ", "")
        assert "本期无红色、橙色预警单位" not in text
        assert all(r.split("；")[0] in text for r in expect.values())


def test_sections_limit_what_is_built(tiny_engine):
    snap = build_snapshot(tiny_engine, Scope.all(), _root(tiny_engine), PERIOD, sections=("kpis", "overdue"),
                          as_of=AS_OF)
    assert snap.sections == ("kpis", "overdue")
    assert "sanling" not in snap.tables and "trend" not in snap.tables and snap.geo is None
    pdf = render_pdf(snap)
    assert pdf.startswith(b"%PDF")
    wb = load_workbook(io.BytesIO(render_excel(snap)))
    assert wb.sheetnames == ["说明", "关键指标", "按来源办结", "超期未办结事件"]


def test_font_collection_index_is_simplified_chinese():
    """Face 2 of the bundled NotoSansCJK-Regular.ttc is the SC face (JP, KR, SC, TC, HK order)."""
    from fontTools.ttLib import TTFont

    from reports.charts import SC_COLLECTION_INDEX, font_path

    face = TTFont(str(font_path()), fontNumber=SC_COLLECTION_INDEX, lazy=True)
    assert face["name"].getDebugName(4) == "Noto Sans CJK SC"
    cmap = face.getBestCmap()
    assert all(ord(ch) in cmap for ch in "川汇区三零创建办结率街道社区预警")


# --- map and black-and-white reading -------------------------------------------------------------

def test_hatching_differs_per_level():
    """Every warning level prints differently without colour: cross, diagonal, horizontal, solid, vertical."""
    from shapely.geometry import Point, box

    sq = box(0, 0, 10, 10)
    segs = {c: static_map.hatch_segments(sq, c, 1.0) for c in static_map.LEVELS}
    assert segs["blue"] == []
    for c in ("red", "orange", "yellow", "none"):
        assert len(segs[c]) >= 4
        assert all(sq.buffer(1e-9).contains(Point(*pt)) for s in segs[c] for pt in s)

    def slopes(c):
        return {round(math.degrees(math.atan2(s[-1][1] - s[0][1], s[-1][0] - s[0][0])) % 180) for s in segs[c]}

    assert slopes("red") == {45, 135} and slopes("orange") == {45} and slopes("yellow") == {0}
    assert slopes("none") == {90}


def test_map_uses_screen_colours_and_is_never_blank(tiny_engine):
    gdf = un.geometries(tiny_engine, Scope.all(), parent=_root(tiny_engine))
    gdf["color"] = (["red", "orange", "yellow", "blue", "none"] * 3)[: len(gdf)]
    svg = static_map.warning_map(gdf).decode()
    for c in set(gdf["color"]):
        assert WARNING_COLORS[c].lower() in svg.lower()
    empty = static_map.warning_map(gdf.iloc[:0]).decode()
    assert "<path" in empty  # the '暂无地图数据' frame and text


# --- PDF, checked with poppler -------------------------------------------------------------------

def _pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _render_pages(path: Path, out: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


def _pixels(png: Path) -> np.ndarray:
    import matplotlib.image as mpimg

    return (mpimg.imread(png)[:, :, :3] * 255).astype(int)


def _check_pdf(path: Path, tmp: Path, expect_pages_min: int = 2) -> tuple[str, list[Path]]:
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [ln.split() for ln in fonts.splitlines()[2:] if ln.strip()]
    assert rows, fonts
    for r in rows:
        assert "NotoSansCJKSC" in r[0]
        assert r[-5:-2] == ["yes", "yes", "yes"], fonts  # emb, sub, uni
    pages = _render_pages(path, tmp)
    text = _pdftotext(path)
    assert len(pages) >= expect_pages_min and text.count("\f") >= len(pages) - 1
    for png in pages:
        px = _pixels(png)
        assert (px < 200).any(axis=2).mean() > 0.005, f"{png.name} looks blank"
    assert "\ufffd" not in text
    return text, pages


@needs_poppler
def test_pdf_shows_the_figures_data_access_returns(tiny_url, tmp_path):
    """pdftotext finds the unit name, 办结率 and the headline figures; every page renders, font embedded."""
    engine = get_engine(tiny_url)
    root = _root(engine)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (tofu) warns in matplotlib and fpdf2
        snap = build_snapshot(engine, Scope.all(), root, PERIOD, as_of=AS_OF, author="区委政法委领导（领导）")
        path = tmp_path / "snap.pdf"
        path.write_bytes(render_pdf(snap))
    text, pages = _check_pdf(path, tmp_path, expect_pages_min=5)
    flat = text.replace(" ", "")
    k = ev.event_kpis(engine, Scope.all(), root, PERIOD, as_of=AS_OF)
    for needle in (root.name, "办结率", "2026年9月", num(k["reported"]), num(k["closed"]), pct(k["closure_rate"]),
                   f"超期未办结{num(k['overdue_open'])}件", "区委政法委领导（领导）", "数据来源", "红色预警",
                   "第1页/共"):
        assert needle.replace(" ", "") in flat, needle
    for child in un.children(engine, Scope.all(), root)["name"]:
        assert child in flat
    # every page carries period, source and page number
    for page_text in text.split("\f")[: len(pages)]:
        assert "统计时段：2026年9月" in page_text.replace(" ", "") and "数据来源" in page_text
    # the map page has the four-colour fill (at least one level colour covers part of the page)
    map_page = next(i for i, t in enumerate(text.split("\f")) if "图例（颜色" in t)
    px = _pixels(pages[map_page])
    colours = {c: np.array([int(WARNING_COLORS[c][i:i + 2], 16) for i in (1, 3, 5)]) for c in WARNING_COLORS}
    hits = {c: (np.abs(px - rgb).sum(axis=2) < 30).mean() for c, rgb in colours.items()}
    assert max(hits.values()) > 0.02, hits


@needs_poppler
def test_pdf_for_a_leaf_unit_and_a_quarter(tiny_engine, tmp_path):
    with tiny_engine.connect() as conn:
        leaf = conn.execute(select(schema.units.c.code).where(schema.units.c.level == 4).limit(1)).scalar_one()
    unit = un.get_unit(tiny_engine, leaf)
    snap = build_snapshot(tiny_engine, Scope.all(), unit, parse_period("2026-Q3"), as_of=AS_OF)
    assert len(snap.geo) == 1 and snap.tables["ranking"].data.empty
    path = tmp_path / "leaf.pdf"
    path.write_bytes(render_pdf(snap))
    text, _ = _check_pdf(path, tmp_path)
    assert unit.name in text and "2026年第3季度" in text


# --- Excel ---------------------------------------------------------------------------------------

def test_excel_reads_back_equal_to_the_tables(tiny_engine):
    snap = build_snapshot(tiny_engine, Scope.all(), _root(tiny_engine), PERIOD, as_of=AS_OF)
    wb = load_workbook(io.BytesIO(render_excel(snap)))
    assert wb.sheetnames[0] == "说明"
    assert wb["说明"]["B4"].value == "2026年9月"
    for key, t in snap.tables.items():
        ws = wb[t.title]
        assert ws.freeze_panes == "A2"
        rows = list(ws.iter_rows(values_only=True))
        assert list(rows[0]) == [c.header for c in t.columns]
        assert len(rows) - 1 == len(t.data), key
        frame = t.frame()
        for got, exp in zip(rows[1:], frame.itertuples(index=False)):
            for g, e, col in zip(got, exp, t.columns):
                if e is None or (isinstance(e, float) and math.isnan(e)) or e is pd.NaT:
                    assert g is None, (key, col.header)
                elif isinstance(e, float):
                    assert g == pytest.approx(e), (key, col.header)
                elif isinstance(e, pd.Timestamp):
                    assert g == e.to_pydatetime().replace(microsecond=0), (key, col.header)
                elif isinstance(e, date) and not isinstance(e, datetime):
                    assert g.date() == e, (key, col.header)
                else:
                    assert g == e, (key, col.header)
        for j, col in enumerate(t.columns, start=1):
            if col.kind == "pct" and ws.max_row > 1:
                cells = [ws.cell(r, j) for r in range(2, ws.max_row + 1) if ws.cell(r, j).value is not None]
                assert all(c.number_format == "0.0%" for c in cells), (key, col.header)


# --- CLI, audit, page ----------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports", *args], capture_output=True, text=True, cwd=ROOT,
                          check=False)


@needs_poppler
def test_cli_pdf_and_excel_are_audited(sqlite_tiny, tmp_path):
    engine = get_engine(sqlite_tiny)
    with engine.connect() as conn:
        before = conn.execute(select(func.max(schema.audit_log.c.id))).scalar() or 0
    out = _cli("pdf", "--db", sqlite_tiny, "--period", "2026-09", "--out", str(tmp_path / "a.pdf"))
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["unit_name"] == _root(engine).name and (tmp_path / "a.pdf").stat().st_size > 10_000
    sub = _sub(engine, 0)
    out = _cli("excel", "--db", sqlite_tiny, "--period", "2026-09", "--user", "staff", "--out",
               str(tmp_path / "b.xlsx"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])["unit"] == sub.code  # staff's home unit
    with engine.connect() as conn:
        rows = conn.execute(select(schema.audit_log).where(schema.audit_log.c.id > before)
                            .order_by(schema.audit_log.c.id)).mappings().all()
    me = f"{getpass.getuser()}@cli"  # who ran the command, not the account whose scope it used
    assert [(r["username"], r["action"], json.loads(r["detail"])["format"]) for r in rows] == [
        (me, "export", "pdf"), (f"{me} as staff", "export", "excel")]
    assert json.loads(rows[1]["detail"])["unit"] == sub.code


def test_cli_refuses_out_of_scope_and_bad_input(sqlite_tiny, tmp_path):
    root = _root(get_engine(sqlite_tiny))
    cases = [("--user", "staff", "--unit", root.code), ("--unit", "nope'--"), ("--period", "2026-13"),
             ("--user", "nobody")]
    for extra in cases:
        args = ["pdf", "--db", sqlite_tiny, "--out", str(tmp_path / "x.pdf")]
        if "--period" not in extra:
            args += ["--period", "2026-09"]
        out = _cli(*args, *extra)
        assert out.returncode == 2, (extra, out.stderr)
        assert "error" in out.stderr and not (tmp_path / "x.pdf").exists()


def test_report_page_generates_a_download(district_url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", district_url)
    monkeypatch.chdir(ROOT)
    from .conftest import login_state

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in login_state(district_url, "leader").items():
        at.session_state[k] = v
    at.switch_page("pages/report.py")
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="report_period").set_value("2026-09")
    at.multiselect(key="report_sections").set_value(["kpis", "ranking"])
    at.button(key="report_make_excel").click().run()
    assert not at.exception, at.exception
    assert at.success and "2026年9月" in at.success[0].value
    assert at.get("download_button"), "a download button is offered"
