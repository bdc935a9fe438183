"""KPI tiles: a label, a big number, an optional unit, change, target and sparkline."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import streamlit as st


@dataclass(frozen=True)
class Tile:
    """One KPI tile. ``key`` becomes ``data-kpi`` so tests can find the tile."""

    key: str
    label: str
    value: str
    unit: str = ""
    foot: str = ""  # e.g. '较上月 +3.2%' or '目标 ≥95%'
    foot_class: str = ""  # kpi-good | kpi-bad | kpi-up | kpi-down
    spark: tuple[float, ...] = field(default_factory=tuple)


def sparkline_svg(values: tuple[float, ...], color: str = "#3BA0FF") -> str:
    """A tiny SVG polyline as an ``<img>`` data URI (no JS, no external request; Streamlit's HTML
    sanitiser drops inline ``<svg>``); empty string for < 2 values."""
    if len(values) < 2:
        return ""
    import base64

    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    n = len(values) - 1
    pts = " ".join(f"{i * 100 / n:.1f},{28 - (v - lo) / span * 26:.1f}" for i, v in enumerate(values))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 30" preserveAspectRatio="none">'
           f'<polyline fill="none" stroke="{color}" stroke-width="2" vector-effect="non-scaling-stroke" '
           f'points="{pts}"/></svg>')
    return f'<img class="spark" alt="" src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}">'


def tile_html(t: Tile) -> str:
    unit = f'<span class="kpi-unit">{html.escape(t.unit)}</span>' if t.unit else ""
    foot = f'<div class="kpi-foot {t.foot_class}">{html.escape(t.foot)}</div>' if t.foot else ""
    return (f'<div class="kpi" data-kpi="{html.escape(t.key)}"><div class="kpi-label">{html.escape(t.label)}</div>'
            f'<div class="kpi-value">{html.escape(t.value)}{unit}</div>{foot}{sparkline_svg(t.spark)}</div>')


def kpi_tiles_html(tiles: list[Tile], columns: int | None = None) -> str:
    """The tiles as one HTML grid of ``columns`` (default: all in one row); "" for no tiles."""
    if not tiles:
        return ""
    cols = columns or len(tiles)
    return (f'<div class="kpi-grid" style="grid-template-columns: repeat({cols}, minmax(0, 1fr));">'
            + "".join(tile_html(t) for t in tiles) + "</div>")


def kpi_tiles(tiles: list[Tile], columns: int | None = None) -> None:
    """Render tiles in a grid of ``columns`` (default: all in one row). Empty list → a note."""
    if not tiles:
        st.info("暂无指标数据")
        return
    st.html(kpi_tiles_html(tiles, columns))
