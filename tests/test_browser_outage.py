"""Browser + PostgreSQL: the kiosk wall rides out a database outage and recovers by itself.

The outage is real: the scratch database stops accepting connections and every server connection
to it is terminated (what a PostgreSQL restart or a dropped network link does to the app).
"""

from __future__ import annotations

import pytest
from sqlalchemy import make_url, text

from data_access.demo import build_demo

from .conftest import ARTIFACTS, TEST_UNTIL, _pg_admin_engine, display_token, serve_app
from .test_browser import TILES, open_page, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
STALE = "数据连接中断"


def _allow_connections(db: str, allow: bool) -> None:
    with _pg_admin_engine().connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS {"true" if allow else "false"}'))
        if not allow:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": db})


def _tiles(page) -> dict[str, str]:
    return {k: page.locator(f'[data-kpi="{k}"] .kpi-value').inner_text() for k in TILES}


def test_wall_survives_a_database_outage(browser, pg_scratch, tmp_path):
    url = pg_scratch()
    build_demo(url, scale="tiny", seed=7, until=TEST_UNTIL, log=lambda m: None)
    db = make_url(url).database
    # Caches expire within a second, so every refresh during the outage really goes to the database.
    with serve_app(url, tmp_path / "st.log", LIVE_TTL_S="1", CACHE_TTL_S="1") as base:
        ctx, page, outside = open_page(browser, f"{base}/?kiosk=1&refresh=5&period=2026-09&token={display_token(url)}")
        try:
            wait_rendered(page, selector="[data-gauge]", count=4)
            wait_rendered(page, selector="canvas")
            before = _tiles(page)
            assert all(v.strip() not in ("", "—") for v in before.values()), before
            page.evaluate("window.__marker = 42")

            _allow_connections(db, False)
            page.wait_for_function(f"() => document.body.innerText.includes('{STALE}')", timeout=60_000)
            page.wait_for_timeout(7_000)  # at least one more refresh while the database is still away
            box = page.locator('[data-testid="stale"]').bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1920, f"stale marker cut off: {box}"
            assert page.locator('[data-testid="stException"]').count() == 0
            assert _tiles(page) == before, "the last good figures stay on screen"
            assert page.locator("canvas").count() > 0
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
