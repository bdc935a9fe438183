"""Tests for pages during a database outage: every page shows the 等待数据连接 screen (or a clear
Chinese message), never an exception."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import ROOT, login_state
from .test_pages import PAGES, _html

# A port in this worktree's range that nothing listens on: connection refused at once.
UNREACHABLE = "postgresql://postgres@127.0.0.1:8628/away"


@pytest.fixture
def down_app(sqlite_tiny, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DB_CONNECT_TIMEOUT_S", "2")

    def make(page: str, user: str) -> AppTest:
        state = login_state(sqlite_tiny, user)  # logged in while the database was up
        monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for k, v in state.items():
            at.session_state[k] = v
        at.switch_page(f"pages/{page}.py")
        return at.run()

    return make


@pytest.mark.parametrize("page", PAGES)
def test_page_waits_for_the_database(down_app, page):
    at = down_app(page, {"my": "staff", "data": "admin"}.get(page, "leader"))
    assert not at.exception, [e.value for e in at.exception]
    assert 'data-testid="db-waiting"' in _html(at) and "等待数据连接" in _html(at), page
