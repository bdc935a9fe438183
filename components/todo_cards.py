"""The to-do list as cards for a phone: one line of what, where and how late, and a link to the map."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from common.markup import h


def todo_cards(df: pd.DataFrame, *, title: str, place: str | None, note, link, testid: str, limit: int = 50) -> None:
    """One card per row of ``df`` (the first ``limit``): ``title`` and ``place`` columns, ``note(row)`` text,
    ``link(row)`` the map URL. Empty frame → a calm line."""
    if df is None or df.empty:
        st.caption("无")
        return
    cards = []
    for r in df.head(limit).to_dict("records"):
        where = f'<div style="opacity:.75;font-size:13px">{h(r[place])}</div>' if place and r.get(place) else ""
        cards.append(
            f'<a href="{h(link(r))}" target="_self" style="display:block;text-decoration:none;color:inherit;'
            f'border:1px solid #1F4C8F;border-radius:6px;padding:8px 10px;margin:6px 0;background:#0B2147;'
            f'overflow-wrap:anywhere"><div style="font-weight:600">{h(r[title])}</div>{where}'
            f'<div style="font-size:13px;color:#FFB300">{h(note(r))} <span style="color:#8CC8FF">· 在地图上查看 ›'
            f'</span></div></a>')
    more = f'<div style="opacity:.7;font-size:13px">另有 {len(df) - limit} 项</div>' if len(df) > limit else ""
    st.html(f'<div class="todo-cards" data-testid="{h(testid)}">' + "".join(cards) + more + "</div>")
