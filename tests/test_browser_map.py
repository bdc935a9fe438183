"""Browser: drill down on the grid map by clicking a polygon; the breadcrumb grows; nothing leaves localhost."""

from __future__ import annotations

import math

import pytest

from data_access.db.engine import get_engine
from data_access.filters import Scope
from data_access.queries.units import children, get_unit

from .conftest import ARTIFACTS, session_cookie
from .test_browser import canvas_has_pixels, open_page, wait_rendered

pytestmark = pytest.mark.browser


def _screen_xy(page, lon: float, lat: float, bounds, width_hint: int, height: int) -> tuple[float, float]:
    """Where (lon, lat) is drawn: the same Web Mercator fit the component computes."""
    from components.grid_map import fit_view

    view = fit_view(bounds, width_hint, height)
    box = page.locator("canvas").first.bounding_box()
    world = 512 * 2 ** view.zoom
    merc = lambda y: math.log(math.tan(math.pi / 4 + math.radians(y) / 2))  # noqa: E731
    dx = (lon - view.longitude) / 360 * world
    dy = -(merc(lat) - merc(view.latitude)) / (2 * math.pi) * world
    return box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy


def test_drill_down_by_click(browser, app_server, district_url):
    eng = get_engine(district_url)
    root = get_unit(eng, "411602")
    sub_code = children(eng, Scope.all(), root)["code"].iloc[0]
    sub = get_unit(eng, sub_code)
    kids = children(eng, Scope.all(), sub).sort_values("area_km2", ascending=False)
    target = kids.iloc[0]
    ctx, page, outside = open_page(browser, f"{app_server}/map?unit={sub_code}&period=2026-09",
                                   cookies=[session_cookie(district_url, app_server, "leader")])
    try:
        wait_rendered(page, selector='[data-testid="unit-card"]')
        wait_rendered(page, selector="canvas")
        page.wait_for_timeout(2500)
        crumbs = page.locator('[data-testid="breadcrumb"]').first.text_content()
        assert crumbs == f"川汇区 › {sub.name}"
        assert canvas_has_pixels(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map_subdistrict_1920.png"))
        from components.grid_map import map_features

        bounds = map_features.__wrapped__(district_url, (None, 0), sub_code)["bounds"]
        x, y = _screen_xy(page, target["center_lon"], target["center_lat"], bounds, 1100, 680)
        page.mouse.click(x, y)
        crumb_js = "(document.querySelector('[data-testid=\"breadcrumb\"]')?.textContent || '')"
        page.wait_for_function(f"() => {crumb_js}.includes('{target['name']}')", timeout=60_000)
        wait_rendered(page, selector='[data-testid="unit-card"]')
        page.wait_for_timeout(1500)
        assert page.locator('[data-testid="breadcrumb"]').first.text_content() == \
            f"川汇区 › {sub.name} › {target['name']}"
        assert "unit=" + target["code"] in page.url
        page.screenshot(path=str(ARTIFACTS / "map_community_1920.png"))
        assert outside == [], f"requests left localhost: {outside[:5]}"
    finally:
        ctx.close()


@pytest.fixture
def tile_server():
    """A local XYZ tile server that answers every tile with one magenta PNG and records the paths."""
    import io
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (255, 0, 255)).save(buf, "PNG")
    png, seen = buf.getvalue(), []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", seen
    srv.shutdown()


def test_intranet_basemap_is_drawn(browser, district_url, tile_server, tmp_path):
    """BASEMAP_TILE_URL set: the tiles of the fitted view are fetched from that server (and only
    there) and drawn under the grid: the canvas shows the tile colour around the unit."""
    from .conftest import serve_app

    tiles, seen = tile_server
    eng = get_engine(district_url)
    sub_code = children(eng, Scope.all(), get_unit(eng, "411602"))["code"].iloc[0]
    with serve_app(district_url, tmp_path / "st.log", BASEMAP_TILE_URL=tiles + "/{z}/{x}/{y}.png",
                   BASEMAP_CRS="gcj02") as base:
        ctx, page, outside = open_page(browser, f"{base}/map?unit={sub_code}&period=2026-09",
                                       cookies=[session_cookie(district_url, base, "leader")])
        try:
            wait_rendered(page, selector='[data-testid="unit-card"]')
            wait_rendered(page, selector="canvas")
            for _ in range(40):
                if len(seen) >= 4:
                    break
                page.wait_for_timeout(500)
            page.wait_for_timeout(2000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "map_basemap_1920.png"))
            magenta = page.evaluate("""() => {
                const cs = [...document.querySelectorAll('canvas')].filter(c => c.width > 0 && c.height > 0);
                if (!cs.length) return 0;
                const c = cs.reduce((a, b) => (a.width * a.height >= b.width * b.height ? a : b));
                const off = document.createElement('canvas'); off.width = 96; off.height = 96;
                const g = off.getContext('2d'); g.drawImage(c, 0, 0, 96, 96);
                const d = g.getImageData(0, 0, 96, 96).data; let n = 0;
                for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 80 && d[i + 2] > 150) n++;
                return n; }""")
        finally:
            ctx.close()
    zs = {int(p.split("/")[1]) for p in seen}
    assert len(seen) >= 4 and len(zs) == 1, seen[:10]
    assert magenta > 200, f"tile colour on {magenta} of 9216 sampled pixels"
    assert outside == [], f"requests left localhost: {outside[:5]}"
