"""一屏统揽: the district at a glance — the command-center wall (default page)."""

import os
import time

import streamlit as st

from common.fmt import num, pct
from components import header
from components.auth import recheck
from components.context import page_context
from components.data import target_values
from components.gauge import gauge
from components.grid_map import grid_map
from components.live import last_good
from components.mix import category_donut
from components.overview_data import load_overview
from components.ranking_list import ranking_list
from components.theme import panel_title, wall_css
from components.ticker import ticker
from components.trend import trend_chart
from components.wall_tiles import wall_tiles

TITLE = os.environ.get("WALL_TITLE", "{unit}“三零”创建一屏统揽")


def _int_param(name: str, default: int, lo: int, hi: int) -> int:
    raw = st.query_params.get(name)
    try:
        return min(hi, max(lo, int(raw))) if raw is not None else default
    except ValueError:
        st.warning(f"参数 {name} 应为整数秒，已使用默认值 {default}")
        return default


ctx = page_context()
kiosk = st.query_params.get("kiosk") == "1"
refresh_s = _int_param("refresh", 30, 5, 3600)
rotate_s = _int_param("rotate", 0, 0, 3600)
wall_css(kiosk)
targets = target_values(ctx.db)


@st.fragment(run_every=min(refresh_s, rotate_s) if rotate_s else refresh_s)
def wall() -> None:
    recheck(ctx.engine)  # these reruns skip app.py's gate: a revoked or expired session ends here
    data, stale_at = last_good(f"overview:{ctx.unit.code}:{ctx.period.token}",
                               lambda: load_overview(ctx.scope, ctx.unit, ctx.period))
    c1, c2, c3 = st.columns([1.05, 1.9, 1.05], vertical_alignment="center")
    with c1:
        header.clock()
    with c2:
        header.title(TITLE.format(unit=ctx.unit.name))
    with c3:
        text, cls = header.freshness(data["latest"])
        header.meta_line(ctx.period.label, text, cls,
                         f"数据连接中断 · 显示 {stale_at:%H:%M} 的数据" if stale_at else "")

    left, center, right = st.columns([1.05, 1.9, 1.05])
    with left:
        wall_tiles(data, targets)
        panel_title("每日上报与办结")
        trend_chart(data["trend"])
    with center:
        kids = data["children"]
        focus = None
        if rotate_s and not kids.empty:
            focus = kids.iloc[int(time.time() // rotate_s) % len(kids)]
        # the sidebar takes ≈ 300 px of a 1920 screen outside kiosk mode: fit the district to what is left
        clicked = grid_map(ctx, height=850, key="overview_map", width_hint=900 if kiosk else 740)
        if clicked and clicked != ctx.unit.code:  # drill down on the wall too
            st.query_params["unit"] = clicked
            st.rerun()
        if focus is not None:
            st.html(f'<div class="screen-meta" data-testid="focus">聚焦：<b>{focus["name"]}</b>　上报 '
                    f'{num(focus["reported"])} 件　办结率 {pct(focus["closure_rate"])}　'
                    f'超期 {num(focus["overdue"])} 件</div>')
        items = [f'{r.reported_at:%m-%d %H:%M} {r.area_name}{r.unit_name} {r.title}（{r.status_label}）'
                 for r in data["key_events"].itertuples()]
        ticker(items)
    with right:
        src = data["by_source"].set_index("code")["closure_rate"]
        key_rate = data["by_whistle"].set_index("code")["closure_rate"].get("key")
        g1, g2 = st.columns(2)
        with g1:
            gauge(data["kpi"]["closure_rate"], "总体办结率", targets["closure_rate"], key="g_all")
            gauge(src.get("app"), "群众APP", targets["closure_rate_app"], key="g_app")
        with g2:
            gauge(src.get("grid"), "网格员上报", targets["closure_rate_grid"], key="g_grid")
            gauge(key_rate, "重点哨", targets["closure_rate_key"], key="g_key")
        panel_title(f"{'街道' if ctx.unit.level == 0 else '下级单位'}办结率排名")
        ranked = kids.sort_values(["closure_rate", "reported"], ascending=[False, False])
        ranking_list(ranked, "closure_rate", pct, max_rows=12)
        panel_title("事件类别构成")
        category_donut(data["by_category"])


wall()
