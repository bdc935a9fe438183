"""Browser end-to-end: the overview wall in Debian Chromium, offline, with real numbers."""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest

from common.fmt import num, pct
from data_access.db.engine import get_engine
from data_access.filters import Scope, parse_period
from data_access.queries import events as ev
from data_access.queries import indicators as ind
from data_access.queries import patrol, sanling
from data_access.queries.units import home_unit

from .conftest import ARTIFACTS, DATA_AS_OF, FROZEN_NOW, display_token

pytestmark = pytest.mark.browser
TILES = ["reported", "closed", "closure_rate", "overdue", "village_rate", "enterprise_rate", "petitions",
         "criminal_cases", "mediation_settled", "camera_online", "patrol_coverage", "key_whistle"]


def wait_rendered(page, text: str | None = None, selector: str | None = None, count: int = 1,
                  timeout_s: float = 90) -> None:
    """Poll until Streamlit is idle: no running status, no spinner, ``text``/``selector`` present."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        busy = page.locator('[data-testid="stStatusWidget"]').count() + page.locator(
            '[data-testid="stSpinner"]').count()
        have_text = text is None or page.get_by_text(text, exact=False).count() > 0
        have_sel = selector is None or page.locator(selector).count() >= count
        if not busy and have_text and have_sel:
            return
        time.sleep(0.25)
    raise AssertionError(f"page did not finish rendering (text={text!r}, selector={selector!r})")


def open_page(browser, url: str, width: int = 1920, height: int = 1080, cookies: list | None = None):
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    if cookies:
        ctx.add_cookies(cookies)
    page = ctx.new_page()
    outside: list[str] = []

    def on_request(req):
        if req.url.startswith(("data:", "blob:")):
            return
        if urlparse(req.url).hostname not in ("127.0.0.1", "localhost"):
            outside.append(req.url)

    page.on("request", on_request)
    page.goto(url)
    return ctx, page, outside


def canvas_has_pixels(page, timeout_ms: int = 10000) -> bool:
    """True when the deck.gl canvas has drawn something (not a blank map) within `timeout_ms`.

    The largest canvas with a size is read: while a page lays out, deck.gl's canvas can
    exist with a width or height of 0, which is "not drawn yet", not a reason to fail."""
    script = """() => {
        const cs = [...document.querySelectorAll('canvas')].filter(c => c.width > 0 && c.height > 0);
        if (!cs.length) return false;
        const c = cs.reduce((a, b) => (a.width * a.height >= b.width * b.height ? a : b));
        const off = document.createElement('canvas'); off.width = 64; off.height = 64;
        const g = off.getContext('2d'); g.drawImage(c, 0, 0, 64, 64);
        const d = g.getImageData(0, 0, 64, 64).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] + d[i + 1] + d[i + 2]) > 60) n++;
        return n > 50; }"""
    waited = 0
    while True:
        if page.evaluate(script):
            return True
        if waited >= timeout_ms:
            return False
        page.wait_for_timeout(250)
        waited += 250


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_kiosk_wall_fits_and_shows_numbers(browser, app_server, district_url, width, height):
    """Kiosk wall: no vertical scroll, map drawn, every KPI tile a number, nothing fetched outside."""
    url = f"{app_server}/?kiosk=1&period=2026-09&token={display_token(district_url)}"
    ctx, page, outside = open_page(browser, url, width, height)
    try:
        wait_rendered(page, selector="[data-gauge]", count=4)
        wait_rendered(page, selector='[data-testid="wall-map"] a')
        page.wait_for_timeout(1500)
        assert page.locator('[data-testid="stException"]').count() == 0
        for key in TILES:
            value = page.locator(f'[data-kpi="{key}"] .kpi-value').inner_text()
            assert re.search(r"\d", value), f"{key} tile shows {value!r}"
        assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")
        assert page.locator('[data-testid="stSidebar"]').count() == 0 or not page.locator(
            '[data-testid="stSidebar"]').is_visible()
        assert page.locator('[data-testid="wall-map-svg"]').is_visible(), "the wall's map is drawn"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"overview_kiosk_{width}x{height}.png"))
        assert outside == [], f"requests left localhost: {outside[:5]}"
    finally:
        ctx.close()


def test_wall_figures_equal_data_access(browser, app_server, district_url):
    """The numbers on the wall are the numbers data_access returns for the same unit and period."""
    eng = get_engine(district_url)
    scope = Scope.all()
    unit = home_unit(eng, scope)
    period = parse_period("2026-09")
    k = ev.event_kpis(eng, scope, unit, period, as_of=DATA_AS_OF)
    s = sanling.sanling_compliance(eng, scope, unit, period)
    expected = {"reported": num(k["reported"]), "closed": num(k["closed"]), "closure_rate": pct(k["closure_rate"]),
                "overdue": num(k["overdue"]), "village_rate": pct(s["village_rate"]),
                "enterprise_rate": pct(s["enterprise_rate"]),
                "petitions": num(ind.petition_stats(eng, scope, unit, period, as_of=DATA_AS_OF)["total"]),
                "camera_online": pct(ind.camera_stats(eng, scope, unit)["online_rate"]),
                "patrol_coverage": pct(patrol.patrol_coverage(eng, scope, unit, period)["coverage"])}
    ctx, page, _ = open_page(browser, f"{app_server}/?kiosk=1&period=2026-09&token={display_token(district_url)}")
    try:
        wait_rendered(page, selector='[data-kpi="patrol_coverage"]')
        for key, value in expected.items():
            shown = page.locator(f'[data-kpi="{key}"] .kpi-value').inner_text()
            assert shown.replace("件", "").strip().startswith(value), f"{key}: screen {shown!r} vs data {value!r}"
        gauge = page.locator('[data-gauge="g_all"]').get_attribute("data-value")
        assert float(gauge) == pytest.approx(k["closure_rate"], abs=1e-4)
    finally:
        ctx.close()


def test_wall_refreshes_in_place(browser, app_server, district_url):
    """New events appear on the wall without a reload (fragment refresh + short live TTL)."""
    import numpy as np

    from data_access.demo.simulate import tick

    eng = get_engine(district_url)
    month = FROZEN_NOW.strftime("%Y-%m")  # the simulator reports events at the suite's "now" (the server's too)
    url = f"{app_server}/?kiosk=1&refresh=5&period={month}&token={display_token(district_url)}"
    ctx, page, _ = open_page(browser, url)
    try:
        wait_rendered(page, selector='[data-kpi="reported"]')
        before = int(page.locator('[data-kpi="reported"] .kpi-value').inner_text().replace(",", "").rstrip("件"))
        page.evaluate("window.__marker = 42")  # survives only if the page is not reloaded
        tick(eng, np.random.default_rng(5), 25, 0, now=FROZEN_NOW)
        deadline = time.time() + 60
        after = before
        while time.time() < deadline and after == before:
            time.sleep(1)
            txt = page.locator('[data-kpi="reported"] .kpi-value').inner_text()
            after = int(txt.replace(",", "").rstrip("件"))
        assert page.evaluate("window.__marker") == 42, "the page was reloaded"
        assert after == before + 25
    finally:
        ctx.close()


def test_kiosk_rotates_focus_through_subdistricts(browser, app_server, district_url):
    """rotate=5: the focus card moves to another subdistrict in place, and shows its own figures."""
    from data_access.queries.units import children

    eng = get_engine(district_url)
    root = home_unit(eng, Scope.all())
    names = set(children(eng, Scope.all(), root)["name"])
    url = f"{app_server}/?kiosk=1&rotate=5&refresh=30&period=2026-09&token={display_token(district_url)}"
    ctx, page, outside = open_page(browser, url)
    try:
        wait_rendered(page, selector='[data-testid="focus"]')
        page.evaluate("window.__marker = 42")
        focus = lambda: page.locator('[data-testid="focus"] b').first.inner_text()  # noqa: E731
        seen = [focus()]
        deadline = time.time() + 40
        while time.time() < deadline and len(set(seen)) < 3:
            time.sleep(1)
            seen.append(focus())
        assert len(set(seen)) >= 3, f"focus did not rotate: {seen}"
        assert set(seen) <= names
        assert page.evaluate("window.__marker") == 42, "rotation reloaded the page"
        kids = ev.child_event_kpis(eng, Scope.all(), root, parse_period("2026-09"), as_of=DATA_AS_OF
                                   ).set_index("name")
        text_now = page.locator('[data-testid="focus"]').first.inner_text()
        m = re.match(r"聚焦：(\S+)\s+上报 ([\d,]+) 件", text_now)
        assert m and m.group(1) in names, text_now
        assert m.group(2) == num(kids.loc[m.group(1), "reported"])  # the figures of the unit in focus
        assert outside == []
    finally:
        ctx.close()
