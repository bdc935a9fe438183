"""网格地图: the four-level grid with four-colour warnings; click to drill down, breadcrumb to go up."""

import streamlit as st

from components.breadcrumb import breadcrumb
from components.context import page_context
from components.data import query
from components.device import is_phone
from components.grid_map import LAYERS, grid_map, legend
from components.period import period_selector
from components.unit_card import children_ranking, unit_card
from data_access.filters import EventFilter
from data_access.vocab import CATEGORIES, SOURCES, WHISTLES

ctx = page_context()
latest = query("latest_event_time", ctx.scope, None)

top1, top2 = st.columns([3, 2])
with top1:
    up = breadcrumb(ctx.crumbs, "map")
with top2:
    period_selector(ctx.period, latest.date() if latest else ctx.period.start, "map")
if up:
    st.query_params["unit"] = up
    st.rerun()

with st.sidebar:
    st.subheader("图层")
    layers = {k for k, label in LAYERS.items()
              if st.checkbox(label, value=k in ("fill", "labels"), key=f"map_layer_{k}")}
    flt = None
    if "events" in layers:
        cats = st.multiselect("事件类别", list(CATEGORIES), format_func=CATEGORIES.get, key="map_cat")
        srcs = st.multiselect("事件来源", list(SOURCES), format_func=SOURCES.get, key="map_src")
        whs = st.multiselect("吹哨级别", list(WHISTLES), format_func=WHISTLES.get, key="map_whistle")
        flt = EventFilter(tuple(cats), tuple(srcs), tuple(whs)) if cats or srcs or whs else None

left, right = st.columns([2.2, 1])
with left:
    phone = is_phone()  # a phone: the map fitted to its width (columns stack there)
    clicked = grid_map(ctx, layers, height=440 if phone else 680, key=f"map_{ctx.unit.code}", flt=flt,
                       width_hint=360 if phone else 1100)
    legend(layers)
with right:
    warning = query("unit_warning", ctx.scope, ctx.unit.code, ctx.period.token, as_of=ctx.as_of)
    unit_card(query("unit_info", ctx.scope, ctx.unit.code), query("event_kpis", ctx.scope, ctx.unit.code,
                                                                   ctx.period.token, as_of=ctx.as_of),
              warning, query("sanling_compliance", ctx.scope, ctx.unit.code, ctx.period.token))
    st.markdown("**下级单位（按预警程度排序）**")
    children_ranking(warning["children"], "map", ctx.period.token)

if clicked and clicked != ctx.unit.code:
    st.query_params["unit"] = clicked
    st.rerun()
