"""一屏统揽: the district at a glance — the command-center wall (default page)."""

from datetime import datetime

import streamlit as st

from common import settings
from components import header
from components.auth import recheck
from components.context import page_context
from components.data import current_version, scope_key
from components.live import database_or_wait, last_good, stale_copies, steady_screen, waiting_message
from components.theme import panel_title, wall_css
from components.wall_render import calendar_years, focus_line, in_background, wall_map, wall_parts
from data_access import DatabaseUnavailableError

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


def _link_params() -> tuple[tuple[str, str], ...]:
    """The URL parameters a map click keeps (kiosk, period, refresh, rotate, …); ``unit`` is replaced."""
    return tuple(sorted((k, v) for k, v in st.query_params.to_dict().items() if k != "unit"))


def wall_body() -> None:
    recheck(ctx.engine)  # these reruns skip app.py's gate: a revoked or expired session ends here
    now = datetime.now()  # the wall's clock, read once per refresh (the fragment does not rerun page_context)
    as_of = now.replace(second=0, microsecond=0)
    shown = stale_copies()  # every last good copy this refresh falls back on: the figures', the map's
    view = (ctx.db, scope_key(ctx.scope), ctx.unit.code, ctx.period.token, as_of)
    version, _ = last_good("data_version", lambda: current_version(ctx.db))  # one version for the whole refresh
    kids_hint = st.session_state.get("_wall_kids") or ()
    focus_hint = kids_hint[int(now.timestamp() // rotate_s) % len(kids_hint)][0] if rotate_s and kids_hint else None
    map_args = (*view, version, focus_hint, _link_params(), 900 if kiosk else 740, 850)
    in_background(wall_map, *map_args)  # the map's queries run beside the figures' (SQLite/PostgreSQL wait, not CPU)
    parts, _ = last_good(f"overview:{ctx.unit.code}:{ctx.period.token}",
                         lambda: wall_parts(*view, version, calendar_years()))
    st.session_state["_wall_kids"] = tuple(parts.children)
    c1, c2, c3 = st.columns([1.05, 1.9, 1.05], vertical_alignment="center")
    with c1:
        header.clock()
    with c2:
        header.title(TITLE.format(unit=ctx.unit.name))

    left, center, right = st.columns([1.05, 1.9, 1.05])
    with left:
        st.html(parts.tiles)
        panel_title("每日上报与办结")
        st.html(parts.trend)
    with center:
        kids = parts.children
        focus = kids[int(now.timestamp() // rotate_s) % len(kids)] if rotate_s and kids else None
        # the sidebar takes ≈ 300 px of a 1920 screen outside kiosk mode: fit the district to what is left
        svg, _ = last_good(f"wall_map:{ctx.unit.code}:{ctx.period.token}",
                           lambda: wall_map(*view, version, focus[0] if focus else None, *map_args[7:]))
        st.html(svg)  # server-rendered SVG: no WebGL on the wall; a click is a link (?unit=…, same tab)
        if focus is not None:
            st.html(focus_line(focus))
        st.html(parts.ticker)
        if parts.calendar:
            st.html(parts.calendar)
    with right:
        g1, g2 = st.columns(2)
        with g1:
            st.html(parts.gauges[0])
            st.html(parts.gauges[1])
        with g2:
            st.html(parts.gauges[2])
            st.html(parts.gauges[3])
        panel_title(parts.ranking_title)
        st.html(parts.ranking)
        panel_title("事件类别构成")
        st.html(parts.donut)
    with c3:  # drawn last, so the marker also covers a failure after the figures loaded (the map's)
        text, cls = header.freshness(parts.latest, now)
        header.meta_line(ctx.period.label, text, cls,
                         f"数据连接中断 · 显示 {shown.since:%H:%M} 的数据" if shown.since else "")
        if parts.sources and not shown.since:
            st.html(parts.sources)  # per source, each in its colour; stopped ones named


@st.fragment(run_every=min(refresh_s, rotate_s) if rotate_s else refresh_s)
def wall() -> None:
    try:
        wall_body()
    except DatabaseUnavailableError:  # an outage and no good figures yet (last_good): wait, retried each refresh
        waiting_message(refresh_s)


wall()
