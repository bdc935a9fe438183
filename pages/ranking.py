"""考评排名: children of the selected unit ranked on the configurable score, with the change vs last period."""

import streamlit as st

from common.fmt import pct
from components import charts
from components.context import page_start
from components.data import query
from components.tables import table
from data_access.queries.ranking import load_indicators

ctx = page_start("考评排名", "ranking")
ind = load_indicators()
better = {"higher": "越高越好", "lower": "越低越好"}
st.caption("得分 = 各指标在参评单位中的相对分（最好 100、最差 0）按权重加权：" +
           "，".join(f"{i['label']} {float(i['weight']) * 100:.0f}%（{better[i['better']]}）" for i in ind) +
           "。权重见 config/ranking.toml。")
r = query("ranking", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of)
missing = [i["label"] for i in ind if len(r) and r[i["metric"]].isna().all()]
if missing:
    st.info(f"本期尚无“{'、'.join(missing)}”数据（如三零创建于月末研判），得分按其余指标权重折算。")
charts.bars(r, "name", {"score": "得分"}, height=280, key="ranking_bars")
arrow = lambda v: "—" if v != v else ("↑" if v > 0 else "↓" if v < 0 else "→") + (f"{abs(int(v))}" if v else "")  # noqa: E731
shown = r.assign(rank_change=r["rank_change"].map(arrow), closure_rate=r["closure_rate"].map(pct),
                 overdue_share=r["overdue_share"].map(pct), compliance=r["compliance"].map(pct),
                 patrol_coverage=r["patrol_coverage"].map(pct), petitions_per_10k=r["petitions_per_10k"].round(2))
table(shown[["rank", "code", "name", "score", "rank_change", "closure_rate", "overdue_share", "compliance",
             "patrol_coverage", "petitions_per_10k"]].rename(columns={
    "rank": "名次", "code": "编码", "name": "单位", "score": "得分", "rank_change": "较上期", "closure_rate": "办结率",
    "overdue_share": "超期率", "compliance": "三零达标率", "patrol_coverage": "巡逻覆盖率",
    "petitions_per_10k": "万人信访量"}), "考评排名", "ranking_t", links={"编码": "map"})
