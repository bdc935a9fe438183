"""Login gate, session cookie, display tokens, logout — and who may open what.

Contract used by every page: ``st.session_state["user"]`` is a dict with keys username, role
(leader | staff | display | admin), unit_code (scope root or None) and display_name;
``st.session_state["scope"]`` is the matching :class:`data_access.filters.Scope`.

A login creates a random session token (only its hash is stored, data_access.accounts) kept in
an HttpOnly-less, SameSite=Strict cookie so it survives a reload and a bookmarked URL in a new
tab; it expires after ``SESSION_HOURS`` and logout revokes it in the database. A wall display
starts unattended from ``/?kiosk=1&token=…`` with a revocable display token an admin creates.
"""

from __future__ import annotations

import time

import streamlit as st

from data_access import accounts
from data_access.accounts.audit import record
from data_access.filters import Scope

COOKIE = "sanling_session"
RECHECK_S = 30  # how often a live session re-checks its token (logout elsewhere, expiry, disabled)


def current_user() -> dict | None:
    """The logged-in user dict, or None."""
    return st.session_state.get("user")


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


def _cookie_js(value: str, max_age: int) -> None:
    # The component's iframe is same-origin, so this sets the app's own cookie (no network).
    st.iframe(f"<script>document.cookie='{COOKIE}={value}; path=/; max-age={max_age}; "
              f"SameSite=Strict';</script>", height=1)  # st.iframe refuses 0


def _start(engine, user: dict, token: str | None, kind: str) -> dict:
    st.session_state["user"] = user
    st.session_state["scope"] = accounts.scope_for(engine, user["role"], user["unit_code"])
    st.session_state["auth_token"] = token
    st.session_state["auth_kind"] = kind
    st.session_state["auth_checked"] = time.time()
    return user


def _end() -> None:
    for k in ("user", "scope", "auth_token", "auth_kind", "auth_checked"):
        st.session_state.pop(k, None)


def gate(engine) -> dict:
    """Return the logged-in user, or draw the login form and stop the script."""
    user = st.session_state.get("user")
    token = st.session_state.get("auth_token")
    if user is not None:
        if token and time.time() - st.session_state.get("auth_checked", 0) > RECHECK_S:
            if accounts.session_user(engine, token, st.session_state.get("auth_kind")) is None:
                _end()
                st.warning("会话已失效，请重新登录")
                user = None
            else:
                st.session_state["auth_checked"] = time.time()
        if user is not None:
            pending = st.session_state.pop("pending_cookie", None)
            if pending:
                _cookie_js(pending, accounts.SESSION_HOURS * 3600)
            return user
    url_token = st.query_params.get("token")
    if url_token:
        u = accounts.session_user(engine, url_token, "display")
        if u is not None:
            return _start(engine, u, url_token, "display")
        st.error("大屏令牌无效或已撤销 / invalid or revoked display token")
    cookie = st.context.cookies.get(COOKIE)
    if cookie:
        u = accounts.session_user(engine, cookie, "login")
        if u is not None:
            return _start(engine, u, cookie, "login")
    user = _login_form(engine)
    if user is None:
        st.stop()
    return user


def _login_form(engine) -> dict | None:
    """Draw the form; on a good login start the session and rerun into the app."""
    _, mid, _ = st.columns([1, 1, 1])
    with mid:
        st.markdown("### 三零创建指挥中心 · 登录")
        with st.form("login", clear_on_submit=False):
            username = st.text_input("用户名", key="login_username", max_chars=60)
            password = st.text_input("密码", type="password", key="login_password", max_chars=200)
            ok = st.form_submit_button("登录", type="primary", width="stretch")
        if ok:
            user, message = accounts.authenticate(engine, username.strip(), password)
            if user is None:
                st.error(message)
                return None
            token = accounts.create_session(engine, user["username"], "login")
            _start(engine, user, token, "login")
            # Set the cookie at the start of the next run: a component drawn right before a rerun
            # may never get to execute its script.
            st.session_state["pending_cookie"] = token
            st.rerun()
    return None


def _unit_name(engine, code: str) -> str:
    """The scope's unit by name (陈州街道), its code if it cannot be read."""
    from data_access.queries.units import get_unit

    try:
        return get_unit(engine, code).name
    except Exception:  # noqa: BLE001 - the sidebar must render even when the database is away
        return code


def account_box(engine) -> None:
    """Sidebar: who is logged in, their scope, and a logout button."""
    user = current_user()
    if not user:
        return
    from data_access.vocab import ROLES

    sc = scope()
    where = "全区" if sc.is_all else _unit_name(engine, sc.unit_code)
    st.caption(f"{user['display_name']}（{ROLES.get(user['role'], user['role'])}）· 范围：{where}")
    if st.button("退出登录", key="logout"):
        token = st.session_state.get("auth_token")
        if token and st.session_state.get("auth_kind") == "login":
            accounts.revoke_session(engine, token)
        record(engine, user["username"], "logout", {})
        _end()
        _cookie_js("", 0)
        st.success("已退出登录")
        time.sleep(0.5)
        st.rerun()
