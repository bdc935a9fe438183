"""The period selector shared by all pages (本月 / 上月 / 本季度 / 本年 / 自定义), synced to ``?period=``."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from common.markup import md
from data_access.errors import InvalidParameterError
from data_access.filters import MAX_YEAR, MIN_YEAR, Period, month_period, parse_period, quarter_period, year_period

OPTIONS = ["本月", "上月", "本季度", "本年", "自定义"]


def presets(anchor: date) -> dict[str, Period]:
    """The preset periods relative to ``anchor`` (the newest data day)."""
    this = month_period(anchor)
    return {"本月": this, "上月": this.previous(), "本季度": quarter_period(anchor), "本年": year_period(anchor)}


def period_selector(current: Period, anchor: date, key_prefix: str) -> Period:
    """Draw the selector for ``current``; on a change write ``?period=`` and return the new period."""
    pre = presets(anchor)
    chosen = next((name for name, p in pre.items() if p == current), "自定义")
    c1, c2 = st.columns([3, 2])
    with c1:
        name = st.segmented_control("统计时段", OPTIONS, default=chosen, key=f"{key_prefix}_period",
                                    label_visibility="collapsed") or chosen
    if name == "自定义":
        with c2:
            picked = st.date_input("起止日期", value=(current.start, current.end - timedelta(days=1)),
                                   min_value=date(MIN_YEAR, 1, 1), max_value=date(MAX_YEAR, 12, 31),
                                   key=f"{key_prefix}_range", label_visibility="collapsed", format="YYYY-MM-DD")
        new = current
        if isinstance(picked, tuple) and len(picked) == 2 and picked[0] <= picked[1]:
            try:
                new = parse_period(f"{picked[0]:%Y-%m-%d}..{picked[1]:%Y-%m-%d}")
            except InvalidParameterError as exc:  # the widget bounds should prevent it; never a traceback
                st.warning(md(exc))
    else:
        new = pre[name]
    if (new.start, new.end) != (current.start, current.end):  # a real change, not a relabelling
        st.query_params["period"] = new.token
        st.rerun()
    return current
