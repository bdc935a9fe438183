"""巡逻防控: coverage per grid cell, 一日双巡, the three-minute patrol circle, teams, cameras."""

import pydeck as pdk
import streamlit as st
from shapely.geometry import mapping

from common.fmt import num, pct
from components.context import page_start
from components.data import current_version, query
from components.grid_map import fit_view, map_features
from components.kpi import Tile, kpi_tiles
from components.metrics import metric_tile
from components.tables import table

ctx = page_start("巡逻防控", "patrol")
speed = st.sidebar.slider("巡逻车速 (km/h)", 10, 60, 30, 5, key="patrol_speed")

cov = query("patrol_coverage", ctx.scope, ctx.unit.code, ctx.period.token)
twice = query("double_patrol", ctx.scope, ctx.unit.code, ctx.period.token)
circle = query("three_minute_circle", ctx.scope, ctx.unit.code, speed_kmh=float(speed))
kpi_tiles([
    metric_tile("patrol_coverage", cov, f"{num(cov['covered'])}/{num(cov['cells'])} 个网格"),
    metric_tile("double_patrol", twice, "网格·日 中巡逻≥2次的比例"),
    Tile("circle_area", "三分钟巡逻圈·面积", pct(circle["area_share"]), "", f"半径 {circle['radius_m']:.0f} 米"),
    Tile("circle_pop", "三分钟巡逻圈·人口", pct(circle["population_share"]), "",
         f"楼栋 {pct(circle['building_share'])} · 岗点 {circle['posts']} 个"),
])

kids = query("coverage_by_child", ctx.scope, ctx.unit.code, ctx.period.token)
left, right = st.columns([1.6, 1])
with left:
    feats = map_features(ctx.db, (ctx.scope.unit_code, ctx.scope.level), ctx.unit.code, current_version(ctx.db))
    covered = dict(zip(kids["code"], kids["coverage"]))
    for f in feats["children"]["features"]:
        c = covered.get(f["properties"]["code"])
        f["properties"]["fill"] = [255, 82, 82, 190] if not c else [30, 136, 229, int(60 + 150 * c)]
    layers = [pdk.Layer("GeoJsonLayer", feats["children"], id="cells", filled=True, stroked=True, pickable=True,
                        get_fill_color="properties.fill", get_line_color=[210, 232, 255], line_width_min_pixels=1)]
    if not circle["circle"].is_empty:
        layers.append(pdk.Layer("GeoJsonLayer", mapping(circle["circle"]), id="circle", filled=True,
                                get_fill_color=[105, 240, 174, 60], get_line_color=[105, 240, 174],
                                line_width_min_pixels=1))
    st.pydeck_chart(pdk.Deck(layers=layers, initial_view_state=fit_view(feats["bounds"], 900, 560),
                             map_provider=None, tooltip={"text": "{name}"}), height=560, key="patrol_map")
    st.caption("红色：本期无巡逻轨迹的网格；蓝色深浅：网格覆盖率；绿色：三分钟巡逻圈")
with right:
    st.subheader("下级单位覆盖率")
    table(kids.assign(coverage=kids["coverage"].map(pct))[["code", "name", "cells", "covered_cells", "coverage"]]
          .rename(columns={"code": "编码", "name": "单位", "cells": "网格数", "covered_cells": "已巡网格",
                           "coverage": "覆盖率"}), "巡逻覆盖率", "patrol_cov", links={"编码": "map"})
    st.subheader("巡逻队伍")
    teams = query("team_stats", ctx.scope, ctx.unit.code, ctx.period.token)
    table(teams[["label", "teams", "patrols", "hours", "km"]].rename(columns={
        "label": "队伍类型", "teams": "队伍数", "patrols": "巡逻次数", "hours": "巡逻时长(小时)", "km": "里程(公里)"}),
        "巡逻队伍", "patrol_teams")
    st.subheader("视频监控在线率")
    cams = query("camera_by_child", ctx.scope, ctx.unit.code)
    table(cams.assign(online_rate=cams["online_rate"].map(pct)).rename(columns={
        "code": "编码", "name": "单位", "cameras": "摄像头", "online": "在线", "online_rate": "在线率"}),
        "视频在线率", "patrol_cams", links={"编码": "map"})
