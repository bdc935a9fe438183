"""Browser: a table's 导出Excel download in Chromium is a real workbook and is audited when (and only
when) it is downloaded, under the logged-in user."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from data_access.db.engine import get_engine
from data_access.db.schema import audit_log

from .conftest import session_cookie
from .test_browser import open_page, wait_rendered

pytestmark = pytest.mark.browser


def _exports(url: str, after_id: int) -> list[dict]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.id > after_id, audit_log.c.action == "export")
                            .order_by(audit_log.c.id)).mappings().all()
    return [{**r, "detail": json.loads(r["detail"])} for r in rows]


def _last_id(url: str) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(select(audit_log.c.id).order_by(audit_log.c.id.desc()).limit(1)).scalar() or 0


def test_table_download_is_audited(browser, app_server, district_url, tmp_path):
    start = _last_id(district_url)
    ctx, page, outside = open_page(browser, f"{app_server}/events?period=2026-09",
                                   cookies=[session_cookie(district_url, app_server, "staff")])
    try:
        wait_rendered(page, text="导出Excel")
        page.wait_for_timeout(1000)
        assert _exports(district_url, start) == [], "showing a table is not an export"
        with page.expect_download(timeout=60_000) as dl:
            page.get_by_role("button", name="导出Excel").first.click()
        path = tmp_path / dl.value.suggested_filename
        dl.value.save_as(path)
        wb = load_workbook(path)
        assert wb.active.max_row > 1
        rows = _exports(district_url, start)
        assert len(rows) == 1, rows
        r = rows[0]
        assert r["username"] == "staff" and r["detail"]["format"] == "xlsx"
        assert r["detail"]["table"] + ".xlsx" == dl.value.suggested_filename
        assert r["detail"]["rows"] == wb.active.max_row - 1 and r["detail"]["period"] == "2026-09"
        assert outside == []
    finally:
        ctx.close()
