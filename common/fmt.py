"""Number formatting for Chinese dashboards (thousands separators, percentages, deltas)."""

from __future__ import annotations

import math


def num(v) -> str:
    """12,345 — or '—' for missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{int(round(v)):,}"


def listed(shown: int, total: int, which: str, inner: bool = False) -> str:
    """'（列出最早到期的 200 件）' when a list shows ``shown`` of ``total`` rows, '' when it shows them all;
    ``inner``: inside a parenthesis already open ('，列出…')."""
    if shown >= total:
        return ""
    text = f"列出{which}的 {num(shown)} 件"
    return f"，{text}" if inner else f"（{text}）"


def dec(v, digits: int = 1) -> str:
    """41.23 → '41.2' — or '—' for missing (a stage time the first stage does not have)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:,.{digits}f}"


def pct(v, digits: int = 1) -> str:
    """0.9567 → '95.7%' — or '—' for missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v * 100:.{digits}f}%"


def change(cur, prev, *, as_points: bool = False) -> str | None:
    """Change vs previous: '+3.2%' (relative) or '+1.5个百分点' (for rates); None if not computable."""
    if cur is None or prev is None:
        return None
    if any(isinstance(x, float) and math.isnan(x) for x in (cur, prev)):
        return None
    if as_points:
        return f"{(cur - prev) * 100:+.1f}个百分点"
    if prev == 0:
        return None
    return f"{(cur - prev) / prev * 100:+.1f}%"
