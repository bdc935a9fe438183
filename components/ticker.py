"""A scrolling ticker of the latest 重点哨 and red-warning items (pure CSS animation)."""

from __future__ import annotations

import html

import streamlit as st


def ticker(items: list[str], label: str = "最新重点哨") -> None:
    """One line that scrolls; ``items`` already formatted. Empty → a calm message."""
    st.html(ticker_html(items, label))


def ticker_html(items: list[str], label: str = "最新重点哨") -> str:
    """The ticker as HTML (see :func:`ticker`)."""
    text = "　　◆　".join(html.escape(i) for i in items) if items else "当前无重点哨事件"
    seconds = max(20, len(text) // 4)
    return (
        '<style>.tick{display:flex;align-items:center;background:#0B2147;border:1px solid #1F4C8F;border-radius:4px;'
        'overflow:hidden;height:34px;font-size:15px}.tick b{background:#C62828;color:#fff;padding:0 10px;'
        'line-height:34px;white-space:nowrap;z-index:1}.tick .m{white-space:nowrap;overflow:hidden;flex:1}'
        f'.tick .m span{{display:inline-block;padding-left:100%;animation:mv {seconds}s linear infinite;'
        'color:#FFE082}@keyframes mv{from{transform:translateX(0)}to{transform:translateX(-100%)}}</style>'
        f'<div class="tick" data-testid="ticker"><b>{html.escape(label)}</b>'
        f'<div class="m"><span>{text}</span></div></div>')
