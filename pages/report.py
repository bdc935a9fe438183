"""导出报告: a meeting snapshot (PDF / Excel) of a unit and period, bounded by the user's scope."""

from datetime import date

import pandas as pd
import streamlit as st

import reports
from common.markup import md
from components.auth import require_role
from components.bulletin_archive import bulletin_archive
from components.context import page_context
from components.data import query, register
from data_access import vocab
from data_access.filters import month_period, quarter_period, year_period
from data_access.queries import report_data

register("report_units", report_data.report_units, takes_period=False)

user = require_role("leader", "staff", "admin")  # the exporter is the logged-in user, never a stand-in
ctx = page_context()
role = vocab.ROLES.get(user["role"], user["role"])
name = user.get("display_name") or role
who = reports.Exporter(user["username"], ctx.scope, f"{name}（{role}）" if name != role else role)

st.html('<p class="screen-title">导出报告</p><p class="screen-meta" style="text-align:center">'
        "“一月一报告，一月一通报”：单位 × 时段的会议快照（PDF / Excel），仅含本账号可查看的数据</p>")

home = ctx.crumbs[0].code if ctx.crumbs else ctx.unit.code
units = query("report_units", ctx.scope, home)
labels = {r.code: "　" * (r.level - units["level"].min()) + r.name for r in units.itertuples()}
codes = list(labels)
c1, c2 = st.columns([2, 1])
unit_code = c1.selectbox("单位", codes, index=codes.index(ctx.unit.code) if ctx.unit.code in codes else 0,
                         format_func=labels.get, key="report_unit")


def _period_options(latest: date) -> dict[str, str]:
    """token -> label: the last 13 months, the last 4 quarters, the last 2 years (newest first)."""
    out = {}
    for make, freq, n in ((month_period, "M", 13), (quarter_period, "Q", 4), (year_period, "Y", 2)):
        for p in pd.period_range(end=pd.Period(latest, freq=freq), periods=n, freq=freq)[::-1]:
            period = make(p.start_time.date())
            out[period.token] = period.label
    return out


periods = _period_options(ctx.period.start)
tokens = list(periods)
token = c2.selectbox("统计时段", tokens, index=tokens.index(ctx.period.token) if ctx.period.token in tokens else 0,
                     format_func=periods.get, key="report_period")
sections = st.multiselect("报告内容", list(reports.SECTIONS), default=list(reports.SECTIONS),
                          format_func=reports.SECTIONS.get, key="report_sections")
st.caption(f"编制：{md(who.author)} ｜ 封面（单位、时段、编制、本期要点）始终包含；每次导出都会记入审计日志。")

b1, b2, _ = st.columns([1, 1, 6])
make_pdf = b1.button("生成 PDF", type="primary", key="report_make_pdf", disabled=not sections,
                     width="stretch")
make_excel = b2.button("生成 Excel", key="report_make_excel", disabled=not sections, width="stretch")
fmt = "pdf" if make_pdf else "excel" if make_excel else None

if fmt:
    bar = st.progress(0.0, text="准备数据…")
    try:
        data, snap = reports.export(ctx.db, fmt, who, unit_code, token, tuple(sections),
                                    progress=lambda f, msg: bar.progress(min(1.0, f), text=msg), as_of=ctx.as_of)
    except Exception as exc:  # noqa: BLE001 - shown to the user, not swallowed
        bar.empty()
        st.error(f"报告生成失败：{md(exc)}")
    else:
        ext = "pdf" if fmt == "pdf" else "xlsx"
        st.session_state["report_file"] = {
            "data": data, "fmt": fmt, "name": f"{snap.unit.name}_{snap.period.token}_运行通报.{ext}",
            "title": f"{snap.title} · {snap.period.label}",
            "mime": "application/pdf" if fmt == "pdf" else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

done = st.session_state.get("report_file")
if done:
    st.success(f"已生成：{md(done['title'])}（{len(done['data']) / 1024:,.0f} KB）")
    st.download_button("下载 " + ("PDF" if done["fmt"] == "pdf" else "Excel"), done["data"], file_name=done["name"],
                       mime=done["mime"], key="report_download")

bulletin_archive(ctx.scope, user["username"])
