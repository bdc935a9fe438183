"""数据健康 (admin, 数据管理): per event source (网格员上报, 12345热线, …) its newest event and state, as the
wall's freshness line; per feed — API key or pull source — rows per hour over the last 48 h, last
success, last error, lag and rejected rows, so a source that stopped or keeps failing is seen at once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from components import charts
from components.data import db_url, engine, query
from components.header import ago
from data_access.filters import Scope
from data_access.queries.freshness import feed_health, feed_hourly
from data_access.queries.units import home_unit

KIND = {"api": "推送API", "sync": "前置库同步"}


def _lag(seconds: float) -> str:
    return "—" if seconds != seconds else ago(seconds / 60).replace("前", "")


def health_table(feeds: pd.DataFrame) -> pd.DataFrame:
    """The feeds as the page shows them (Chinese columns, lag in words, 状态 first)."""
    if feeds.empty:
        return pd.DataFrame(columns=["状态", "数据源", "方式", "最新数据", "延迟", "最近成功", "最近错误时间",
                                     "最近错误", "累计导入", "累计拒绝"])
    fmt = lambda s: s.dt.strftime("%Y-%m-%d %H:%M").fillna("—")  # noqa: E731
    return pd.DataFrame({
        "状态": feeds["failing"].map({True: "⚠ 出错", False: "正常"}),
        "数据源": feeds["name"], "方式": feeds["kind"].map(KIND).fillna(feeds["kind"]),
        "最新数据": fmt(feeds["last_event_at"]), "延迟": feeds["lag_s"].map(_lag),
        "最近成功": fmt(feeds["last_success_at"]), "最近错误时间": fmt(feeds["last_error_at"]),
        "最近错误": feeds["last_error"].fillna(""), "累计导入": feeds["imported"], "累计拒绝": feeds["rejected"]})


STATE = {"ok": "正常", "amber": "偏旧"}


def source_table(src: pd.DataFrame) -> pd.DataFrame:
    """:func:`~data_access.queries.freshness.source_freshness` as the page shows it: 状态, 来源, 最新事件, 距今."""
    state = [STATE.get(lv, "已停止" if stopped else "无数据") for lv, stopped in zip(src["level"], src["stopped"])]
    latest = pd.to_datetime(src["latest"])
    return pd.DataFrame({"状态": state, "来源": src["label"],
                         "最新事件": latest.dt.strftime("%Y-%m-%d %H:%M").fillna("—"),
                         "距今": [ago(a) if a == a and a is not None else "—" for a in src["age_min"]]})


def data_health(now: datetime, scope: Scope) -> None:
    st.subheader("数据健康")
    eng = engine(db_url())
    src = query("source_freshness", scope, home_unit(eng, scope).code, as_of=now)
    st.caption("按事件来源（与大屏的数据新鲜度一致；阈值见 config/freshness.toml）")
    st.dataframe(source_table(src), hide_index=True, key="health_sources")
    feeds = feed_health(eng, as_of=now)
    if feeds.empty:
        st.caption("尚无推送或同步的数据源（见 README：API 密钥与 sync 配置）")
        return
    st.caption("按接入通道（推送API、前置库同步）")
    st.dataframe(health_table(feeds), hide_index=True, key="health_table")
    hourly = feed_hourly(eng, as_of=now, hours=48)
    hours = pd.date_range((now - timedelta(hours=47)).replace(minute=0, second=0, microsecond=0), periods=48, freq="h")
    wide = (hourly.pivot_table(index="hour", columns="feed", values="imported", aggfunc="sum")
            .reindex(hours, fill_value=0).fillna(0).rename_axis("hour").reset_index()) if not hourly.empty else \
        pd.DataFrame({"hour": hours})
    names = [c for c in wide.columns if c != "hour"]
    charts.bars(wide, "hour", {n: n for n in names}, title="每小时导入行数（近48小时）", key="health_hourly")
