"""Browser: hostile unit names and event titles render as literal text in Chromium — breadcrumb, unit card,
map tooltip, page titles (Markdown), URL warnings, the wall's focus line, ticker and ranking — and no
element, style or request comes from the data."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from common.markup import WORD_JOINER
from data_access.db.engine import get_engine
from data_access.filters import Scope
from data_access.queries.units import children, get_unit

from .conftest import ARTIFACTS, serve_app, session_cookie
from .test_browser import open_page, wait_rendered
from .test_browser_map import _screen_xy
from .test_escaping import FORM, IMG, MD_LINK, make_hostile

pytestmark = pytest.mark.browser

# Elements and styles only the payloads would create.
_INJECTED_JS = """() => {
  const bad = [...document.querySelectorAll(
      // the sidebar's own logout button is the one form the app draws itself
      'form:not(.login-form.logout[action="/auth/logout"]), input[placeholder="密码"], img[src="x"], '
      + '[onerror], a[href*="evil.example"], '
      + 'img[src*="evil.example"], a[href^="mailto:"]')]
    .map(e => e.outerHTML.slice(0, 80));
  for (const s of document.querySelectorAll('style'))
    if (s.textContent.replace(/\\s/g, '').includes('*{color:red}')) bad.push('style *{color:red}');
  return bad; }"""


@pytest.fixture(scope="module")
def hostile_server(district_url, tmp_path_factory):
    url = make_hostile(district_url, tmp_path_factory.mktemp("hostile_browser") / "hostile.db")
    with serve_app(url, tmp_path_factory.mktemp("hostile_server") / "streamlit.log") as base:
        yield url, base


def _text(page, selector: str) -> str:
    """What a reader sees (md() puts invisible word joiners into URLs so they are not linked)."""
    return (page.locator(selector).first.text_content() or "").replace(WORD_JOINER, "")


def test_map_page_shows_hostile_names_as_text(browser, hostile_server):
    url, base = hostile_server
    eng = get_engine(url)
    sub = get_unit(eng, children(eng, Scope.all(), get_unit(eng, "411602"))["code"].iloc[0])
    ctx, page, outside = open_page(browser, f"{base}/map?unit={sub.code}&period=2026-09",
                                   cookies=[session_cookie(url, base, "leader")])
    try:
        wait_rendered(page, selector='[data-testid="unit-card"]')
        wait_rendered(page, selector="canvas")
        page.wait_for_timeout(2500)
        assert page.evaluate(_INJECTED_JS) == []
        assert _text(page, '[data-testid="breadcrumb"]') == f"{MD_LINK} › {FORM}0"
        assert f"{FORM}0" in _text(page, '[data-testid="unit-card"]')
        # the breadcrumb buttons render Markdown: the name must read as written, not become a link/image
        # (md() puts an invisible WORD JOINER inside "://" so GFM's autolinker leaves it text)
        names = page.evaluate("() => [...document.querySelectorAll('button')].map(b => b.innerText)")
        assert [n.replace("\u2060", "").strip() for n in names].count(f"{MD_LINK} ›") == 1
        assert "rgb(255, 0, 0)" not in page.evaluate("getComputedStyle(document.body).color")
        # hover a community (named IMG): the tooltip shows the name as text
        from components.grid_map import map_features

        kid = children(eng, Scope.all(), sub).sort_values("area_km2", ascending=False).iloc[0]
        bounds = map_features.__wrapped__(url, (None, 0), sub.code)["bounds"]
        x, y = _screen_xy(page, kid["center_lon"], kid["center_lat"], bounds, 1100, 680)
        page.mouse.move(x - 3, y)
        page.mouse.move(x, y)
        page.wait_for_function("() => { const t = document.querySelector('.deck-tooltip');"
                               " return t && t.style.display !== 'none' && t.textContent.length > 0; }",
                               timeout=30_000)
        tip = page.evaluate("() => { const t = document.querySelector('.deck-tooltip');"
                            " return [t.textContent, [...t.querySelectorAll('*')].map(e => e.tagName)]; }")
        assert tip[0] == IMG + "正常" and set(tip[1]) <= {"BR"}, tip  # innerText: the line break is the only element
        assert page.evaluate(_INJECTED_JS) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "hostile_names_map.png"))
        assert outside == [], f"requests left localhost: {outside[:5]}"
    finally:
        ctx.close()


def test_titles_warnings_and_wall_show_hostile_text(browser, hostile_server):
    url, base = hostile_server
    cookie = [session_cookie(url, base, "leader")]
    # page title (Markdown) with the district's name, and a warning quoting a crafted ?unit=
    crafted = quote("[登录](http://evil.example/) mail@evil.example")
    ctx, page, outside = open_page(browser, f"{base}/events?period=2026-09&unit={crafted}", cookies=cookie)
    try:
        wait_rendered(page, selector="h1")
        wait_rendered(page, selector='[data-testid="stAlert"]')
        assert MD_LINK in _text(page, "h1")
        assert "[登录](http://evil.example/) mail@evil.example" in _text(page, '[data-testid="stAlert"]')
        assert page.evaluate(_INJECTED_JS) == []
        assert outside == [], f"requests left localhost: {outside[:5]}"
    finally:
        ctx.close()
    # the wall: focus line (rotating subdistricts), ticker (event titles) and ranking (names)
    ctx, page, outside = open_page(browser, f"{base}/?rotate=5&period=2026-09", cookies=cookie)
    try:
        wait_rendered(page, selector='[data-testid="focus"]')
        wait_rendered(page, selector='[data-testid="ranking"]')
        page.wait_for_timeout(1500)
        assert FORM in _text(page, '[data-testid="focus"]')
        assert IMG in _text(page, '[data-testid="ticker"]')
        assert FORM in _text(page, '[data-testid="ranking"]')
        assert page.evaluate(_INJECTED_JS) == []
        assert outside == [], f"requests left localhost: {outside[:5]}"
    finally:
        ctx.close()
