"""Browser: 我的指标 and 网格地图 on a phone (390×844) — tiles stack, nothing scrolls sideways, the to-do
list is cards, each opening its place on the map."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from data_access import alerts
from data_access.db.engine import get_engine

from .conftest import ARTIFACTS, serve_app, session_cookie
from .test_browser import wait_rendered

pytestmark = pytest.mark.browser

PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1")
NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def phone_app(sqlite_tiny, tmp_path_factory):
    """The app on a private copy of the tiny demo with open alerts; yields (base URL, database URL)."""
    path = tmp_path_factory.mktemp("phone") / "tiny.db"
    src, dst = sqlite3.connect(sqlite_tiny.removeprefix("sqlite:///")), sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{path}"
    alerts.evaluate(get_engine(url), as_of=datetime(2026, 10, 20, 9))
    with serve_app(url, path.parent / "streamlit.log") as base:
        yield base, url


def _phone(browser, base, url, path):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", user_agent=PHONE_UA,
                              is_mobile=True, has_touch=True)
    ctx.add_cookies([session_cookie(url, base, "staff")])
    page = ctx.new_page()
    page.goto(base + path)
    return ctx, page


def test_my_page_on_a_phone(browser, phone_app):
    base, url = phone_app
    ctx, page = _phone(browser, base, url, "/my?period=2026-10")
    try:
        wait_rendered(page, selector='[data-testid="todo-overdue"] a')
        page.wait_for_timeout(1500)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.evaluate(NO_SIDEWAYS), page.evaluate("document.documentElement.scrollWidth")
        boxes = [page.locator(f'[data-kpi="{k}"]').bounding_box() for k in ("reported", "closure_rate", "rank",
                                                                          "overdue_open")]
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes)
        assert len({round(b["y"]) for b in boxes}) >= 2  # stacked: not four in one row
        assert min(b["width"] for b in boxes) >= 150  # wide enough to read
        assert page.locator('[data-testid="alerts"]').count() == 1  # staff's own unit has an open alert
        cards = page.locator('[data-testid="todo-overdue"] a')
        assert cards.count() > 0
        first = cards.first
        href = first.get_attribute("href")
        assert href.startswith("/map?unit=") and "period=2026-10" in href
        font = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                             "'[data-testid=\"todo-overdue\"] a div')).fontSize)")
        assert font >= 14
        card_box = first.bounding_box()
        assert card_box["x"] + card_box["width"] <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "my_phone_390.png"))
        first.click()  # opens its place on the map
        page.wait_for_url("**/map?unit=*", timeout=30_000)
        wait_rendered(page, selector='[data-testid="unit-card"]')
        wait_rendered(page, selector="canvas")
        page.wait_for_timeout(2000)
        code = href.split("unit=")[1].split("&")[0]
        assert f"unit={code}" in page.url
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.evaluate(NO_SIDEWAYS)
        canvas = page.locator("canvas").first.bounding_box()
        assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= 390
        page.screenshot(path=str(ARTIFACTS / "map_phone_390.png"))
    finally:
        ctx.close()


def test_map_page_on_a_phone(browser, phone_app):
    base, url = phone_app
    ctx, page = _phone(browser, base, url, "/map?period=2026-10")
    try:
        wait_rendered(page, selector='[data-testid="unit-card"]')
        wait_rendered(page, selector="canvas")
        page.wait_for_timeout(2000)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.evaluate(NO_SIDEWAYS)
        card = page.locator('[data-testid="unit-card"]').first.bounding_box()
        assert card["x"] >= 0 and card["x"] + card["width"] <= 390
    finally:
        ctx.close()
