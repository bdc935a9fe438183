"""Daily reported vs closed trend for the wall (server-rendered SVG)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import streamlit as st

from .svg_charts import trend_svg


@st.cache_data(ttl=3600, show_spinner=False, max_entries=200)
def _trend(days: tuple, reported: tuple, closed: tuple, h_in: float, partial: str | None) -> str:
    return trend_svg(pd.to_datetime(list(days)), reported, closed, h_in=h_in, partial=partial)


def partial_label(last_day: date, as_of: datetime | None) -> str | None:
    """'今日截至 07:11' when the series ends on ``as_of``'s day (that day's counts are still growing)."""
    if as_of is None or last_day != as_of.date():
        return None
    return f"今日截至 {as_of:%H:%M}"


def trend_html(df: pd.DataFrame, height_in: float = 3.4, as_of: datetime | None = None) -> str:
    """``df`` columns day, reported, closed (data_access.queries.events.event_trend) up to ``as_of``; ""
    when empty."""
    if df is None or df.empty:
        return ""
    partial = partial_label(pd.Timestamp(df["day"].iloc[-1]).date(), as_of)
    svg = _trend(tuple(df["day"].astype(str)), tuple(df["reported"].tolist()), tuple(df["closed"].tolist()), height_in,
                 partial)
    return f'<div class="chart" data-chart="trend" data-partial="{"1" if partial else "0"}">{svg}</div>'
