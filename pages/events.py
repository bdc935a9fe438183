"""事件办结: the closed loop — funnel, stage times, closure by source/category/whistle, deadlines in working days."""

import streamlit as st

from common.fmt import dec, listed, num, pct
from components import charts
from components.context import page_start
from components.data import query
from components.tables import table
from components.workday_note import workday_note

ctx = page_start("事件办结", "events")

f = query("funnel", ctx.scope, ctx.unit.code, ctx.period.token)
c1, c2 = st.columns([1, 1])
with c1:
    st.subheader("闭环漏斗 上报→派单→处置→核查→办结")
    charts.funnel_chart(f, key="events_funnel")
with c2:
    st.subheader("各环节转化与用时")
    table(f.assign(conversion=f["conversion"].map(pct), median_hours=f["median_hours"].map(dec))[
        ["label", "count", "conversion", "median_hours"]].rename(columns={
            "label": "环节", "count": "件数", "conversion": "转化率", "median_hours": "中位用时(小时)"}),
        "闭环漏斗", "events_stage")
    w = query("whistle_stats", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of)
    st.subheader("网格吹哨")
    table(w.assign(closure_rate=w["closure_rate"].map(pct), median_dispatch_hours=w["median_dispatch_hours"].map(dec),
                   median_close_hours=w["median_close_hours"].map(dec))[
        ["label", "reported", "closed", "closure_rate", "median_dispatch_hours", "median_close_hours", "overdue"]]
        .rename(columns={"label": "哨级", "reported": "上报", "closed": "办结", "closure_rate": "办结率",
                         "median_dispatch_hours": "派单用时(时)", "median_close_hours": "办结用时(时)",
                         "overdue": "超期"}), "网格吹哨", "events_whistle")

tabs = st.tabs(["按来源", "按类别"])
for tab, by in zip(tabs, ("source", "category")):
    with tab:
        d = query("closure_by", ctx.scope, ctx.unit.code, ctx.period.token, by=by, as_of=ctx.as_of)
        charts.bars(d, "label", {"closure_rate": "办结率"}, percent=True, height=260, key=f"events_by_{by}")
        table(d[["label", "reported", "closed", "closure_rate", "overdue", "overdue_open"]].assign(
            closure_rate=d["closure_rate"].map(pct)).rename(columns={
                "label": "来源" if by == "source" else "类别", "reported": "上报", "closed": "办结",
                "closure_rate": "办结率", "overdue": "超期", "overdue_open": "超期未办结"}), f"办结率_{by}", f"ev_{by}")

st.subheader("时限管理（按工作日计，含法定节假日与调休）")
days = st.slider("即将超期：剩余工作日不超过", 1, 5, 2, key="events_days")
soon = query("due_soon", ctx.scope, ctx.unit.code, workdays=days, as_of=ctx.as_of)
over = query("overdue", ctx.scope, ctx.unit.code, as_of=ctx.as_of)
counts = query("todo_counts", ctx.scope, ctx.unit.code, workdays=days, as_of=ctx.as_of)
workday_note(ctx.as_of, *soon["deadline"], *over["deadline"])
a, b = st.columns(2)
with a:
    st.markdown(f"**即将超期 {num(counts['due_soon'])} 件{listed(len(soon), counts['due_soon'], '最早到期')}**")
    table(soon[["id", "title", "area_name", "unit_code", "deadline", "workdays_left"]].rename(columns={
        "id": "编号", "title": "事件", "area_name": "位置", "unit_code": "网格", "deadline": "办结时限",
        "workdays_left": "剩余工作日"}), "即将超期", "events_soon", links={"网格": "map"})
with b:
    st.markdown(f"**超期未办结 {num(counts['overdue_open'])} 件（按超期工作日排序"
                f"{listed(len(over), counts['overdue_open'], '超期最久', inner=True)}）**")
    over = over.sort_values("workdays_over", ascending=False)
    table(over[["id", "title", "area_name", "unit_code", "deadline", "workdays_over"]].rename(columns={
        "id": "编号", "title": "事件", "area_name": "位置", "unit_code": "网格", "deadline": "办结时限",
        "workdays_over": "超期工作日"}), "超期未办结", "events_over", links={"网格": "map"})
