"""Compact ranking of child units (考评) for the wall: rank, name, score bar, warning dot."""

from __future__ import annotations

import html

import pandas as pd

from common.colors import WARNING_COLORS


def ranking_html(df: pd.DataFrame, value_col: str, value_fmt, link_page: str = "map", max_rows: int = 12) -> str:
    """The ranking table as HTML; "" when there is nothing to rank."""
    if df is None or df.empty:
        return ""
    rows = []
    vmax = max(float(df[value_col].max() or 0), 1e-9)
    for i, r in enumerate(df.head(max_rows).itertuples(index=False), start=1):
        v = getattr(r, value_col)
        width = 0 if pd.isna(v) else max(2.0, float(v) / vmax * 100)
        dot = WARNING_COLORS.get(getattr(r, "color", "none") or "none", WARNING_COLORS["none"])
        rows.append(
            f'<tr><td class="rk">{i}</td><td class="nm"><span class="dot" style="background:{dot}"></span>'
            f'<a href="/{link_page}?unit={html.escape(r.code)}" target="_self">{html.escape(r.name)}</a></td>'
            f'<td class="bar"><div style="width:{width:.0f}%"></div></td>'
            f'<td class="v">{html.escape(value_fmt(v))}</td></tr>')
    return ('<style>.rank{width:100%;border-collapse:collapse;font-size:14px;color:#E6F0FF}'
            '.rank td{padding:2px 4px;border-bottom:1px solid #132B52;white-space:nowrap}'
            '.rank .rk{color:#FFD23F;font-weight:700;width:1.6em;text-align:center}'
            '.rank .nm a{color:#E6F0FF;text-decoration:none}.rank .v{text-align:right;width:4.2em;'
            'font-variant-numeric:tabular-nums}.rank .bar{width:38%}.rank .bar div{height:8px;border-radius:4px;'
            'background:linear-gradient(90deg,#1E88E5,#69F0AE)}.rank .dot{display:inline-block;width:9px;height:9px;'
            'border-radius:50%;margin-right:6px}</style>'
            f'<table class="rank" data-testid="ranking">{"".join(rows)}</table>')
