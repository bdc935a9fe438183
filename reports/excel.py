"""The meeting snapshot as an Excel workbook: one sheet per table, Chinese headers.

Numbers stay numbers (rates as fractions with a percent format, counts with thousands
separators, times as Excel date-times), text that looks like a formula stays text
(:mod:`common.spreadsheet`), the header row is frozen and filterable, and the
first sheet ("说明") says what the workbook is: unit, period, source, author, time.
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from common.spreadsheet import neutralise_workbook

from .snapshot import Snapshot, Table

NUMBER_FORMATS = {
    "int": "#,##0",
    "pct": "0.0%",
    "num1": "+0.0;-0.0;0.0",
    "change": "+0.0;-0.0;0.0",
    "target": '"≥"0%',
    "date": "yyyy-mm",
    "datetime": "yyyy-mm-dd hh:mm",
    "text": "@",
}
HEAD_FILL = PatternFill("solid", fgColor="E1E7F0")
HEAD_FONT = Font(bold=True, color="1F2933")
SHEET_ORDER = ("kpis", "sources", "ranking", "warnings", "overdue", "sanling", "patrol", "trend")


def cell_value(v):
    """A pandas/numpy value as openpyxl stores it (NaN/NaT → empty cell)."""
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item") and not isinstance(v, (str, datetime, date)):
        return v.item()
    if isinstance(v, (list, tuple)):
        return "；".join(map(str, v))
    return v


def _width(text) -> int:
    s = "" if text is None else str(text)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def _write_table(wb: Workbook, t: Table) -> None:
    ws = wb.create_sheet(t.title[:31])
    ws.append([c.header for c in t.columns])
    for cell in ws[1]:
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
    widths = [_width(c.header) for c in t.columns]
    for rec in t.data.to_dict("records"):
        values = [cell_value(rec.get(c.field)) for c in t.columns]
        ws.append(values)
        r = ws.max_row
        for j, (c, v) in enumerate(zip(t.columns, values), start=1):
            kind = rec.get("_kind", "text") if c.kind == "row" else c.kind
            if v is not None and kind != "text":
                ws.cell(r, j).number_format = NUMBER_FORMATS[kind]
            widths[j - 1] = max(widths[j - 1], min(60, _width(v) if kind == "text" else 12 if kind != "datetime"
                                                    else 17))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w + 2
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions


def render_excel(snap: Snapshot) -> bytes:
    """The workbook bytes of ``snap``."""
    wb = Workbook()
    info = wb.active
    info.title = "说明"
    rows = [("项目", "内容"), ("标题", snap.title), ("单位", " › ".join(snap.crumbs)), ("统计时段", snap.period.label),
            ("起止日期", f"{snap.period.start:%Y-%m-%d} 至 {snap.period.end - pd.Timedelta(days=1):%Y-%m-%d}"),
            ("本单位预警等级", snap.own_warning.get("color_label", "")), ("编制", snap.author),
            ("生成时间", snap.generated_at), ("数据来源", snap.source_line.removeprefix("数据来源："))]
    if snap.incomplete:
        rows.append(("数据完整性", f"数据不完整：{snap.incomplete}"))
    for r in rows:
        info.append(list(r))
    for cell in info[1]:
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
    info["B8"].number_format = NUMBER_FORMATS["datetime"]
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 70
    info.freeze_panes = "A2"
    for key in SHEET_ORDER:
        if key in snap.tables and snap.has("kpis" if key == "sources" else key):
            _write_table(wb, snap.tables[key])
    neutralise_workbook(wb)  # event titles, unit and subject names are data: never formulas
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
