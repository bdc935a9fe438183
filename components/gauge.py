"""Closure-rate gauges (Plotly indicator) with the target marked."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import streamlit as st


def gauge_figure(value: float | None, title: str, target: float | None = None, height: int = 180) -> go.Figure:
    """A 0–100 % gauge; the target is a white threshold line; NaN shows '—'."""
    v = None if value is None or (isinstance(value, float) and math.isnan(value)) else value * 100
    color = "#69F0AE" if (v is not None and target is not None and v >= target * 100) else "#FFB300"
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=v if v is not None else 0,
        number={"suffix": "%", "valueformat": ".1f", "font": {"color": "#FFFFFF"}},
        title={"text": title, "font": {"color": "#CFE3FF"}},
        gauge={
            "axis": {"range": [0, 100], "tickcolor": "#9FC3FF", "tickfont": {"color": "#9FC3FF"}},
            "bar": {"color": color},
            "bgcolor": "#0B2147",
            "steps": [{"range": [0, 80], "color": "#2A1A2E"}, {"range": [80, 95], "color": "#23304F"}],
            "threshold": {"line": {"color": "#FFFFFF", "width": 3}, "value": (target or 0) * 100},
        },
    ))
    fig.update_layout(height=height, margin={"l": 20, "r": 20, "t": 40, "b": 5}, paper_bgcolor="rgba(0,0,0,0)",
                      font={"family": "Noto Sans CJK SC, sans-serif"})
    if v is None:
        fig.data[0].number = {"font": {"color": "#607D8B"}, "suffix": ""}
    return fig


def gauge(value: float | None, title: str, target: float | None = None, height: int = 180, key: str | None = None
          ) -> None:
    st.plotly_chart(gauge_figure(value, title, target, height), use_container_width=True,
                    config={"displayModeBar": False, "staticPlot": True}, key=key)
