"""一屏统揽: the district at a glance (the big-screen default page)."""

import streamlit as st

from components.context import page_context
from components.data import query, target_values
from components.fmt import change, num, pct
from components.gauge import gauge
from components.kpi import Tile, kpi_tiles

ctx = page_context()
prev = ctx.period.previous()
k = query("event_kpis", ctx.scope, ctx.unit.code, ctx.period.token)
kp = query("event_kpis", ctx.scope, ctx.unit.code, prev.token)
targets = target_values(ctx.db)

st.html(f'<p class="screen-title">{ctx.unit.name}“三零”创建一屏统揽</p>'
        f'<p class="screen-meta" style="text-align:center">统计时段：{ctx.period.label}</p>')

kpi_tiles([
    Tile("reported", "事件上报", num(k["reported"]), "件", f"较上期 {change(k['reported'], kp['reported']) or '—'}"),
    Tile("closed", "事件办结", num(k["closed"]), "件", f"较上期 {change(k['closed'], kp['closed']) or '—'}"),
    Tile("closure_rate", "办结率", pct(k["closure_rate"]), "", f"目标 ≥{pct(targets['closure_rate'], 0)}",
         "kpi-good" if k["closure_rate"] >= targets["closure_rate"] else "kpi-bad"),
    Tile("overdue", "超期件", num(k["overdue"]), "件", f"其中未办结 {num(k['overdue_open'])} 件",
         "kpi-bad" if k["overdue_open"] else "kpi-good"),
])
gauge(k["closure_rate"], "事件办结率", targets["closure_rate"], key="overview_gauge_all")
