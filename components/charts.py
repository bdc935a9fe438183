"""Plotly charts for the office pages (dark theme, Chinese labels, no mode bar, no CDN)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

FONT = "Noto Sans CJK SC, Microsoft YaHei, sans-serif"
COLORS = ["#3BA0FF", "#69F0AE", "#FFB300", "#FF7043", "#AB47BC", "#26C6DA"]


def _layout(fig: go.Figure, height: int, title: str | None) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
                      title={"text": title, "font": {"size": 15}} if title else None,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      font={"family": FONT, "color": "#CFE3FF"}, uirevision="keep",
                      legend={"orientation": "h", "y": 1.08, "x": 1, "xanchor": "right"})
    fig.update_xaxes(gridcolor="#1B335C")
    fig.update_yaxes(gridcolor="#1B335C")
    return fig


def show(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, width="stretch", config={"displayModeBar": False}, key=key)


def bars(df: pd.DataFrame, x: str, ys: dict[str, str], title: str | None = None, height: int = 320,
         percent: bool = False, key: str = "bars") -> None:
    """Grouped bars: ``ys`` maps column → legend label."""
    if df is None or df.empty:
        st.caption("暂无数据")
        return
    fig = go.Figure([go.Bar(x=df[x], y=df[c] * (100 if percent else 1), name=n, marker_color=COLORS[i % 6])
                     for i, (c, n) in enumerate(ys.items())])
    if percent:
        fig.update_yaxes(ticksuffix="%")
    show(_layout(fig, height, title), key)


def lines(df: pd.DataFrame, x: str, ys: dict[str, str], title: str | None = None, height: int = 300,
          percent: bool = False, target: float | None = None, key: str = "lines") -> None:
    """Lines over ``x``; an optional dashed target line (ratio when ``percent``)."""
    if df is None or df.empty:
        st.caption("暂无数据")
        return
    fig = go.Figure([go.Scatter(x=df[x], y=df[c] * (100 if percent else 1), name=n, mode="lines+markers",
                                line={"color": COLORS[i % 6]}) for i, (c, n) in enumerate(ys.items())])
    if target is not None:
        fig.add_hline(y=target * (100 if percent else 1), line_dash="dash", line_color="#FF5252",
                      annotation_text=f"目标 {target * 100:.0f}%" if percent else "目标")
    if percent:
        fig.update_yaxes(ticksuffix="%")
    show(_layout(fig, height, title), key)


def funnel_chart(df: pd.DataFrame, height: int = 330, key: str = "funnel") -> None:
    """The loop funnel: df columns label, count."""
    # whole numbers with thousands separators (Plotly's default reads 11,211 as "11.211k")
    fig = go.Figure(go.Funnel(y=df["label"], x=df["count"], texttemplate="%{value:,d} 件<br>%{percentPrevious:.1%}",
                              textposition="inside", textfont={"color": "#07142B", "size": 14},
                              hovertemplate="%{y}: %{value:,d} 件<extra></extra>", marker={"color": COLORS[: len(df)]}))
    show(_layout(fig, height, None), key)
