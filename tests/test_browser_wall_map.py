"""Browser tests for the wall's server-rendered map: an SVG in the four colours, no WebGL, clicks drill down."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlparse

import pytest

from common.colors import WARNING_COLORS

from .conftest import ARTIFACTS, display_token
from .test_browser import open_page, wait_rendered

pytestmark = pytest.mark.browser

# Record every canvas context a page asks for, before any of its scripts run.
_WATCH_GL = """
window.__contexts = [];
const orig = HTMLCanvasElement.prototype.getContext;
HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
  window.__contexts.push(String(kind)); return orig.call(this, kind, ...rest); };
"""


def _svg(page) -> str:
    src = page.locator('[data-testid="wall-map-svg"]').get_attribute("src")
    assert src.startswith("data:image/svg+xml;base64,")
    return base64.b64decode(src.split(",", 1)[1]).decode()


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_wall_map_is_svg_in_four_colours_without_webgl(browser, app_server, district_url, width, height):
    """The wall's map is an SVG whose children are filled in the warning colours; no canvas, no WebGL."""
    url = f"{app_server}/?kiosk=1&period=2026-09&rotate=30&token={display_token(district_url)}"
    ctx, page, outside = open_page(browser, "about:blank", width, height)
    try:
        page.add_init_script(_WATCH_GL)
        page.goto(url)
        wait_rendered(page, selector='[data-testid="wall-map"] a', timeout_s=120)
        wait_rendered(page, selector="[data-gauge]", count=4)
        page.wait_for_timeout(1000)
        svg = _svg(page)
        fills = set(re.findall(r'<path d="[^"]+" fill="(#[0-9A-F]{6})"', svg))
        assert fills and fills <= set(WARNING_COLORS.values())
        named = {k for k, v in WARNING_COLORS.items() if v in fills} - {"none"}
        assert named == {"red", "orange", "yellow", "blue"}, f"this month's district shows all four: {named}"
        links = page.locator('[data-testid="wall-map"] a')
        assert links.count() == svg.count("data-unit=") >= 10
        assert {links.nth(i).get_attribute("data-color") for i in range(links.count())} >= named
        assert page.locator(".wall-map .lb").count() == links.count(), "every child is labelled"
        assert page.locator(".wall-map .lb.f").count() == 1 and 'data-focus="1"' in svg, "the focus is outlined"
        assert page.locator("canvas").count() == 0
        assert not [c for c in page.evaluate("window.__contexts") if "webgl" in c.lower()], "WebGL was used"
        box = page.locator('[data-testid="wall-map-svg"]').bounding_box()
        assert box["width"] > width * 0.35 and box["y"] + box["height"] <= height, box
        assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"wall_svg_map_{width}x{height}.png"))
        assert outside == [], f"requests left localhost: {outside[:5]}"
    finally:
        ctx.close()


def test_click_on_a_child_drills_down_in_the_same_tab(browser, app_server, district_url):
    """A click inside a child's outline opens the wall of that child, keeping kiosk, period and token."""
    token = display_token(district_url)
    ctx, page, _ = open_page(browser, f"{app_server}/?kiosk=1&period=2026-09&token={token}")
    try:
        wait_rendered(page, selector='[data-testid="wall-map"] a', timeout_s=120)
        first = page.locator('[data-testid="wall-map"] a').first
        code = first.get_attribute("data-unit")
        name = page.locator(".wall-map .lb").first.inner_text()
        label = page.locator(".wall-map .lb").first.bounding_box()  # the label sits inside its unit
        pages_before = len(ctx.pages)
        page.mouse.click(label["x"] + label["width"] / 2, label["y"] + label["height"] / 2)
        page.wait_for_url(re.compile(rf"unit={code}"), timeout=30_000)
        assert len(ctx.pages) == pages_before, "same tab"
        q = parse_qs(urlparse(page.url).query)
        assert q["unit"] == [code] and q["kiosk"] == ["1"] and q["period"] == ["2026-09"] and q["token"] == [token]
        wait_rendered(page, text=f"{name}“三零”创建一屏统揽", timeout_s=120)
        wait_rendered(page, selector='[data-testid="wall-map"] a')
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="wall-map"] a').first.get_attribute("data-unit").startswith(code)
    finally:
        ctx.close()
