"""Plotly charts for the office pages (dark theme, Chinese labels, no mode bar, no CDN)."""

from __future__ import annotations

import re

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


_MONTH = re.compile(r"\d{4}-\d{2}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# d3-time-format strings (what Plotly's tickformat takes); its own date ticks read "Jan 2026", "Dec 3, 2026"
DATE_FORMATS = {"month": "%Y年%-m月", "day": "%-m月%-d日", "time": "%-m月%-d日 %H:%M"}


def date_format(values: pd.Series) -> str | None:
    """The Chinese tick and hover format for an x axis of ``values`` when Plotly reads them as dates:
    datetimes, or text such as '2026-10' or '2026-10-05' (Plotly turns those into a date axis too).
    None for anything else (names, labels)."""
    v = values.dropna()
    if v.empty:
        return None
    if pd.api.types.is_datetime64_any_dtype(v):
        t = pd.DatetimeIndex(v)
        if (t != t.normalize()).any():
            return DATE_FORMATS["time"]
        return DATE_FORMATS["month" if len(t) > 1 and (t.day == 1).all() else "day"]
    if v.map(lambda s: isinstance(s, str) and _MONTH.fullmatch(s) is not None).all():
        return DATE_FORMATS["month"]
    if v.map(lambda s: isinstance(s, str) and _DAY.fullmatch(s) is not None).all():
        return DATE_FORMATS["day"]
    return None


def _axes(fig: go.Figure, x: pd.Series, ys: list[pd.Series], percent: bool) -> go.Figure:
    """Chinese dates on a date x axis; whole-number ticks for small counts (not 0.5 of an event)."""
    fmt = date_format(x)
    if fmt:
        fig.update_xaxes(tickformat=fmt, hoverformat=fmt)
    if percent:
        fig.update_yaxes(ticksuffix="%")
        return fig
    y = pd.concat(ys).dropna() if ys else pd.Series(dtype=float)
    if not y.empty and pd.api.types.is_numeric_dtype(y) and (y == y.round()).all() and y.abs().max() <= 5:
        fig.update_yaxes(tick0=0, dtick=1)
    return fig


def show(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, width="stretch", config={"displayModeBar": False}, key=key)


def bar_figure(df: pd.DataFrame, x: str, ys: dict[str, str], title: str | None = None, height: int = 320,
               percent: bool = False) -> go.Figure:
    """Grouped bars: ``ys`` maps column → legend label."""
    scale = 100 if percent else 1
    fig = go.Figure([go.Bar(x=df[x], y=df[c] * scale, name=n, marker_color=COLORS[i % 6])
                     for i, (c, n) in enumerate(ys.items())])
    return _layout(_axes(fig, df[x], [df[c] for c in ys], percent), height, title)


def bars(df: pd.DataFrame, x: str, ys: dict[str, str], title: str | None = None, height: int = 320,
         percent: bool = False, key: str = "bars") -> None:
    """:func:`bar_figure` on the page ('暂无数据' without rows)."""
    if df is None or df.empty:
        st.caption("暂无数据")
        return
    show(bar_figure(df, x, ys, title, height, percent), key)


def line_figure(df: pd.DataFrame, x: str, ys: dict[str, str], title: str | None = None, height: int = 300,
                percent: bool = False, target: float | None = None) -> go.Figure:
    """Lines over ``x``; an optional dashed target line (ratio when ``percent``)."""
    scale = 100 if percent else 1
    fig = go.Figure([go.Scatter(x=df[x], y=df[c] * scale, name=n, mode="lines+markers",
                                line={"color": COLORS[i % 6]}) for i, (c, n) in enumerate(ys.items())])
    if target is not None:
        fig.add_hline(y=target * scale, line_dash="dash", line_color="#FF5252",
                      annotation_text=f"目标 {target * 100:.0f}%" if percent else "目标")
    return _layout(_axes(fig, df[x], [df[c] for c in ys], percent), height, title)


def lines(df: pd.DataFrame, x: str, ys: dict[str, str], title: str | None = None, height: int = 300,
          percent: bool = False, target: float | None = None, key: str = "lines") -> None:
    """:func:`line_figure` on the page ('暂无数据' without rows)."""
    if df is None or df.empty:
        st.caption("暂无数据")
        return
    show(line_figure(df, x, ys, title, height, percent, target), key)


def funnel_chart(df: pd.DataFrame, height: int = 330, key: str = "funnel") -> None:
    """The loop funnel: df columns label, count."""
    # whole numbers with thousands separators (Plotly's default reads 11,211 as "11.211k")
    fig = go.Figure(go.Funnel(y=df["label"], x=df["count"], texttemplate="%{value:,d} 件<br>%{percentPrevious:.1%}",
                              textposition="inside", textfont={"color": "#07142B", "size": 14},
                              hovertemplate="%{y}: %{value:,d} 件<extra></extra>", marker={"color": COLORS[: len(df)]}))
    show(_layout(fig, height, None), key)
