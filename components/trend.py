"""Daily reported vs closed trend for the wall (server-rendered SVG)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from .svg_charts import trend_svg


@st.cache_data(ttl=3600, show_spinner=False, max_entries=200)
def _trend(days: tuple, reported: tuple, closed: tuple, h_in: float) -> str:
    return trend_svg(pd.to_datetime(list(days)), reported, closed, h_in=h_in)


def trend_html(df: pd.DataFrame, height_in: float = 3.4) -> str:
    """``df`` columns day, reported, closed (data_access.queries.events.event_trend); "" when empty."""
    if df is None or df.empty:
        return ""
    svg = _trend(tuple(df["day"].astype(str)), tuple(df["reported"].tolist()), tuple(df["closed"].tolist()), height_in)
    return f'<div class="chart" data-chart="trend">{svg}</div>'
