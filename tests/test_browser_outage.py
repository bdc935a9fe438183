"""Browser + PostgreSQL: the kiosk wall rides out a database outage and recovers by itself.

The outages are real. Refused and terminated: the scratch database stops accepting connections
and every server connection to it is terminated (what a PostgreSQL restart or a dropped network
link does to the app). Stalled: the app talks to PostgreSQL through a TCP proxy that can switch
to accepting connections and bytes without ever forwarding them (a hung server, a black-holed
link), so without timeouts every query waits forever. Timeouts and the refresh are shortened
through the environment to keep these tests quick.
"""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import make_url, text

from data_access.demo import build_demo

from .conftest import ARTIFACTS, TEST_UNTIL, _pg_admin_engine, display_token, serve_app
from .stall_proxy import stall_proxy
from .test_browser import TILES, open_page, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
STALE = "数据连接中断"
WAITING = "等待数据连接"
REFRESH_S = 5
TIMEOUT_S = 2  # connect and statement timeout (psycopg's minimum connect timeout is 2 s)
FAST = {"LIVE_TTL_S": "1", "CACHE_TTL_S": "1", "DB_CONNECT_TIMEOUT_S": str(TIMEOUT_S),
        "DB_STATEMENT_TIMEOUT_S": str(TIMEOUT_S), "DB_POOL_TIMEOUT_S": str(TIMEOUT_S), "DB_RETRY_S": "3"}
# Counts the wall's refreshes (a fragment run marks its elements data-stale until it has redrawn
# them) and how many had completed when the stale marker first appeared. Counting refreshes
# rather than seconds keeps the check exact on a machine busy enough to slow the browser.
_COUNT_REFRESHES = """() => {
  window.__runs = 0; window.__runsAtMarker = null;
  let running = false;
  new MutationObserver(() => {
    const now = !!document.querySelector('[data-stale="true"]');
    if (running && !now) window.__runs++;
    running = now;
    if (window.__runsAtMarker === null && document.querySelector('[data-testid="stale"]'))
      window.__runsAtMarker = window.__runs;
  }).observe(document.body, {attributes: true, attributeFilter: ["data-stale"], childList: true, subtree: true});
}"""
# Records whether Streamlit's exception element ever appeared, even for a moment.
_WATCH_EXCEPTIONS = """
window.__sawException = false;
new MutationObserver(() => {
  if (document.querySelector('[data-testid="stException"]')) window.__sawException = true;
}).observe(document, {childList: true, subtree: true});
"""


@pytest.fixture(scope="module")
def pg_demo(pg_scratch) -> str:
    """A tiny demo on a scratch PostgreSQL database, shared by this module's tests."""
    url = pg_scratch()
    build_demo(url, scale="tiny", seed=7, until=TEST_UNTIL, log=lambda m: None)
    return url


def _allow_connections(db: str, allow: bool) -> None:
    with _pg_admin_engine().connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS {"true" if allow else "false"}'))
        if not allow:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": db})


def _tiles(page) -> dict[str, str]:
    return {k: page.locator(f'[data-kpi="{k}"] .kpi-value').inner_text() for k in TILES}


def _watch_dimming(page, seconds: float) -> int:
    """Watch ``seconds``: assert Streamlit never dims the screen while a refresh waits; returns how
    many samples caught a refresh running (elements marked stale)."""
    running = 0
    for _ in range(int(seconds * 4)):
        opacities = page.evaluate("""() => [...document.querySelectorAll('[data-stale="true"]')]
                                     .map(e => Number(getComputedStyle(e).opacity))""")
        assert all(o > 0.99 for o in opacities), f"the screen dims while a refresh waits: {opacities[:5]}"
        running += bool(opacities)
        page.wait_for_timeout(250)
    return running


def _wall_url(base: str, db_url: str) -> str:
    return f"{base}/?kiosk=1&refresh={REFRESH_S}&period=2026-09&token={display_token(db_url)}"


def _wait_wall(page) -> dict[str, str]:
    page.set_default_timeout(90_000)  # on a loaded machine the page can stay busy for a while
    wait_rendered(page, selector="[data-gauge]", count=4)
    wait_rendered(page, selector='[data-testid="wall-map"]')
    tiles = _tiles(page)
    assert all(v.strip() not in ("", "—") for v in tiles.values()), tiles
    return tiles


def test_wall_survives_a_database_outage(browser, pg_demo, tmp_path):
    url = pg_demo
    db = make_url(url).database
    # Caches expire within a second, so every refresh during the outage really goes to the database.
    with serve_app(url, tmp_path / "st.log", LIVE_TTL_S="1", CACHE_TTL_S="1") as base:
        ctx, page, outside = open_page(browser, _wall_url(base, url))
        try:
            before = _wait_wall(page)
            page.evaluate("window.__marker = 42")

            _allow_connections(db, False)
            page.wait_for_function(f"() => document.body.innerText.includes('{STALE}')", timeout=60_000)
            page.wait_for_timeout(7_000)  # at least one more refresh while the database is still away
            box = page.locator('[data-testid="stale"]').bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1920, f"stale marker cut off: {box}"
            assert page.locator('[data-testid="stException"]').count() == 0
            assert _tiles(page) == before, "the last good figures stay on screen"
            assert page.locator('[data-testid="wall-map"] a').count() > 0, "the last map stays"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "wall_db_outage_1920.png"))

            _allow_connections(db, True)
            page.wait_for_function(f"() => !document.body.innerText.includes('{STALE}')", timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert _tiles(page) == before
            assert page.evaluate("window.__marker") == 42, "recovered in place, without a reload"
            assert outside == [], f"requests left localhost: {outside[:5]}"
        finally:
            _allow_connections(db, True)
            ctx.close()


def test_wall_marks_a_stalled_database_within_one_refresh(browser, pg_demo, tmp_path):
    """PostgreSQL up but not answering: the stale marker within one refresh plus the timeouts."""
    with stall_proxy(pg_demo) as proxy, serve_app(proxy.url(pg_demo), tmp_path / "st.log", **FAST) as base:
        ctx, page, outside = open_page(browser, _wall_url(base, pg_demo))
        try:
            before = _wait_wall(page)
            page.evaluate("window.__marker = 42")

            page.evaluate(_COUNT_REFRESHES)
            proxy.stall()
            t0 = time.monotonic()
            page.wait_for_function(f"() => document.body.innerText.includes('{STALE}')", timeout=60_000)
            took = time.monotonic() - t0
            # The refresh running when the stall began may still finish without the marker; the
            # next one waits for the timeouts (not for ever) and shows it.
            runs = page.evaluate("window.__runsAtMarker")
            assert runs is not None and runs <= 1, f"the marker came only after {runs} refreshes"
            marker = page.locator('[data-testid="stale"]').inner_text()
            assert re.search(r"数据连接中断 · 显示 \d\d:\d\d 的数据", marker), marker
            # The next refresh, still stalled: it waits for the timeouts without dimming the wall.
            assert _watch_dimming(page, REFRESH_S + 2 * TIMEOUT_S) > 0, "no refresh ran while watching"
            assert page.locator('[data-testid="stale"]').count() == 1
            assert page.locator('[data-testid="stException"]').count() == 0
            assert _tiles(page) == before, "the last good figures stay on screen"
            assert page.locator('[data-testid="wall-map"] a').count() > 0, "the last map stays"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "wall_db_stalled_1920.png"))

            proxy.forward()
            page.wait_for_function(f"() => !document.body.innerText.includes('{STALE}')", timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert _tiles(page) == before
            assert page.evaluate("window.__marker") == 42, "recovered in place, without a reload"
            assert outside == [], f"requests left localhost: {outside[:5]}"
            print(f"stale marker {took:.1f} s after the stall, with refresh {runs + 1} after it began")
        finally:
            proxy.forward()
            ctx.close()


@pytest.mark.parametrize("outage", ["stalled", "refused"])
def test_wall_started_during_an_outage_waits_and_comes_up(browser, pg_demo, tmp_path, outage):
    """A wall opened while the database does not answer or refuses: 等待数据连接, then the wall by itself."""
    db = make_url(pg_demo).database
    with stall_proxy(pg_demo) as proxy, serve_app(proxy.url(pg_demo), tmp_path / "st.log", **FAST) as base:
        url = _wall_url(base, pg_demo)  # the token is created directly, not through the proxy
        if outage == "stalled":
            proxy.stall()
        else:
            _allow_connections(db, False)
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        ctx.add_init_script(_WATCH_EXCEPTIONS)
        page = ctx.new_page()
        try:
            page.goto(url)
            page.wait_for_function(f"() => document.body.innerText.includes('{WAITING}')", timeout=30_000)
            first = page.locator('[data-testid="db-waiting"]').inner_text()
            assert "自动重试" in first, first
            # It retries (DB_RETRY_S=3) against the database that is still away, without dimming the screen
            # while a retry waits for the timeout.
            running = _watch_dimming(page, 3 + TIMEOUT_S + 1)
            assert outage != "stalled" or running > 0, "no retry ran while watching"
            again = page.locator('[data-testid="db-waiting"]').inner_text()
            assert again != first, f"the screen did not try again: {again}"
            assert page.locator('[data-testid="db-waiting"]').count() == 1
            assert not page.evaluate("window.__sawException")
            assert page.locator('[data-gauge]').count() == 0
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"wall_db_waiting_{outage}_1920.png"))

            proxy.forward()
            _allow_connections(db, True)
            _wait_wall(page)
            assert page.locator('[data-testid="db-waiting"]').count() == 0
            assert not page.evaluate("window.__sawException"), "an exception was shown on the way"
            assert page.locator('[data-testid="stale"]').count() == 0
        finally:
            proxy.forward()
            _allow_connections(db, True)
            ctx.close()
