"""Browser: login survives reload and a new tab, logout ends it; staff never see another unit's data
(neither on the page nor in the websocket traffic); hostile URL parameters get a clear message."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from data_access.db.engine import get_engine
from data_access.db.schema import events, units
from data_access.filters import Scope, parse_period
from data_access.queries import events as ev
from data_access.queries.units import get_unit

from .conftest import ARTIFACTS, DATA_AS_OF, session_cookie
from .test_browser import open_page, wait_rendered

pytestmark = pytest.mark.browser


def test_login_reload_new_tab_logout(browser, app_server):
    ctx, page, outside = open_page(browser, f"{app_server}/map")
    try:
        wait_rendered(page, text="用户名")
        page.get_by_label("用户名").fill("leader")
        page.get_by_label("密码").fill("leader123")
        page.get_by_role("button", name="登录").click()
        wait_rendered(page, selector='[data-kpi="reported"]')  # logged in: the home page
        page.wait_for_timeout(1000)
        assert any(c["name"] == "sanling_session" for c in ctx.cookies())
        page.goto(f"{app_server}/map?unit=411602002")  # a bookmarked deep link, after a reload
        wait_rendered(page, selector='[data-testid="unit-card"]')
        assert page.get_by_label("用户名").count() == 0
        tab = ctx.new_page()
        tab.goto(f"{app_server}/map?unit=411602001")
        wait_rendered(tab, selector='[data-testid="unit-card"]')
        assert "用户名" not in tab.content()
        tab.get_by_role("button", name="退出登录").click()
        wait_rendered(tab, text="用户名")
        page.reload()
        wait_rendered(page, text="用户名")
        assert page.locator('[data-testid="unit-card"]').count() == 0
        assert outside == []
    finally:
        ctx.close()


def test_staff_cannot_see_foreign_unit(browser, app_server, district_url):
    """staff is bound to the first subdistrict; the second one's name and figures must not reach the browser."""
    eng = get_engine(district_url)
    with eng.connect() as conn:
        subs = [r[0] for r in conn.execute(select(units.c.code).where(units.c.level == 1).order_by(units.c.code))]
    own, foreign = get_unit(eng, subs[0]), get_unit(eng, subs[1])
    fk = ev.event_kpis(eng, Scope.all(), foreign, parse_period("2026-09"), as_of=DATA_AS_OF)
    frames: list[str] = []
    ctx, page, _ = open_page(browser, "about:blank", cookies=[session_cookie(district_url, app_server, "staff")])
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "ignore"))))
    try:
        page.goto(f"{app_server}/map?unit={foreign.code}&period=2026-09")
        wait_rendered(page, selector='[data-testid="unit-card"]')
        page.wait_for_timeout(2000)
        html = page.content()
        assert "无权查看该单位" in html
        assert own.name in page.locator('[data-testid="unit-card"]').inner_text()
        traffic = "\n".join(frames)
        assert foreign.name not in html and foreign.name not in traffic
        assert foreign.code not in traffic.replace(f"unit={foreign.code}", "")
        assert f'data-card="reported">{fk["reported"]:,}<' not in html
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "staff_foreign_unit.png"))
    finally:
        ctx.close()


@pytest.mark.parametrize("params", [
    "unit=1%27%20OR%20%271%27%3D%271", "unit=411602%3B%20DROP%20TABLE%20events%3B--",
    "period=2026-10%27%3B%20DELETE%20FROM%20events%3B--", "period=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "kiosk=1&refresh=1%3B%20DROP%20TABLE%20units", "rotate=abc",
])
def test_hostile_url_parameters(browser, app_server, district_url, params):
    eng = get_engine(district_url)
    with eng.connect() as conn:
        before = conn.execute(select(func.count()).select_from(events)).scalar()
    ctx, page, _ = open_page(browser, f"{app_server}/?{params}",
                             cookies=[session_cookie(district_url, app_server, "leader")])
    try:
        wait_rendered(page, selector='[data-kpi="reported"]')
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stAlertContentWarning"]').count() >= 1
    finally:
        ctx.close()
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar() == before
        assert conn.execute(select(func.count()).select_from(units)).scalar() == 2172
