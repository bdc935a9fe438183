"""Tests for freshness per source: thresholds from config, the wall's line (a stopped source named),
and the 数据管理 data-health view of the feeds."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from components.data_health import health_table, source_table
from components.header import ago, source_line
from data_access.db.engine import get_engine
from data_access.db.schema import units
from data_access.demo import build_demo
from data_access.filters import Scope
from data_access.ingest import ingest_records, note_failure
from data_access.queries.freshness import feed_health, feed_hourly, source_freshness, thresholds
from data_access.queries.units import home_unit

from .conftest import ROOT, TEST_UNTIL, login_state

NOW = datetime(2027, 2, 10, 9, 0)


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    u = f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'fresh.db'}"
    build_demo(u, scale="tiny", seed=13, until=TEST_UNTIL, log=lambda m: None)
    eng = get_engine(u)
    with eng.connect() as conn:
        leaf = conn.execute(select(units.c.code).where(units.c.level == 4)).scalar()

    def ev(i, source, minutes_ago):
        at = NOW - timedelta(minutes=minutes_ago)
        return {"id": f"FR-{i}", "grid_code": leaf, "category": "环境卫生", "source": source, "status": "已受理",
                "reported_at": f"{at:%Y-%m-%d %H:%M}", "deadline": f"{at + timedelta(days=2):%Y-%m-%d %H:%M}",
                "title": "<b>x</b>"}

    ingest_records(eng, [ev(1, "网格员", 1), ev(2, "12345", 45), ev(3, "视频监控", 600)], feed="grid-app",
                   actor="grid-app", now=NOW)
    note_failure(eng, "hotline-front", "sync", "OperationalError: (2003) Can't connect", NOW - timedelta(minutes=5))
    return u


def test_thresholds_per_source(url, tmp_path, monkeypatch):
    t = thresholds()
    assert t["grid"] == {"amber_min": 30, "red_min": 120} and t["petition"]["red_min"] == 1440
    eng = get_engine(url)
    df = source_freshness(eng, Scope.all(), home_unit(eng, Scope.all()), as_of=NOW).set_index("code")
    assert df.loc["grid", "level"] == "ok" and df.loc["grid", "age_min"] == pytest.approx(1)
    assert df.loc["hotline", "level"] == "amber"  # 45 min: past hotline's 30
    assert df.loc["video", "level"] == "red" and df.loc["video", "stopped"]
    # the thresholds are the config's: a stricter file turns the grid amber
    cfg = tmp_path / "f.toml"
    cfg.write_text("[default]\namber_min = 60\nred_min = 240\n[source.grid]\namber_min = 0.5\nred_min = 100\n")
    monkeypatch.setenv("FRESHNESS_FILE", str(cfg))
    df = source_freshness(eng, Scope.all(), home_unit(eng, Scope.all()), as_of=NOW).set_index("code")
    assert df.loc["grid", "level"] == "amber" and df.loc["hotline", "level"] == "ok"


def test_wall_line_names_each_source_and_the_stopped_one(url):
    eng = get_engine(url)
    html = source_line(source_freshness(eng, Scope.all(), home_unit(eng, Scope.all()), as_of=NOW))
    assert "网格员上报 1 分钟前" in html and "12345热线 45 分钟前" in html
    assert "已停止（最近一条" in html and 'data-testid="fresh-video">视频巡查</span>' in html  # (信访 stopped too)
    assert 'class="fresh-ok" data-testid="fresh-grid"' in html
    assert 'class="fresh-amber" data-testid="fresh-hotline"' in html
    assert 'class="fresh-red" data-testid="fresh-video"' in html
    assert "其他来源" not in html  # never delivered anything: not "stopped"
    assert ago(0.2) == "刚刚" and ago(125) == "2 小时前" and ago(3 * 1440) == "3 天前"


def test_data_health_lists_every_source_in_its_state(url):
    """数据管理 shows each event source as the wall does: fresh, amber, stopped, never delivered."""
    eng = get_engine(url)
    src = source_freshness(eng, Scope.all(), home_unit(eng, Scope.all()), as_of=NOW)
    table = source_table(src).set_index("来源")
    assert len(table) == len(src)
    assert table.loc["网格员上报", "状态"] == "正常" and table.loc["网格员上报", "距今"] == "1 分钟前"
    assert table.loc["12345热线", "状态"] == "偏旧"
    assert table.loc["视频巡查", "状态"] == "已停止"
    assert table.loc["视频巡查", "最新事件"] == "2027-02-09 23:00"  # NOW - 600 min
    assert table.loc["其他来源", "状态"] == "无数据" and table.loc["其他来源", "最新事件"] == "—"


def test_several_stopped_sources_are_one_group_on_the_wall(url):
    """A wall whose sources all stopped (a night, a network cut) reads one red group, not a line per source
    that runs off the screen; each name keeps its colour and test id, names are escaped."""
    import pandas as pd

    rows = pd.DataFrame({"code": ["grid", "app", "video"], "label": ["网格员上报", "群众APP", "<b>视频</b>"],
                         "latest": [NOW - timedelta(days=3)] * 3, "age_min": [3 * 1440, 4 * 1440, 5 * 1440],
                         "level": ["red"] * 3, "stopped": [True] * 3})
    html = source_line(rows)
    shown = html.split(">", 1)[1]  # what the line shows (its title attribute repeats it as plain text)
    assert "已停止（最近一条 3 天前）：" in shown and shown.count("已停止") == 1
    assert 'data-testid="fresh-app">群众APP</span>' in html and "&lt;b&gt;视频&lt;/b&gt;" in html
    assert "<b>" not in html
    # beside live sources the stopped group comes first, on one line that never wraps
    live = pd.DataFrame({"code": ["hotline"], "label": ["12345热线"], "latest": [NOW], "age_min": [3],
                         "level": ["ok"], "stopped": [False]})
    line = source_line(pd.concat([live, rows], ignore_index=True))
    assert line.index("已停止（") < line.index('data-testid="fresh-hotline"') and "white-space:nowrap" in line


def test_feed_health_and_hourly(url):
    eng = get_engine(url)
    feeds = feed_health(eng, as_of=NOW).set_index("name")
    assert feeds.loc["grid-app", "imported"] == 3 and not feeds.loc["grid-app", "failing"]
    assert feeds.loc["grid-app", "lag_s"] == pytest.approx(60)
    assert feeds.loc["hotline-front", "failing"] and "connect" in feeds.loc["hotline-front", "last_error"]
    table = health_table(feeds.reset_index())
    assert list(table["状态"]) == ["正常", "⚠ 出错"] and table["延迟"].iloc[0] == "1 分钟"
    hourly = feed_hourly(eng, as_of=NOW)
    assert hourly.loc[hourly["feed"] == "grid-app", "imported"].sum() == 3
    assert hourly.loc[hourly["feed"] == "hotline-front", "errors"].sum() == 1


def _app(url, monkeypatch, page, user):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in login_state(url, user).items():
        at.session_state[k] = v
    at.switch_page(f"pages/{page}.py")
    return at.run()


def test_wall_and_data_page_show_it(url, monkeypatch):
    at = _app(url, monkeypatch, "overview", "leader")
    assert not at.exception, at.exception
    body = "\n".join(str(h.proto.body) for h in at.get("html"))
    assert 'data-testid="source-freshness"' in body and "网格员上报" in body and "已停止" in body
    at = _app(url, monkeypatch, "data", "admin")
    assert not at.exception, at.exception
    assert "数据健康" in [s.value for s in at.subheader]
    shown = at.dataframe[[d.value.columns.tolist()[:2] for d in at.dataframe].index(["状态", "数据源"])].value
    assert set(shown["数据源"]) == {"grid-app", "hotline-front"}
