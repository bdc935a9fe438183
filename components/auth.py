"""Who is logged in, and what they may open.

Contract used by every page: ``st.session_state["user"]`` is a dict with keys
username, role (leader | staff | display | admin), unit_code (scope root or None) and
display_name; ``st.session_state["scope"]`` is the matching
:class:`data_access.filters.Scope`. The login gate in app.py sets both.
Until a gate has run (e.g. a page run alone in a test) the caller is treated as
an anonymous leader-level viewer only if ``AUTH_DISABLED=1``; otherwise as nobody.
"""

from __future__ import annotations

import os

import streamlit as st

from data_access.filters import Scope


def current_user() -> dict | None:
    """The logged-in user dict, or None."""
    user = st.session_state.get("user")
    if user is None and os.environ.get("AUTH_DISABLED") == "1":
        return {"username": "anonymous", "role": "leader", "unit_code": None, "display_name": "访客"}
    return user


def current_role() -> str | None:
    user = current_user()
    return user["role"] if user else None


def require_role(*roles: str) -> dict:
    """Stop the page with a clear message unless the user has one of ``roles``."""
    user = current_user()
    if user is None or user["role"] not in roles:
        st.error("无权访问此页面 / you are not allowed to open this page")
        st.stop()
    return user


def scope() -> Scope:
    return st.session_state.get("scope", Scope.all())
