"""Tests for the metric catalogue: every metric shows the same value on every surface.

For the same unit and period — a month, a quarter, the month running at the frozen clock and a
custom range — on SQLite and PostgreSQL: the catalogue's own function, the wall's tiles
(``components.wall_tiles`` over ``load_overview``), the pages (我的指标 lists the whole catalogue;
巡逻防控 and 三零创建 show tiles of it; run with AppTest), the PDF snapshot (its 关键指标 table,
and the printed PDF read back with pdftotext) and the Excel workbook (openpyxl). Each period builds the PDF once.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from datetime import date

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from components.overview_data import WALL, load_overview
from components.wall_tiles import build_tiles
from data_access import get_engine
from data_access.db import schema
from data_access.filters import Scope, parse_period
from data_access.queries import catalogue, patrol, sanling, todo
from data_access.queries import units as un
from data_access.queries import warnings as wn
from data_access.queries.targets import target_values
from reports.excel import render_excel
from reports.pdf import render_pdf
from reports.snapshot import build_snapshot

from .conftest import FROZEN_NOW, ROOT, login_state

# a month, a quarter, the month running at the frozen clock (2027-02-10), a custom range across months
PERIODS = ["2026-09", "2026-Q3", "2027-02", "2026-08-05..2026-09-20"]
AS_OF = FROZEN_NOW.replace(second=0, microsecond=0)


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _same(a, b) -> bool:
    return (_nan(a) and _nan(b)) or (not _nan(a) and not _nan(b) and a == pytest.approx(b))


def _page(url: str, page: str, period: str, monkeypatch) -> AppTest:
    """``page`` as the demo's staff user (a subdistrict's office) sees it for ``period``."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in login_state(url, "staff").items():
        at.session_state[k] = v
    at.switch_page(f"pages/{page}.py")
    at.query_params["period"] = period
    at.run()
    assert not at.exception, at.exception
    return at


def _tiles(at: AppTest) -> dict[str, str]:
    """data-kpi → shown value of every KPI tile the page drew."""
    import re

    body = "\n".join(str(h.proto.body) for h in at.get("html"))
    return {k: v for k, v in re.findall(r'data-kpi="([^"]+)".*?<div class="kpi-value">([^<]*)', body)}


def _pdf_rows(pdf: bytes, tmp_path) -> dict[str, str]:
    """Label → first printed value of each row of the PDF's 关键指标 table (pdftotext -layout)."""
    path = tmp_path / "snap.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    page = text[text.index("是否达标"):]
    rows = {}
    for line in page.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] not in rows:
            rows[parts[0]] = parts[1]
    return rows


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed")
@pytest.mark.parametrize("token", PERIODS)
def test_every_metric_is_the_same_on_every_surface(tiny_url, token, monkeypatch, tmp_path):
    """The wall, the pages, the PDF (data and print) and the workbook show the catalogue's value, for a
    subdistrict as its own staff see it."""
    engine = get_engine(tiny_url)
    scope, period = login_state(tiny_url, "staff")["scope"], parse_period(token)
    unit = un.home_unit(engine, scope)
    assert unit.level == 1 and not scope.is_all
    want = catalogue.metric_values(engine, scope, unit, period, as_of=AS_OF)
    assert set(want) == set(catalogue.BY_KEY)
    if period.end <= date(2026, 11, 1):  # periods with data: figures that cannot all be empty
        assert want["reported"] > 0 and want["patrols"] > 0 and not _nan(want["village_compliance"])
    bad = []

    # the wall: the tiles the overview page draws, and the tiles its builder returns
    tiles = _tiles(_page(tiny_url, "overview", token, monkeypatch))
    built = {t.key: t.value for t in build_tiles(load_overview(scope, unit, period, AS_OF), target_values(engine))}
    assert built == tiles
    for key in WALL:
        m = catalogue.metric(key)
        if tiles[m.tile_key] != m.format(want[key]):
            bad.append(("wall", key, tiles[m.tile_key], m.format(want[key])))

    # the pages: 我的指标 lists the whole catalogue; 巡逻防控 and 三零创建 have tiles of theirs
    at = _page(tiny_url, "my", token, monkeypatch)
    table = next(df.value for df in at.dataframe if "口径" in df.value.columns).set_index("指标")
    page_tiles = _tiles(at)
    for other in ("patrol", "sanling"):
        page_tiles |= _tiles(_page(tiny_url, other, token, monkeypatch))
    for m in catalogue.METRICS:
        if table.loc[m.label, "本期"] != m.format(want[m.key]):
            bad.append(("我的指标", m.key, table.loc[m.label, "本期"], m.format(want[m.key])))
        if m.tile_key in page_tiles and page_tiles[m.tile_key] != m.format(want[m.key]):
            bad.append(("page tile", m.key, page_tiles[m.tile_key], m.format(want[m.key])))
    assert {"reported", "closure_rate", "overdue_open", "patrol_coverage", "double_patrol", "village_rate",
            "enterprise_rate"} <= set(page_tiles)

    # the PDF snapshot's data, the printed PDF and the workbook (one snapshot for all metrics)
    snap = build_snapshot(engine, scope, unit, period, as_of=AS_OF, sections=("kpis",))
    kpis = snap.tables["kpis"].data.set_index("key")
    printed = _pdf_rows(render_pdf(snap), tmp_path)
    ws = load_workbook(io.BytesIO(render_excel(snap)))["关键指标"]
    sheet = {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)}
    for m in catalogue.METRICS:
        label = m.label if m.is_rate else f"{m.label}（{m.unit}）"
        if not _same(kpis.loc[m.key, "value"], want[m.key]):
            bad.append(("snapshot", m.key, kpis.loc[m.key, "value"], want[m.key]))
        if printed.get(label) != m.format(want[m.key]):
            bad.append(("pdf", m.key, printed.get(label), m.format(want[m.key])))
        if not _same(sheet.get(label), want[m.key]):
            bad.append(("excel", m.key, sheet.get(label), want[m.key]))
    assert not bad, bad


def _judged(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        j = pd.DataFrame(conn.execute(select(schema.sanling_judgements)).mappings().all())
        s = pd.DataFrame(conn.execute(select(schema.sanling_subjects)).mappings().all())
    df = j.merge(s, left_on="subject_id", right_on="id")
    df["month"] = pd.to_datetime(df["month"]).dt.date
    return df


@pytest.mark.parametrize("token", ["2026-Q3", "2027-02", "2026-08-05..2026-09-20"])
def test_sanling_compliance_reads_the_latest_judged_month(tiny_url, token):
    """三零 compliance counts each subject once, in the latest month judged before the period ends —
    the same month for the tiles, the warning engine and the to-do list."""
    engine = get_engine(tiny_url)
    scope, period = Scope.all(), parse_period(token)
    unit = un.home_unit(engine, scope)
    raw = _judged(engine)
    month = max(m for m in raw["month"] if m < period.end)
    rows = raw[raw["month"] == month]
    got = sanling.sanling_compliance(engine, scope, unit, period)
    assert got["month"] == f"{month:%Y-%m}"
    for kind in ("village", "enterprise"):
        part = rows[rows["kind"] == kind]
        assert got[f"{kind}_subjects"] == len(part) == (raw[raw["month"] == month]["kind"] == kind).sum()
        assert got[f"{kind}_rate"] == pytest.approx(part["compliant"].astype(bool).mean())
    # the warning engine and the to-do list read the same month
    kids = wn.unit_metrics(engine, scope, unit, period, as_of=AS_OF)
    assert kids["subjects"].sum() == len(rows)
    assert kids["broken_zeros"].sum() == (~rows["compliant"].astype(bool)).sum()
    bad = todo.noncompliant_subjects(engine, scope, unit, period)
    assert len(bad) == (~rows["compliant"].astype(bool)).sum()
    assert {f"{pd.Timestamp(m):%Y-%m}" for m in bad["month"]} <= {got["month"]}


def test_patrol_coverage_is_one_function_at_every_level(tiny_url):
    """The unit's coverage, its children's and the uncovered-cell list are one count of cells."""
    engine = get_engine(tiny_url)
    # a working district patrols every cell in a month: a Sunday leaves some cells unvisited to count
    scope, period = Scope.all(), parse_period("2026-09-06..2026-09-06")
    unit = un.home_unit(engine, scope)
    own = patrol.patrol_coverage(engine, scope, unit, period)
    kids = patrol.coverage_by_child(engine, scope, unit, period)
    assert own["cells"] == kids["cells"].sum() and own["covered"] == kids["covered_cells"].sum()
    assert 0 < own["covered"] < own["cells"]
    assert len(todo.uncovered_cells(engine, scope, unit, period, limit=100_000)) == own["cells"] - own["covered"]
    with engine.connect() as conn:
        visited = conn.execute(select(func.count(schema.patrol_visits.c.unit_code.distinct())).where(
            schema.patrol_visits.c.visited_on >= period.start, schema.patrol_visits.c.visited_on < period.end)
        ).scalar_one()
    assert own["covered"] == visited


def test_catalogue_entries_are_complete():
    """Every metric has a label, a unit, a one-sentence definition, a scoped function and a real target."""
    known_targets = {"closure_rate", "closure_rate_grid", "closure_rate_app", "closure_rate_key",
                     "village_compliance", "enterprise_compliance", "camera_online", "patrol_coverage",
                     "mediation_success"}
    assert len(catalogue.BY_KEY) == len(catalogue.METRICS)
    for m in catalogue.METRICS:
        assert m.label and m.unit and m.definition.endswith("。") and m.definition.count("。") == 1, m.key
        assert m.target is None or m.target in known_targets, m.key
        assert m.takes_period or m.key == "camera_online", m.key
    with pytest.raises(KeyError, match="unknown metric"):
        catalogue.metric("nope")
    assert catalogue.metric("closure_rate").format(0.95678) == "95.7%"
    assert catalogue.metric("reported").format(12345.0) == "12,345"
    assert catalogue.metric("reported").format(float("nan")) == "—"


def test_wall_tiles_are_catalogue_metrics():
    """The wall shows twelve catalogue metrics, under the data-kpi names the browser tests read."""
    assert len(WALL) == 12 and set(WALL) <= set(catalogue.BY_KEY)
    assert [catalogue.metric(k).tile_key for k in WALL] == [
        "reported", "closed", "closure_rate", "overdue", "village_rate", "enterprise_rate", "petitions",
        "criminal_cases", "mediation_settled", "camera_online", "patrol_coverage", "key_whistle"]



def test_ranking_warnings_and_pdf_children_use_the_same_definitions(tiny_url):
    """Per child of the district: the ranking, the warning engine and the PDF's ranking table show the
    child's own 三零 compliance and patrol coverage, as the tiles compute them for that child."""
    from data_access.queries import ranking

    engine = get_engine(tiny_url)
    scope, period = Scope.all(), parse_period("2026-Q3")
    unit = un.home_unit(engine, scope)
    rank = ranking.ranking(engine, scope, unit, period, as_of=AS_OF).set_index("code")
    warn = wn.unit_metrics(engine, scope, unit, period, as_of=AS_OF).set_index("code")
    pdf = build_snapshot(engine, scope, unit, period, as_of=AS_OF, sections=("ranking",)).tables["ranking"]
    pdf = pdf.data.set_index("code")
    assert len(rank) == len(warn) == len(pdf) > 1
    for code in rank.index:
        child = un.get_unit(engine, code)
        s = sanling.sanling_compliance(engine, scope, child, period)
        judged = s["village_subjects"] + s["enterprise_subjects"]
        rate = (s["village_compliant"] + s["enterprise_compliant"]) / judged
        cov = patrol.patrol_coverage(engine, scope, child, period)["coverage"]
        assert warn.loc[code, "subjects"] == judged == pdf.loc[code, "judged"]
        assert rank.loc[code, "compliance"] == pytest.approx(rate) == pdf.loc[code, "compliance_rate"]
        assert rank.loc[code, "patrol_coverage"] == pytest.approx(cov) == pdf.loc[code, "coverage"]
