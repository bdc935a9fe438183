"""Browser end-to-end: the overview in Debian Chromium, offline, with real numbers."""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def wait_rendered(page, text: str | None = None, selector: str | None = None, timeout_s: float = 60) -> None:
    """Poll until Streamlit is idle: no running status, no spinner, ``text``/``selector`` present."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        busy = page.locator('[data-testid="stStatusWidget"]').count() + page.locator(
            '[data-testid="stSpinner"]').count()
        have_text = text is None or page.get_by_text(text, exact=False).count() > 0
        have_sel = selector is None or page.locator(selector).count() > 0
        if not busy and have_text and have_sel:
            return
        time.sleep(0.25)
    raise AssertionError(f"page did not finish rendering (text={text!r}, selector={selector!r})")


def open_page(browser, url: str, width: int = 1920, height: int = 1080):
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = ctx.new_page()
    outside: list[str] = []

    def on_request(req):
        host = urlparse(req.url).hostname
        if req.url.startswith(("data:", "blob:")):
            return
        if host not in ("127.0.0.1", "localhost"):
            outside.append(req.url)

    page.on("request", on_request)
    page.goto(url)
    return ctx, page, outside


def test_overview_shows_numbers_offline(browser, app_server):
    ctx, page, outside = open_page(browser, f"{app_server}/?period=2026-09")
    try:
        wait_rendered(page, selector='[data-kpi="closure_rate"]')
        assert page.locator('[data-testid="stException"]').count() == 0
        for key in ("reported", "closed", "closure_rate", "overdue"):
            value = page.locator(f'[data-kpi="{key}"] .kpi-value').inner_text()
            assert re.search(r"\d", value), f"{key} tile shows {value!r}"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "overview_1920.png"))
        assert outside == [], f"requests left localhost: {outside[:5]}"
    finally:
        ctx.close()
