"""Which kind of screen asked: a phone gets a narrow map and to-do cards instead of wide tables."""

from __future__ import annotations

import streamlit as st

_PHONE_MARKS = ("Mobile", "iPhone", "Android")


def is_phone() -> bool:
    """True when the browser says it is a phone (its User-Agent; no viewport size reaches the server)."""
    try:
        ua = st.context.headers.get("User-Agent", "") or ""
    except Exception:  # noqa: BLE001 - no request context (AppTest, bare script run): a desktop
        return False
    return any(m in ua for m in _PHONE_MARKS)
