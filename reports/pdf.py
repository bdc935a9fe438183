"""The meeting snapshot as an A4-landscape PDF (fpdf2, embedded Noto Sans CJK SC subset).

Every page carries the title, the period, the data source, the generation time and the page
number. Charts and the map are SVG (vector). Warning levels are shown as colour plus hatching
plus the level's name, so a black-and-white print still tells them apart.
"""

from __future__ import annotations

import math
from datetime import timedelta

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, TableCellFillMode, WrapMode, XPos, YPos

from common.colors import WARNING_COLORS, WARNING_LABELS
from common.fmt import num, pct
from data_access.queries import catalogue

from . import charts, static_map
from .snapshot import SECTIONS, Snapshot, Table

FONT = "NotoSansSC"
INK = (31, 41, 51)
MUTED = (107, 119, 133)
ACCENT = (11, 33, 71)
RULE = (200, 207, 216)
ZEBRA = (244, 246, 249)
HEAD_FILL = (225, 231, 240)
GOOD = (46, 125, 50)
BAD = (198, 40, 40)
PDF_OVERDUE_ROWS = 50  # the PDF lists this many overdue events; Excel has all fetched rows
PDF_SANLING_ROWS = 60
SIDE_CHART_ROWS = 20  # up to this many child units get a bar chart beside their table
MARGIN = 12.0


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _text_on(hex_color: str) -> tuple[int, int, int]:
    r, g, b = _rgb(hex_color)
    return (255, 255, 255) if 0.299 * r + 0.587 * g + 0.114 * b < 150 else INK


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def format_value(v, kind: str) -> str:
    """A table value as printed (the Excel workbook keeps the raw number with a number format)."""
    if kind == "text":
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    if _nan(v):
        return "—"
    if kind == "int":
        return num(v)
    if kind == "pct":
        return pct(v)
    if kind in ("num1", "change"):
        return "0.0" if abs(v) < 0.05 else f"{v:+.1f}"
    if kind == "target":
        return f"≥{v * 100:.0f}%"
    if kind == "date":
        return f"{v:%Y-%m}" if hasattr(v, "strftime") else str(v)
    if kind == "datetime":
        return f"{v:%Y-%m-%d %H:%M}" if hasattr(v, "strftime") else str(v)
    return str(v)


class SnapshotPDF(FPDF):
    """FPDF with the snapshot's running header and footer."""

    def __init__(self, snap: Snapshot):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.snap = snap
        self.add_font(FONT, fname=str(charts.font_path()), collection_font_number=charts.SC_COLLECTION_INDEX)
        # Subsetting recomputes every glyph's bounds when the CFF table is written back (≈ 40 % of
        # the render time); the full font's bounding box is a valid superset, so keep it.
        for font in self.fonts.values():
            font.ttfont.recalcBBoxes = False
        self.set_font(FONT, size=10)
        self.set_margins(MARGIN, 17, MARGIN)
        self.set_auto_page_break(True, margin=15)
        self.set_title(snap.title)
        self.set_subject(f"{snap.unit.name} {snap.period.label}")
        self.set_author(snap.author)
        self.set_creator("三零创建一屏统揽 · reports")
        self.set_lang("zh-CN")
        self.set_creation_date(snap.generated_at.astimezone())

    def header(self):
        if self.page_no() == 1:
            return
        with self.local_context(font_size_pt=8.5, text_color=MUTED):
            self.set_xy(MARGIN, 7)
            self.cell(0, 5, self.snap.title, align="L")
            self.set_xy(MARGIN, 7)
            self.cell(0, 5, f"统计时段：{self.snap.period.label}", align="R")
        with self.local_context(draw_color=RULE, line_width=0.3):
            self.line(MARGIN, 13, self.w - MARGIN, 13)
        self.set_xy(MARGIN, 17)

    def footer(self):
        s = self.snap
        with self.local_context(draw_color=RULE, line_width=0.3):
            self.line(MARGIN, self.h - 11.5, self.w - MARGIN, self.h - 11.5)
        with self.local_context(font_size_pt=7.5, text_color=MUTED):
            self.set_xy(MARGIN, self.h - 10.5)
            self.cell(0, 4, f"{s.source_line} ｜ 统计时段：{s.period.label} ｜ 生成时间："
                            f"{s.generated_at:%Y-%m-%d %H:%M} ｜ 编制：{s.author}", align="L")
            self.set_xy(MARGIN, self.h - 10.5)
            self.cell(0, 4, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="R")

    # --- building blocks -------------------------------------------------------------------

    def bold_text(self, size: float):
        """A context that fakes a bold weight (the bundled font has Regular only)."""
        return self.local_context(font_size_pt=size, text_mode="FILL_STROKE", line_width=size * 0.012,
                                  draw_color=self.text_color)

    def section_title(self, text: str, min_space: float = 60.0) -> None:
        """A section heading; starts a new page when less than ``min_space`` mm remain."""
        if self.page_no() == 0 or self.get_y() > self.h - 15 - min_space:
            self.add_page()
        elif self.get_y() > 20:
            self.ln(4)
        self.start_section(text)
        y = self.get_y()
        with self.local_context(fill_color=ACCENT):
            self.rect(MARGIN, y + 0.8, 1.6, 6.2, style="F")
        self.set_x(MARGIN + 3.5)
        with self.bold_text(13):
            self.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def note(self, text: str, size: float = 8.5) -> None:
        if text:
            with self.local_context(font_size_pt=size, text_color=MUTED):
                self.multi_cell(0, 4.6, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.ln(1)

    def swatch(self, x: float, y: float, color: str, w: float = 7.0, h: float = 4.6) -> None:
        """A legend box: the level's screen colour and its hatching."""
        with self.local_context(fill_color=_rgb(WARNING_COLORS[color]), draw_color=INK, line_width=0.2):
            self.rect(x, y, w, h, style="DF")
        hatch = _rgb(static_map.HATCH[color][1])
        with self.local_context(draw_color=hatch, line_width=0.2):
            for seg in static_map.legend_swatch(color, w, h, 1.1):
                (x0, y0), (x1, y1) = seg[0], seg[-1]
                self.line(x + x0, y + h - y0, x + x1, y + h - y1)

    def data_table(self, t: Table, width: float | None = None, max_rows: int | None = None, font_size: float = 8.5,
              line_height: float = 5.4, colored: tuple[str, ...] = ("color_label",)) -> None:
        """``t`` as a zebra table with repeated headings; warning-level cells get their colour."""
        data = t.data if max_rows is None else t.data.head(max_rows)
        if data.empty:
            self.note("（本期无数据）", size=9)
            return
        cols = [c for c in t.columns if c.pdf]
        widths = [c.width for c in cols]
        aligns = ["LEFT" if c.kind in ("text", "datetime", "date") else "RIGHT" for c in cols]
        head = FontFace(emphasis="", color=INK, fill_color=HEAD_FILL, size_pt=font_size)
        by_label = {v: k for k, v in WARNING_LABELS.items()}
        with self.local_context(font_size_pt=font_size, draw_color=RULE, line_width=0.2):
            with self.table(width=width or self.epw, col_widths=widths, text_align=aligns,
                               line_height=line_height, headings_style=head, cell_fill_color=ZEBRA,
                               cell_fill_mode=TableCellFillMode.EVEN_ROWS, align="LEFT",
                               borders_layout=TableBordersLayout.HORIZONTAL_LINES, wrapmode=WrapMode.CHAR,
                               padding=(0.8, 1.2, 0.8, 1.2), repeat_headings=1) as tbl:
                row = tbl.row()
                for c in cols:
                    row.cell(c.header, align="CENTER")
                for rec in data.to_dict("records"):
                    row = tbl.row()
                    for c in cols:
                        kind = rec.get("_kind", "text") if c.kind == "row" else c.kind
                        text = format_value(rec.get(c.field), kind)
                        if c.kind == "change" and text != "—":
                            text += rec.get("change_unit", "")
                        style = None
                        level = rec.get("color") if rec.get("color") in WARNING_COLORS else by_label.get(text)
                        if c.field in colored and level:
                            hexc = WARNING_COLORS[level]
                            style = FontFace(fill_color=_rgb(hexc), color=_text_on(hexc), emphasis="")
                        elif c.field == "met" and text in ("达标", "未达标"):
                            style = FontFace(color=GOOD if text == "达标" else BAD, emphasis="")
                        row.cell(text, style=style)
        self.ln(2)

    def svg(self, data: bytes, x: float, y: float, w: float) -> float:
        """Place an SVG at (x, y) with width ``w``; returns the bottom y."""
        info = self.image(data, x=x, y=y, w=w)
        return y + info.rendered_height


# --- pages -----------------------------------------------------------------------------------

def _cover(pdf: SnapshotPDF) -> None:
    s = pdf.snap
    pdf.add_page()
    pdf.start_section("封面")
    with pdf.local_context(fill_color=ACCENT):
        pdf.rect(0, 0, pdf.w, 9, style="F")
    pdf.set_y(17)
    with pdf.local_context(text_color=MUTED, font_size_pt=12):
        pdf.cell(0, 7, "“一月一报告，一月一通报”", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    with pdf.bold_text(26), pdf.local_context(text_color=ACCENT):
        pdf.multi_cell(0, 13, s.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    with pdf.local_context(font_size_pt=15, text_color=INK):
        pdf.cell(0, 9, f"统计时段：{s.period.label}（{s.period.start:%Y-%m-%d} 至 "
                       f"{s.period.end - timedelta(days=1):%Y-%m-%d}）", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    with pdf.local_context(font_size_pt=11, text_color=MUTED):
        pdf.cell(0, 7, " › ".join(s.crumbs) + f"（{s.level_label}）", align="C", new_x=XPos.LMARGIN,
                 new_y=YPos.NEXT)

    if s.incomplete:  # a late source or a month still running: the meeting must not read it as final
        pdf.ln(2)
        with pdf.bold_text(11), pdf.local_context(text_color=(176, 0, 32), draw_color=(176, 0, 32), line_width=0.5):
            pdf.set_x(MARGIN + 20)
            pdf.multi_cell(pdf.epw - 40, 7, f"【数据不完整】{s.incomplete}", border=1, align="C",
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # the unit's own warning level
    color = s.own_warning.get("color", "none")
    label = s.own_warning.get("color_label") or WARNING_LABELS.get(color, "")
    y = pdf.get_y() + 5
    text = f"本单位预警等级：{label}"
    with pdf.local_context(font_size_pt=12):
        tw = pdf.get_string_width(text)
        x = (pdf.w - tw - 14) / 2
        pdf.swatch(x, y + 0.8, color, w=10, h=6)
        pdf.set_xy(x + 13, y)
        pdf.cell(tw + 2, 7.6, text)
    reasons = s.own_warning.get("reasons") or []
    pdf.set_y(y + 9)
    if reasons:
        with pdf.local_context(font_size_pt=9, text_color=MUTED):
            shown = "；".join(reasons[:3]) + (f"；等 {len(reasons)} 条" if len(reasons) > 3 else "")
            pdf.multi_cell(0, 5, "研判原因：" + shown, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # headline figures
    k, kp = s.headline, s.headline_prev
    kpis = s.tables["kpis"].data.set_index("key")
    target = kpis.loc["closure_rate", "target"]
    tiles = [
        ("事件上报", num(k["reported"]), "件", _chg_text(k["reported"], kp["reported"], False)),
        ("事件办结", num(k["closed"]), "件", _chg_text(k["closed"], kp["closed"], False)),
        ("办结率", pct(k["closure_rate"]), "", f"目标 ≥{pct(target, 0)} · "
         + ("达标" if not _nan(k["closure_rate"]) and k["closure_rate"] >= target else "未达标")),
        ("超期未办结", num(k["overdue_open"]), "件", f"超期事件 {num(k['overdue'])} 件"),
    ]
    y = pdf.get_y() + 4
    gap, n = 6.0, len(tiles)
    tw = (pdf.epw - gap * (n - 1)) / n
    for i, (lab, val, unit, foot) in enumerate(tiles):
        x = MARGIN + i * (tw + gap)
        with pdf.local_context(draw_color=RULE, line_width=0.35, fill_color=(248, 250, 252)):
            pdf.rect(x, y, tw, 33, style="DF")
        with pdf.local_context(fill_color=ACCENT):
            pdf.rect(x, y, tw, 1.4, style="F")
        pdf.set_xy(x, y + 3.5)
        with pdf.local_context(font_size_pt=10.5, text_color=MUTED):
            pdf.cell(tw, 6, lab, align="C")
        pdf.set_xy(x, y + 10)
        with pdf.bold_text(22), pdf.local_context(text_color=INK):
            pdf.cell(tw, 12, f"{val}{unit}", align="C")
        pdf.set_xy(x, y + 24)
        with pdf.local_context(font_size_pt=9, text_color=MUTED):
            pdf.cell(tw, 6, foot, align="C")

    # the few sentences a meeting reads first
    y += 39
    pdf.set_xy(MARGIN, y)
    with pdf.bold_text(11.5), pdf.local_context(text_color=ACCENT):
        pdf.cell(0, 7, "本期要点", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    with pdf.local_context(font_size_pt=10, text_color=INK):
        for i, line in enumerate(s.highlights, start=1):
            pdf.set_x(MARGIN + 2)
            pdf.multi_cell(pdf.epw - 2, 5.6, f"{i}. {line}", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if s.calendar_note:  # the working-day figures above rest on a guessed calendar: the meeting must know
        with pdf.local_context(font_size_pt=9.5, text_color=(176, 0, 32)):
            pdf.set_x(MARGIN + 2)
            pdf.multi_cell(pdf.epw - 2, 5.2, f"注：{s.calendar_note}", align="L", new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT)

    # contents and provenance, at the foot of the cover
    pdf.set_y(max(pdf.get_y() + 3, pdf.h - 36))
    parts = [SECTIONS[k] for k in s.sections]
    with pdf.local_context(font_size_pt=8.5, text_color=MUTED):
        scope = "全部单位" if s.scope.is_all else f"本账号所辖范围（{s.crumbs[0] if s.crumbs else ''}）"
        pdf.multi_cell(0, 4.6, "本期内容：" + "、".join(parts) + f" ｜ 编制：{s.author} ｜ 数据范围：{scope}",
                       align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.multi_cell(0, 4.6, "口径（指标目录）：" + "".join(
            f"{catalogue.metric(k).label}：{catalogue.metric(k).definition}"
            for k in ("closure_rate", "overdue", "village_compliance", "patrol_coverage")),
                       align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _chg_text(cur, prev, points: bool) -> str:
    if _nan(cur) or _nan(prev):
        return "较上期 —"
    if points:
        return f"较上期 {(cur - prev) * 100:+.1f}个百分点"
    return f"较上期 {(cur - prev) / prev * 100:+.1f}%" if prev else "较上期 —"


def _kpi_page(pdf: SnapshotPDF) -> None:
    s = pdf.snap
    pdf.section_title("关键指标" if s.has("kpis") else "办结率", min_space=999)
    top = pdf.get_y()
    if s.has("kpis"):
        t = s.tables["kpis"]
        width = 158 if s.has("gauges") else pdf.epw
        pdf.note(t.note)
        pdf.data_table(t, width=width, font_size=9, line_height=6.2)
    if s.has("gauges"):
        x = MARGIN + 164 if s.has("kpis") else MARGIN + 40
        w = pdf.w - MARGIN - x if s.has("kpis") else pdf.epw - 80
        with pdf.local_context(font_size_pt=10, text_color=INK):
            pdf.set_xy(x, top)
            pdf.cell(w, 6, "办结率（0–100%，竖线为目标值）", align="C")
        y = pdf.svg(charts.gauges(s.gauges, width_in=w / 25.4, height_in=w / 25.4 * 0.74), x, top + 8, w)
        if "sources" in s.tables:
            pdf.set_xy(x, y + 3)
            with pdf.local_context(font_size_pt=10, text_color=INK):
                pdf.cell(w, 6, "按来源办结情况", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
            pdf.set_left_margin(x)
            pdf.data_table(s.tables["sources"], width=w, font_size=8.5, line_height=5.4)
            pdf.set_left_margin(MARGIN)


def _map_page(pdf: SnapshotPDF) -> None:
    s = pdf.snap
    shows_children = len(s.geo) > 1 or (len(s.geo) == 1 and s.geo["code"].iat[0] != s.unit.code)
    pdf.section_title(f"四色预警地图（{s.child_label if shows_children else s.level_label}）", min_space=999)
    top = pdf.get_y()
    avail_h = pdf.h - 16 - top
    map_w = 172.0
    svg = static_map.warning_map(s.geo, width_in=map_w / 25.4, height_in=avail_h / 25.4)
    pdf.svg(svg, MARGIN, top, map_w)
    x = MARGIN + map_w + 6
    w = pdf.w - MARGIN - x
    pdf.set_xy(x, top)
    with pdf.bold_text(10.5):
        pdf.cell(w, 6, "图例（颜色＋纹理＋文字）", new_x=XPos.LEFT, new_y=YPos.NEXT)
    y = pdf.get_y() + 1
    for c in ("red", "orange", "yellow", "blue", "none"):
        pdf.swatch(x, y + 0.6, c)
        pdf.set_xy(x + 9, y)
        with pdf.local_context(font_size_pt=9.5):
            pdf.cell(w - 9, 6, f"{WARNING_LABELS[c]}：{s.warning_counts.get(c, 0)} 个{s.child_label}")
        y += 7.4
    pdf.set_xy(x, y + 2)
    ro = s.tables.get("warnings")
    with pdf.bold_text(10.5):
        pdf.cell(w, 6, "红色、橙色预警", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_x(x)
    ro_data = None if ro is None else ro.data
    with pdf.local_context(font_size_pt=8.5, text_color=INK):
        if ro_data is None or ro_data.empty:
            pdf.multi_cell(w, 5, "本期无红色、橙色预警单位。", align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
        else:
            for rec in ro_data.head(8).to_dict("records"):
                if pdf.get_y() > pdf.h - 30:
                    break
                pdf.set_x(x)
                reasons = rec["reasons"] if isinstance(rec["reasons"], (list, tuple)) else [rec["reasons_text"]]
                brief = "；".join(reasons[:2]) + (f" 等 {len(reasons)} 条" if len(reasons) > 2 else "")
                pdf.multi_cell(w, 4.6, f"■ {rec['name']}（{rec['color_label']}）：{brief}", align="L",
                               new_x=XPos.LEFT, new_y=YPos.NEXT)
                pdf.ln(0.8)
            if len(ro_data) > 8:
                pdf.set_x(x)
                pdf.multi_cell(w, 4.6, f"……共 {len(ro_data)} 个，详见“红橙预警清单”。", align="L", new_x=XPos.LEFT,
                               new_y=YPos.NEXT)
    pdf.set_y(pdf.h - 16)


def _trend_page(pdf: SnapshotPDF) -> None:
    s = pdf.snap
    t = s.tables["trend"]
    pdf.section_title("运行趋势（近十二个月）", min_space=999)
    target = s.tables["kpis"].data.set_index("key").loc["closure_rate", "target"]
    y = pdf.svg(charts.monthly_trend(t.data, target, width_in=pdf.epw / 25.4, height_in=88 / 25.4), MARGIN,
                pdf.get_y(), pdf.epw)
    pdf.set_y(y + 2)
    # the same figures as a compact transposed table: months across
    _month_strip(pdf, t)
    pdf.note(t.note)


def _month_strip(pdf: SnapshotPDF, t: Table) -> None:
    d = t.data
    cols = [("月份", [lab[2:].replace("-", "年") + "月" for lab in d["label"]]),
            ("上报", [num(v) for v in d["reported"]]), ("办结", [num(v) for v in d["closed"]]),
            ("办结率", [pct(v) for v in d["closure_rate"]]), ("超期未办结", [num(v) for v in d["overdue_open"]])]
    head = FontFace(emphasis="", color=INK, fill_color=HEAD_FILL, size_pt=8)
    with pdf.local_context(font_size_pt=8, draw_color=RULE, line_width=0.2):
        with pdf.table(width=pdf.epw, col_widths=[1.6] + [1] * len(d), text_align="CENTER", line_height=5.2,
                        headings_style=head, borders_layout=TableBordersLayout.HORIZONTAL_LINES,
                        first_row_as_headings=True) as tbl:
            for name, vals in cols:
                row = tbl.row()
                row.cell(name)
                for v in vals:
                    row.cell(v)
    pdf.ln(2)


def _ranking(pdf: SnapshotPDF) -> None:
    s = pdf.snap
    t = s.tables["ranking"]
    pdf.section_title(f"下级单位排名（{s.child_label}）", min_space=_block_mm(len(t.data), 22))
    pdf.note(t.note)
    d = t.data
    if d.empty:
        pdf.note("本单位没有下级单位。", size=9)
        return
    top = pdf.get_y()
    side = len(d) <= SIDE_CHART_ROWS
    width = 182 if side else pdf.epw
    target = s.tables["kpis"].data.set_index("key").loc["closure_rate", "target"]
    if side:
        svg = charts.rate_bars(list(d["name"]), list(d["closure_rate"]), target,
                               tags=[static_map.SHORT.get(c, "") for c in d["color"]],
                               colors=[WARNING_COLORS.get(c, WARNING_COLORS["none"]) for c in d["color"]],
                               title="办结率（柱色为预警等级）", width_in=(pdf.epw - width - 5) / 25.4)
        pdf.svg(svg, MARGIN + width + 5, top, pdf.epw - width - 5)
    pdf.set_y(top)
    pdf.data_table(t, width=width)


def _block_mm(rows: int, head_mm: float) -> float:
    """Height a table of ``rows`` with a side chart needs, so the pair is not split by a page break."""
    chart = charts.rate_bars_height_in(rows) * 25.4 if rows <= SIDE_CHART_ROWS else 0
    return head_mm + max((rows + 1) * 6.6, chart) if rows <= SIDE_CHART_ROWS else 60


def _warnings(pdf: SnapshotPDF) -> None:
    t = pdf.snap.tables["warnings"]
    pdf.section_title("红橙预警清单", min_space=50)
    pdf.note(t.note)
    if t.data.empty:
        pdf.note("本期无红色、橙色预警单位。", size=9.5)
        return
    pdf.data_table(t)


def _overdue(pdf: SnapshotPDF) -> None:
    s = pdf.snap
    t = s.tables["overdue"]
    pdf.section_title("超期未办结事件", min_space=50)
    more = f"此处列出前 {PDF_OVERDUE_ROWS} 件，完整清单见 Excel 导出。" if len(t.data) > PDF_OVERDUE_ROWS else ""
    pdf.note(t.note + more)
    pdf.data_table(t, max_rows=PDF_OVERDUE_ROWS, font_size=8)


def _sanling(pdf: SnapshotPDF) -> None:
    s = pdf.snap
    t = s.tables["sanling"]
    pdf.section_title("“三零”创建未达标主体", min_space=50)
    kpis = s.tables["kpis"].data.set_index("key")
    y = pdf.get_y()
    boxes = [(r.kind_label, r.compliant, r.judged, r.compliance_rate,
              kpis.loc["village_compliance" if r.kind == "village" else "enterprise_compliance", "target"])
             for r in s.sanling.itertuples()]
    w = 88.0
    for i, (lab, ok, n, rate, target) in enumerate(boxes):
        x = MARGIN + i * (w + 6)
        with pdf.local_context(draw_color=RULE, line_width=0.3, fill_color=(248, 250, 252)):
            pdf.rect(x, y, w, 15, style="DF")
        pdf.set_xy(x + 3, y + 1.5)
        with pdf.local_context(font_size_pt=9, text_color=MUTED):
            pdf.cell(w - 6, 5, f"{lab}“三零”达标率（目标 ≥{pct(target, 0)}）")
        pdf.set_xy(x + 3, y + 7)
        verdict = "—" if _nan(rate) else ("达标" if rate >= target else "未达标")
        with pdf.local_context(font_size_pt=11.5, text_color=INK):
            pdf.cell(w - 6, 6.5, f"{pct(rate)}  （{num(ok)} / {num(n)}）  {verdict}")
    pdf.set_y(y + 19)
    more = f"此处列出前 {PDF_SANLING_ROWS} 个，完整清单见 Excel 导出。" if len(t.data) > PDF_SANLING_ROWS else ""
    month = s.sanling["month"].iat[0] if s.sanling is not None and len(s.sanling) else None
    pdf.note(f"{month or '本期'} 研判未达标的创建主体共 {len(t.data):,} 个。" + more)
    if t.data.empty:
        return
    pdf.data_table(t, max_rows=PDF_SANLING_ROWS, font_size=8)


def _patrol(pdf: SnapshotPDF) -> None:
    s = pdf.snap
    t = s.tables["patrol"]
    pdf.section_title("巡逻覆盖", min_space=_block_mm(len(t.data), 30))
    pdf.note(t.note)
    d = t.data
    target = s.tables["kpis"].data.set_index("key").loc["patrol_coverage", "target"]
    with pdf.local_context(font_size_pt=11, text_color=INK):
        cov = s.patrol["coverage"]
        verdict = "" if _nan(cov) else ("（达标）" if cov >= target else "（未达标）")
        pdf.cell(0, 7, f"本单位网格巡逻覆盖率：{pct(cov)}{verdict}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if d.empty:
        return
    top = pdf.get_y() + 1
    side = len(d) <= SIDE_CHART_ROWS
    width = 120 if side else pdf.epw
    if side:
        svg = charts.rate_bars(list(d["name"]), list(d["coverage"]), target,
                               title="网格巡逻覆盖率", width_in=(pdf.epw - width - 6) / 25.4)
        pdf.svg(svg, MARGIN + width + 6, top, pdf.epw - width - 6)
    pdf.set_y(top)
    pdf.data_table(t, width=width)


def render_pdf(snap: Snapshot) -> bytes:
    """The PDF bytes of ``snap`` (cover, then the chosen sections)."""
    pdf = SnapshotPDF(snap)
    _cover(pdf)
    if snap.has("kpis") or snap.has("gauges"):
        _kpi_page(pdf)
    if snap.has("map") and snap.geo is not None:
        _map_page(pdf)
    if snap.has("trend"):
        _trend_page(pdf)
    if snap.has("ranking"):
        _ranking(pdf)
    if snap.has("warnings"):
        _warnings(pdf)
    if snap.has("overdue"):
        _overdue(pdf)
    if snap.has("sanling"):
        _sanling(pdf)
    if snap.has("patrol"):
        _patrol(pdf)
    return bytes(pdf.output())


__all__ = ["SnapshotPDF", "format_value", "render_pdf"]
