"""A table with an Excel download (Chinese headers, frozen header row) and map links.

The workbook is made when the 导出Excel button is clicked (Streamlit's deferred download: the
callable runs when the browser asks for the file), and that same call writes the audit row
(action ``export``, format ``xlsx``, the file, rows, unit and period from the URL), so a table that
is only looked at is not recorded as exported and every file handed out is.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import quote

import pandas as pd
import streamlit as st

from common.spreadsheet import neutralise_workbook
from data_access.accounts import audit

from .data import db_url, engine


def to_excel_bytes(df: pd.DataFrame, sheet: str = "数据") -> bytes:
    """One sheet, header frozen, column widths fitted to Chinese text; formula-like text stays text."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        df.to_excel(xw, sheet_name=sheet[:31], index=False)
        ws = xw.sheets[sheet[:31]]
        ws.freeze_panes = "A2"
        for i, col in enumerate(df.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in df[col].head(200)]) + 4
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(48, width)
        neutralise_workbook(xw.book)
    return buf.getvalue()


def audited_excel(df: pd.DataFrame, filename: str, username: str | None, eng, where: dict) -> Callable[[], bytes]:
    """A download callable: builds the workbook of ``df`` and audits it, at the moment of download.

    Everything it needs is captured now: it runs on a thread of its own, outside the script run.
    """
    frame = df.copy()

    def make() -> bytes:
        data = to_excel_bytes(frame)
        audit.record(eng, username, "export", {"format": "xlsx", "table": filename, "rows": len(frame), **where})
        return data

    return make


def table(df: pd.DataFrame, filename: str, key: str, links: dict[str, str] | None = None,
          column_config: dict | None = None, height: int | None = None) -> None:
    """Show ``df`` (columns already in Chinese) with an 导出Excel button.

    ``links`` maps a column holding unit codes to the page to open (e.g. {"编码": "map"}): the column
    becomes a link to ``/<page>?unit=<code>`` (the exported file keeps the plain code).
    """
    if df is None or df.empty:
        st.caption("暂无数据")
        return
    shown = df.copy()
    config = dict(column_config or {})
    for col, page in (links or {}).items():
        # the value is data: percent-encoded, so "&", "#", "?" or a space cannot change the link
        shown[col] = [f"/{page}?unit={quote(str(c), safe='')}" for c in shown[col]]
        config[col] = st.column_config.LinkColumn(col, display_text=r"unit=([^&#]*)")
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config,
                 height=height or min(420, 38 + 35 * len(shown)), key=f"{key}_table")
    user = (st.session_state.get("user") or {}).get("username")
    where = {k: st.query_params.get(k) for k in ("unit", "period")}
    st.download_button("导出Excel", audited_excel(df, filename, user, engine(db_url()), where),
                       file_name=f"{filename}.xlsx", key=f"{key}_xlsx", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
