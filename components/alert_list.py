"""The open alerts of a unit (red/orange warnings, overdue 重点哨), each linking to its place on the map."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from common.markup import h

LEVELS = {"red": ("红色", "#C62828"), "orange": ("橙色", "#EF6C00")}


def alert_list(df: pd.DataFrame, period_token: str) -> None:
    """One line per open alert (newest first); nothing at all when there is none."""
    if df is None or df.empty:
        return
    rows = []
    for r in df.itertuples():
        label, color = LEVELS.get(r.level, (r.level, "#C62828"))
        href = f"/map?unit={h(r.unit_code)}&period={h(period_token)}"
        rows.append(f'<li style="border-left:4px solid {color};padding:4px 8px;margin:4px 0;list-style:none;'
                    f'overflow-wrap:anywhere"><b style="color:{color}">{h(label)}告警</b> '
                    f'<span style="opacity:.75">{h(pd.Timestamp(r.raised_at).strftime("%m-%d %H:%M"))}</span> '
                    f'{h(r.message)} <a href="{href}" target="_self">地图</a></li>')
    st.html(f'<div data-testid="alerts"><b>告警（{len(rows)}）</b><ul style="padding:0;margin:4px 0">'
            + "".join(rows) + "</ul></div>")
