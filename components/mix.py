"""Category mix donut for the wall (server-rendered SVG)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from .svg_charts import donut_svg


@st.cache_data(ttl=3600, show_spinner=False, max_entries=200)
def _donut(labels: tuple, values: tuple) -> str:
    return donut_svg(list(labels), list(values))


def category_donut_html(df: pd.DataFrame) -> str:
    """``df`` columns label, reported (data_access.queries.events.closure_by(..., 'category')); "" when empty."""
    if df is None or df.empty or df["reported"].sum() == 0:
        return ""
    svg = _donut(tuple(df["label"]), tuple(int(v) for v in df["reported"]))
    return f'<div class="chart" data-chart="category">{svg}</div>'
