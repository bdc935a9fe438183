"""一屏统揽: the district at a glance — the command-center wall (default page)."""

from dataclasses import replace
from datetime import datetime

import streamlit as st

from common import settings
from common.fmt import num, pct
from common.markup import h
from components import header
from components.auth import recheck
from components.context import page_context
from components.data import target_values
from components.gauge import gauge
from components.grid_map import grid_map
from components.live import database_or_wait, last_good, stale_copies, steady_screen, waiting_message
from components.mix import category_donut
from components.overview_data import load_overview
from components.ranking_list import ranking_list
from components.theme import panel_title, wall_css
from components.ticker import ticker
from components.trend import trend_chart
from components.wall_tiles import wall_tiles
from data_access import DatabaseUnavailableError

ALERT_LEVELS = {"red": "红色", "orange": "橙色"}
TITLE = settings.get("WALL_TITLE")


def _int_param(name: str, default: int, lo: int, hi: int) -> int:
    raw = st.query_params.get(name)
    try:
        return min(hi, max(lo, int(raw))) if raw is not None else default
    except ValueError:
        st.warning(f"参数 {name} 应为整数秒，已使用默认值 {default}")
        return default


kiosk = st.query_params.get("kiosk") == "1"
refresh_s = _int_param("refresh", 30, 5, 3600)
rotate_s = _int_param("rotate", 0, 0, 3600)
wall_css(kiosk)
if kiosk:
    steady_screen()
with database_or_wait():  # a wall started during an outage waits on 等待数据连接 and comes up by itself
    ctx = page_context()
    targets = target_values(ctx.db)


def wall_body() -> None:
    recheck(ctx.engine)  # these reruns skip app.py's gate: a revoked or expired session ends here
    now = datetime.now()  # the wall's clock, read once per refresh (the fragment does not rerun page_context)
    run = replace(ctx, as_of=now.replace(second=0, microsecond=0))
    shown = stale_copies()  # every last good copy this refresh falls back on: the figures', the map's
    data, _ = last_good(f"overview:{ctx.unit.code}:{ctx.period.token}",
                        lambda: load_overview(run.scope, run.unit, run.period, run.as_of))
    c1, c2, c3 = st.columns([1.05, 1.9, 1.05], vertical_alignment="center")
    with c1:
        header.clock()
    with c2:
        header.title(TITLE.format(unit=ctx.unit.name))

    left, center, right = st.columns([1.05, 1.9, 1.05])
    with left:
        wall_tiles(data, targets)
        panel_title("每日上报与办结")
        trend_chart(data["trend"])
    with center:
        kids = data["children"]
        focus = None
        if rotate_s and not kids.empty:
            focus = kids.iloc[int(now.timestamp() // rotate_s) % len(kids)]
        # the sidebar takes ≈ 300 px of a 1920 screen outside kiosk mode: fit the district to what is left
        clicked = grid_map(run, height=850, key="overview_map", width_hint=900 if kiosk else 740)
        if clicked and clicked != ctx.unit.code:  # drill down on the wall too
            st.query_params["unit"] = clicked
            st.rerun()
        if focus is not None:
            st.html(f'<div class="screen-meta" data-testid="focus">聚焦：<b>{h(focus["name"])}</b>　上报 '
                    f'{num(focus["reported"])} 件　办结率 {pct(focus["closure_rate"])}　'
                    f'超期 {num(focus["overdue"])} 件</div>')
        open_alerts = data["alerts"].itertuples() if "alerts" in data else ()
        alert_items = [f'【{ALERT_LEVELS.get(r.level, "")}告警】{r.message}' for r in open_alerts]
        items = alert_items + [f'{r.reported_at:%m-%d %H:%M} {r.area_name}{r.unit_name} {r.title}（{r.status_label}）'
                               for r in data["key_events"].itertuples()]
        ticker(items, "告警·重点哨" if alert_items else "最新重点哨")
        if data.get("calendar_note"):
            st.html(f'<div class="screen-meta fresh-amber" data-testid="calendar-note">⚠ '
                    f'{h(data["calendar_note"])}</div>')
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
    with c3:  # drawn last, so the marker also covers a failure after the figures loaded (the map's)
        text, cls = header.freshness(data["latest"], now)
        header.meta_line(ctx.period.label, text, cls,
                         f"数据连接中断 · 显示 {shown.since:%H:%M} 的数据" if shown.since else "")
        if data.get("sources") is not None and not shown.since:
            st.html(header.source_line(data["sources"]))  # per source, each in its colour; stopped ones named


@st.fragment(run_every=min(refresh_s, rotate_s) if rotate_s else refresh_s)
def wall() -> None:
    try:
        wall_body()
    except DatabaseUnavailableError:  # an outage and no good figures yet (last_good): wait, retried each refresh
        waiting_message(refresh_s)


wall()
