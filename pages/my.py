"""我的指标: a staff user's home — their unit against targets and peers, its warning, and its to-do list."""

import streamlit as st

from common.fmt import listed, num, pct
from components import charts
from components.alert_list import alert_list
from components.context import page_start
from components.data import query, target_values
from components.device import is_phone
from components.kpi import Tile, kpi_tiles
from components.metrics import metric_table, metric_tile
from components.todo_cards import todo_cards
from components.unit_card import unit_card
from components.workday_note import workday_note

ctx = page_start("我的指标", "my")

k = query("event_kpis", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of)
peer = query("peer_benchmark", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of)
targets = target_values(ctx.db)
kpi_tiles([
    metric_tile("reported", k),
    metric_tile("closure_rate", k, f"目标 ≥{pct(targets['closure_rate'], 0)} · "
                f"同级平均 {pct(peer['peer_avg_closure_rate'])}",
                "kpi-good" if k["closure_rate"] >= targets["closure_rate"] else "kpi-bad"),
    Tile("rank", "同级排名", f"{peer['rank'] or '—'}/{peer['peers']}", "", "按办结率"),
    metric_tile("overdue_open", k, "本期上报的事件中", "kpi-bad" if k["overdue_open"] else "kpi-good"),
])
alert_list(query("unit_alerts", ctx.scope, ctx.unit.code), ctx.period.token)
left, right = st.columns([1.1, 1])
with left:
    unit_card(query("unit_info", ctx.scope, ctx.unit.code), k,
              query("unit_warning", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of),
              query("sanling_compliance", ctx.scope, ctx.unit.code, ctx.period.token))
    monthly = query("event_monthly", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of)
    charts.lines(monthly, "month", {"closure_rate": "办结率"}, title="近12个月办结率", height=240, percent=True,
                 target=targets["closure_rate"], key="my_monthly")
    st.markdown("**全部指标（指标目录）**")
    metric_table(query("metric_values", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of), targets)
with right:
    st.markdown("### 待办事项")
    od = query("overdue", ctx.scope, ctx.unit.code, as_of=ctx.as_of)
    soon = query("due_soon", ctx.scope, ctx.unit.code, as_of=ctx.as_of)
    counts = query("todo_counts", ctx.scope, ctx.unit.code, as_of=ctx.as_of)
    workday_note(ctx.as_of, *od["deadline"], *soon["deadline"])
    bad = query("noncompliant_subjects", ctx.scope, ctx.unit.code, ctx.period.token)
    cells = query("uncovered_cells", ctx.scope, ctx.unit.code, ctx.period.token)
    link = lambda code: f"/map?unit={code}&period={ctx.period.token}"  # noqa: E731
    phone = is_phone()  # a phone gets cards (what, where, how late, a way to the map), not wide tables
    with st.expander(f"超期未办结事件（全部，不限上报时间）{num(counts['overdue_open'])} 件"
                     f"{listed(len(od), counts['overdue_open'], '超期最久')}", expanded=True):
        if phone:
            todo_cards(od, title="title", place="area_name", testid="todo-overdue",
                       note=lambda r: f"超期 {r['workdays_over']} 个工作日 · {r['status_label']}",
                       link=lambda r: link(r["unit_code"]))
        else:
            st.dataframe(od.assign(地图=[link(c) for c in od["unit_code"]])[  # what to act on first, id last
                ["title", "area_name", "workdays_over", "status_label", "地图", "deadline", "id"]].rename(columns={
                    "id": "编号", "title": "事件", "area_name": "位置", "status_label": "状态",
                    "deadline": "办结时限", "workdays_over": "超期(工作日)"}), hide_index=True,
                column_config={"地图": st.column_config.LinkColumn("地图", display_text="查看")})
    more = listed(len(soon), counts["due_soon"], "最早到期")
    with st.expander(f"即将超期（2个工作日内） {num(counts['due_soon'])} 件{more}", expanded=phone and len(soon) > 0):
        if phone:
            todo_cards(soon, title="title", place="area_name", testid="todo-due-soon",
                       note=lambda r: f"剩余 {r['workdays_left']} 个工作日", link=lambda r: link(r["unit_code"]))
        else:
            st.dataframe(soon[["id", "title", "area_name", "deadline", "workdays_left"]].rename(columns={
                "id": "编号", "title": "事件", "area_name": "位置", "deadline": "办结时限",
                "workdays_left": "剩余工作日"}), hide_index=True)
    with st.expander(f"“三零”未达标主体 {len(bad)} 个"):
        if phone:
            todo_cards(bad, title="name", place="department", testid="todo-sanling",
                       note=lambda r: f"{r['type_label']} · 未达标：{r['broke']}",
                       link=lambda r: link(r.get("unit_code") or ctx.unit.code))
        else:
            st.dataframe(bad[["name", "type_label", "department", "broke", "note"]].rename(columns={
                "name": "主体", "type_label": "类型", "department": "主管部门", "broke": "未达标项", "note": "说明"}),
                hide_index=True)
    with st.expander(f"本期未巡逻网格 {len(cells)} 个"):
        if phone:
            todo_cards(cells, title="name", place=None, testid="todo-cells", note=lambda r: f"网格 {r['code']}",
                       link=lambda r: link(r["code"]))
        else:
            st.dataframe(cells.assign(地图=[link(c) for c in cells["code"]])[["code", "name", "地图"]].rename(
                columns={"code": "编码", "name": "网格"}), hide_index=True,
                column_config={"地图": st.column_config.LinkColumn("地图", display_text="查看")})
