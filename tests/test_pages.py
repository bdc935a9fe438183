"""AppTest smoke tests: every page runs without an exception, with good and bad URL parameters."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from .apptest_nav import TITLES, html_of, shown_text
from .conftest import ROOT, login_state

PAGES = ["overview", "map", "my", "events", "sanling", "patrol", "mediation", "ranking", "report", "data"]


@pytest.fixture
def app(district_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", district_url)
    monkeypatch.chdir(ROOT)

    def make(page: str = "overview", user: str = "leader", **params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for k, v in login_state(district_url, user).items():
            at.session_state[k] = v
        at.switch_page(f"pages/{page}.py")
        for k, v in params.items():
            at.query_params[k] = v
        return at.run()

    return make


_html = html_of  # (other test modules import it under this name)




@pytest.mark.parametrize("page", PAGES)
def test_page_runs(app, page):
    """Every page runs without an exception — and it is that page that ran, not the home page."""
    at = app(page, user={"my": "staff", "data": "admin"}.get(page, "leader"))
    assert not at.exception, at.exception
    assert TITLES[page] in shown_text(at), f"{page}: another page was drawn"


def test_overview_tiles_show_numbers(app):
    at = app("overview", period="2026-09")
    body = _html(at)
    for key in ("reported", "closed", "closure_rate", "overdue"):
        assert f'data-kpi="{key}"' in body
    assert "2026年9月" in body
    assert "—" not in body.split('data-kpi="reported"')[1][:200]


@pytest.mark.parametrize("params", [{"unit": "nope'--"}, {"unit": "999"}, {"period": "2026-13"},
                                    {"period": "'; DROP TABLE events;--"}])
def test_bad_params_warn_not_crash(app, params):
    at = app("overview", **params)
    assert not at.exception
    assert at.warning, "a clear message is shown"


def test_todo_headings_count_every_event_not_the_listed_ones(app, district_url):
    """事件办结's deadline lists show the 200 most urgent events; their headings count all of them."""
    from datetime import datetime

    from common.fmt import num
    from data_access.db.engine import get_engine
    from data_access.filters import Scope
    from data_access.queries import todo
    from data_access.queries.units import home_unit

    at = app("events")
    assert not at.exception, at.exception
    eng = get_engine(district_url)
    as_of = datetime.now().replace(second=0, microsecond=0)  # the page's "now" (the suite's frozen clock)
    counts = todo.todo_counts(eng, Scope.all(), home_unit(eng, Scope.all()), as_of=as_of)
    assert counts["overdue_open"] > 200  # the district demo: more than the list shows
    text = shown_text(at)
    heading = f"超期未办结 {num(counts['overdue_open'])} 件（按超期工作日排序，列出超期最久的 200 件）"
    assert heading in text, text[-800:]
    assert f"即将超期 {num(counts['due_soon'])} 件" in text
