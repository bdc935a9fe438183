"""Breadcrumb (川汇区 › 陈州街道 › … › 3号楼): each level is a button that goes back up."""

from __future__ import annotations

import streamlit as st

from common.markup import h, md
from data_access.filters import Unit


def breadcrumb(crumbs: tuple[Unit, ...], key_prefix: str) -> str | None:
    """Render the chain; returns the code of a clicked ancestor (None when nothing was clicked)."""
    if not crumbs:
        return None
    text = " › ".join(h(u.name) for u in crumbs)
    st.html(f'<div class="crumbs" data-testid="breadcrumb" style="display:none">{text}</div>')
    widths = [max(2, len(u.name)) for u in crumbs] + [max(1, 30 - sum(len(u.name) for u in crumbs))]
    cols = st.columns(widths, gap="small")
    clicked = None
    for i, (col, u) in enumerate(zip(cols, crumbs)):
        with col:
            last = i == len(crumbs) - 1
            label = f"**{md(u.name)}**" if last else f"{md(u.name)} ›"
            if st.button(label, key=f"{key_prefix}_crumb_{u.code}", type="tertiary", disabled=last):
                clicked = u.code
    return clicked
