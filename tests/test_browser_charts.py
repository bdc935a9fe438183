"""Browser: the office pages' Plotly charts read in Chinese — month and hour ticks, not Plotly's own
"Jan 2026" / "Dec 3, 2026" — and count axes step by whole events."""

from __future__ import annotations

import re

import pytest

from .conftest import ARTIFACTS, session_cookie
from .test_browser import open_page, wait_rendered

pytestmark = pytest.mark.browser
ENGLISH_MONTH = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")
TICKS = """sel => [...document.querySelectorAll(sel)].map(t => t.textContent)"""


@pytest.mark.parametrize("path, charts", [("/sanling", 3), ("/mediation", 2)])
def test_chart_ticks_are_chinese(browser, app_server, district_url, path, charts):
    ctx, page, outside = open_page(browser, app_server + path, height=2000,
                                   cookies=[session_cookie(district_url, app_server, "leader")])
    try:
        wait_rendered(page, selector=".js-plotly-plot .xtick", count=charts)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"charts{path.replace('/', '_')}.png"))
        x = page.evaluate(TICKS, ".js-plotly-plot .xtick text")
        y = page.evaluate(TICKS, ".js-plotly-plot .ytick text")
        assert x and not [t for t in x if ENGLISH_MONTH.search(t)], x
        months = [t for t in x if re.fullmatch(r"\d{4}年\d{1,2}月", t)]
        assert len(months) >= 4, x  # the monthly trends: 2026年1月, 2026年3月, …
        assert not [t for t in y if re.fullmatch(r"\d+\.5", t)], y  # no half an event
        assert outside == []
    finally:
        ctx.close()
