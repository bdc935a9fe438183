"""矛盾调解 · 信访 · 治安 · 安全: disputes, petitions (YoY), criminal cases (YoY, zero-case streaks), inspections."""

import streamlit as st

from common.fmt import num, pct
from components import charts
from components.context import page_start
from components.data import query
from components.kpi import Tile, kpi_tiles
from components.metrics import metric_tile
from components.tables import table

ctx = page_start("矛盾调解 · 信访 · 治安 · 安全", "mediation")

med = query("mediation_stats", ctx.scope, ctx.unit.code, ctx.period.token)
pet = query("petition_stats", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of)
cas = query("criminal_case_stats", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of)
ins = query("inspections", ctx.scope, ctx.unit.code, ctx.period.token)
yoy = lambda v: "同比 —" if v != v else f"同比 {v * 100:+.1f}%"  # noqa: E731
kpi_tiles([
    Tile("disputes", "矛盾纠纷受理", num(med["received"]), "件", f"调解成功 {num(med['settled'])} 件"),
    metric_tile("mediation_success", med, f"在调 {num(med['open'])} 件"),
    metric_tile("petitions", pet, yoy(pet["yoy"])),
    Tile("visit_persons", "来访人次", num(pet["visit_persons"]), "人",
         f"{num(pet['visits'])} 批次 · 网上 {num(pet['online'])}"),
    metric_tile("criminal_cases", cas, yoy(cas["yoy"])),
    Tile("hazards", "安全隐患整改", f"{num(ins['hazards_rectified'])}/{num(ins['hazards_found'])}", "",
         f"检查 {num(ins['inspections'])} 家次"),
], columns=6)

c1, c2 = st.columns(2)
with c1:
    st.subheader("矛盾纠纷（按类型）")
    by = query("mediation_by_type", ctx.scope, ctx.unit.code, ctx.period.token)
    charts.bars(by, "label", {"settled": "调解成功", "failed": "调解未成", "mediating": "调解中"}, height=260,
                key="med_types")
    table(by.assign(success_rate=by["success_rate"].map(pct))[["label", "screened", "mediating", "settled", "failed",
                                                               "success_rate"]].rename(columns={
        "label": "类型", "screened": "已排查", "mediating": "调解中", "settled": "调解成功", "failed": "调解未成",
        "success_rate": "成功率"}), "矛盾调解", "med_types_t")
with c2:
    st.subheader("信访（近12个月，含同比）")
    pm = query("petition_monthly", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of)
    charts.lines(pm, "month", {"total": "本年", "total_prev_year": "上年同期"}, height=260, key="pet_monthly")
    today = ctx.as_of
    if len(pm) and pm["month"].iloc[-1] == f"{today:%Y-%m}":
        st.caption(f"{today.month}月统计至{today.day}日，上年同期统计至同一日期。")
    table(pm.assign(yoy=pm["yoy"].map(lambda v: "—" if v != v else f"{v * 100:+.1f}%")).rename(columns={
        "month": "月份", "total": "总量", "visits": "来访批次", "persons": "来访人次", "online": "网上信访",
        "letters": "来信", "total_prev_year": "上年同期", "yoy": "同比"}), "信访月度", "pet_t")

st.subheader("治安：刑事案件同比与“零发案”天数")
cs = query("case_stats", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of)
table(cs.assign(yoy=cs["yoy"].map(lambda v: "—" if v != v else f"{v * 100:+.1f}%")).rename(columns={
    "code": "编码", "name": "单位", "cases": "本期案件", "cases_prev_year": "上年同期", "yoy": "同比",
    "zero_case_days": "连续零发案(天)"}), "刑事案件", "cases_t", links={"编码": "map"})
