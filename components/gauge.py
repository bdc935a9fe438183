"""Closure-rate gauges with the target marked (server-rendered SVG, see components/svg_charts.py)."""

from __future__ import annotations

import math

import streamlit as st

from common.markup import h

from .svg_charts import gauge_svg


@st.cache_data(ttl=3600, show_spinner=False, max_entries=500)
def _gauge(value: float | None, title: str, target: float | None) -> str:
    return gauge_svg(value, title, target)


def gauge_html(value: float | None, title: str, target: float | None = None, key: str | None = None) -> str:
    """A 0–100 % gauge; ``value`` and ``target`` are ratios (0–1); NaN/None shows '—'."""
    v = None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 4)
    svg = _gauge(v, title, target)
    return f'<div class="gauge" data-gauge="{h(key or title)}" data-value="{"" if v is None else v}">{svg}</div>'


def gauge(value: float | None, title: str, target: float | None = None, key: str | None = None) -> None:
    st.html(gauge_html(value, title, target, key))
