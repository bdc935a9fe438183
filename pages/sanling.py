"""三零创建: subjects by type and department, monthly compliance vs targets, which zero broke where."""

import streamlit as st

from common.fmt import pct
from components import charts
from components.context import page_start
from components.data import query, target_values
from components.kpi import kpi_tiles
from components.metrics import metric_tile
from components.tables import table

ctx = page_start("三零创建", "sanling")
targets = target_values(ctx.db)

now = query("sanling_compliance", ctx.scope, ctx.unit.code, ctx.period.token)
judged = f"{now['month']} 研判" if now["month"] else "尚无研判"
kpi_tiles([metric_tile(f"{kind}_compliance", now, f"{judged} · {now[f'{kind}_compliant']}/{now[f'{kind}_subjects']} 个")
           for kind in ("village", "enterprise")])
monthly = query("compliance_monthly", ctx.scope, ctx.unit.code, ctx.period.token)
c1, c2 = st.columns(2)
for col, kind, target_key, label in ((c1, "village", "village_compliance", "村(社区)"),
                                     (c2, "enterprise", "enterprise_compliance", "企事业单位")):
    with col:
        m = monthly[monthly["kind"] == kind]
        title = f"{label}“三零”达标率（目标 ≥{pct(targets[target_key], 0)}）"
        charts.lines(m, "month", {"rate": f"{label}达标率"}, title=title, percent=True, target=targets[target_key],
                     key=f"sanling_{kind}")

by_type = query("subjects_by_type", ctx.scope, ctx.unit.code, ctx.period.token)
st.subheader("创建主体（按类型与主管部门）")
table(by_type.assign(rate=by_type["rate"].map(pct))[["type_label", "kind_label", "department", "subjects",
                                                     "compliant", "rate"]].rename(columns={
    "type_label": "类型", "kind_label": "类别", "department": "主管部门", "subjects": "主体数", "compliant": "达标",
    "rate": "达标率"}), "三零主体", "sanling_types")

st.subheader("未达标情况（哪一“零”被打破、在哪里）")
broken = query("broken_by_child", ctx.scope, ctx.unit.code, ctx.period.token)
charts.bars(broken, "name", {"petition": "上访", "accident": "事故", "case": "案件"}, height=280, key="sanling_broken")
table(broken.rename(columns={"code": "编码", "name": "单位", "subjects": "主体数", "noncompliant": "未达标",
                             "petition": "上访", "accident": "事故", "case": "案件"}), "未达标分布", "sanling_broken_t",
      links={"编码": "map"})

st.subheader("逐月对比")
table(monthly.assign(rate=monthly["rate"].map(pct))[["month", "kind_label", "subjects", "compliant", "rate",
                                                     "broke_petition", "broke_accident", "broke_case"]].rename(columns={
    "month": "月份", "kind_label": "类别", "subjects": "主体数", "compliant": "达标", "rate": "达标率",
    "broke_petition": "上访", "broke_accident": "事故", "broke_case": "案件"}), "逐月达标", "sanling_mom")

st.subheader("未达标主体名单")
bad = query("noncompliant_subjects", ctx.scope, ctx.unit.code, ctx.period.token)
table(bad[["name", "type_label", "department", "broke", "note", "unit_code"]].rename(columns={
    "name": "主体", "type_label": "类型", "department": "主管部门", "broke": "未达标项", "note": "原因",
    "unit_code": "网格"}), "未达标主体", "sanling_bad", links={"网格": "map"})
