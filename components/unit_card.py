"""The selected unit's card: who and what it is, its figures, its warning colour and why."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from common.colors import WARNING_COLORS
from common.fmt import num, pct
from data_access.vocab import KIND_LABELS, LEVEL_LABELS


def unit_card(info: dict, kpi: dict, warning: dict, sanling: dict | None = None) -> None:
    """``info`` from units.unit_info, ``kpi`` from events.event_kpis, ``warning`` from warnings.unit_warning."""
    color = WARNING_COLORS.get(warning.get("color", "none"), WARNING_COLORS["none"])
    kind = KIND_LABELS.get(info.get("kind", ""), LEVEL_LABELS.get(info.get("level", 0), ""))
    worker = info.get("grid_worker") or "—"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in warning.get("reasons", [])) or "<li>各项指标正常</li>"
    level = info.get("level", 0)
    people = (f'常住人口 {num(info.get("population"))} 人 · {num(info.get("households"))} 户 · '
              f'下辖 {num(info.get("children"))} 个单位')
    cell = '<div><div style="color:#9FC3FF;font-size:12px">{}</div><b data-card="{}">{}</b></div>'
    figures = "".join(cell.format(label, key, value) for label, key, value in (
        ("上报", "reported", num(kpi["reported"])), ("办结", "closed", num(kpi["closed"])),
        ("办结率", "closure_rate", pct(kpi["closure_rate"])), ("超期", "overdue", num(kpi["overdue"]))))
    zeros = ""
    if sanling and sanling.get("month"):
        zeros = (f'<div>三零达标（{html.escape(str(sanling["month"]))}）：村(社区) {pct(sanling["village_rate"])} · '
                 f'企事业 {pct(sanling["enterprise_rate"])}</div>')
    st.html(f"""
<div data-testid="unit-card" style="background:#0E2347;border:1px solid #1F4C8F;border-left:6px solid {color};
 border-radius:6px;padding:10px 14px;color:#E6F0FF;font-size:14px;line-height:1.7">
 <div style="font-size:20px;font-weight:700">{html.escape(info.get("name", ""))}
  <span style="font-size:13px;color:#9FC3FF;margin-left:6px">{html.escape(kind)} · 第{level}级</span></div>
 <div>{people}</div>
 <div>网格员：{html.escape(worker)} {html.escape(info.get("grid_worker_phone") or "")}</div>
 <div style="display:grid;grid-template-columns:repeat(4,1fr);gap:6px;margin:8px 0">{figures}
 </div>
 {zeros}
 <div style="margin-top:6px"><span data-testid="warning-badge" style="background:{color};color:#07142B;padding:2px 10px;
  border-radius:10px;font-weight:700">{html.escape(warning.get("color_label", "正常"))}</span>
  <span style="color:#9FC3FF;margin-left:6px">预警原因</span></div>
 <ul style="margin:4px 0 0 18px;padding:0">{reasons}</ul>
</div>""")


def children_ranking(kids: pd.DataFrame, page: str = "map", period_token: str | None = None) -> None:
    """Children worst-first with colour, figures and a link to each on the map."""
    if kids is None or kids.empty:
        st.caption("无下级单位")
        return
    q = f"&period={period_token}" if period_token else ""
    df = pd.DataFrame({
        "预警": kids["color_label"],
        # the name rides along in the link (an ignored parameter) so the column can display it
        "单位": [f"/{page}?unit={c}{q}&name={n}" for c, n in zip(kids["code"], kids["name"])],
        "上报": kids["reported"], "办结率": kids["closure_rate"] * 100, "超期未办结": kids["overdue_open"],
        "原因": ["；".join(r[:2]) for r in kids["reasons"]],
    })
    st.dataframe(df, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(df)), column_config={
        "单位": st.column_config.LinkColumn("单位", display_text=r"name=(.*)$"),
        "办结率": st.column_config.NumberColumn(format="%.1f%%"),
    }, key="children_table")
