"""Login gate, session cookie, display tokens, logout — and who may open what.

Contract used by every page: ``st.session_state["user"]`` is a dict with keys username, role
(leader | staff | display | admin), unit_code (scope root or None) and display_name;
``st.session_state["scope"]`` is the matching :class:`data_access.filters.Scope`. Neither exists
before a successful login, and nothing falls back to a default identity or scope.

Every login is a random session token (only its hash is stored, data_access.accounts). How the
browser keeps it depends on how the server was started:

* ASGI app (``python serve.py``, ``uvicorn asgi:app``): the login form is a plain HTML form that
  posts to ``POST /auth/login`` (server/auth_routes.py); that response sets the cookie —
  HttpOnly, SameSite=Lax, Secure over HTTPS — so the token never reaches page HTML or
  JavaScript, survives a reload and a bookmarked URL; ``POST /auth/logout`` revokes it and
  deletes the cookie.
* plain ``streamlit run app.py`` (no routes of ours): a Streamlit form; the token stays in this
  tab's server-side session only, so a reload asks to log in again. No cookie is set.

The token is checked against the database on every script run and, on the wall, on every
fragment refresh (:func:`recheck`), so logout, expiry, revocation and a disabled account end open
tabs and running walls at their next run. A wall display starts unattended from
``/?kiosk=1&token=…`` with a revocable display token an admin creates.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import streamlit as st

from common.markup import md
from data_access import accounts
from data_access.accounts.audit import record
from data_access.filters import Scope

log = logging.getLogger(__name__)

COOKIE = accounts.SESSION_COOKIE
LOGIN_PARAM = "login"  # set by POST /auth/login on a failed attempt: "failed" or the seconds to wait
_STATE = ("user", "scope", "auth_token", "auth_kind")
_server_login = False  # set by asgi.build_app: the login/logout routes exist in this process
_run = threading.local()  # one script runner thread per session: is app.py's page run under way?


def use_server_login(on: bool = True) -> None:
    """Log in through the ASGI routes (cookie) instead of the session-only Streamlit form."""
    global _server_login
    _server_login = on


def current_user() -> dict | None:
    """The logged-in user dict, or None."""
    return st.session_state.get("user")


def require_role(*roles: str) -> dict:
    """Stop the page with a clear message unless a user with one of ``roles`` (any role if none
    given) is logged in."""
    require_entry()
    user = current_user()
    if user is None or "scope" not in st.session_state:
        st.error("请先登录 / please log in")
        st.link_button("登录", "/")
        st.stop()
    if roles and user["role"] not in roles:
        st.error("无权访问此页面 / you are not allowed to open this page")
        st.stop()
    return user


def scope() -> Scope:
    """The logged-in user's scope; stops the page when nobody is logged in."""
    require_role()
    return st.session_state["scope"]


@contextmanager
def entered():
    """Mark the page run that app.py starts (``with auth.entered(): page.run()``)."""
    _run.inside = True
    st.session_state.pop("_entry_retry", None)
    try:
        yield
    finally:
        _run.inside = False


def _blank() -> None:
    pass


def _fragment_rerun() -> bool:
    """A fragment's own rerun (the wall's refresh): its page was entered through app.py before."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx and ctx.fragment_ids_this_run)


def require_entry() -> None:
    """Pages run only through app.py (its gate and its navigation).

    Under a plain ``streamlit run app.py`` Streamlit treats ``pages/`` as a legacy multipage
    folder until ``st.navigation`` has run once in the process, so the first deep link after a
    start (``/map``) would run that file directly and list every page in the sidebar. Such a run
    ends here: ``st.navigation`` (the public way) switches that mode off and hides the links, and
    the rerun goes through app.py, which shows the login form for the same URL.
    """
    if getattr(_run, "inside", False) or _fragment_rerun():
        return
    if st.session_state.pop("_entry_retry", False):  # the page file itself is the main script
        st.error("请用 python serve.py（或 streamlit run app.py）启动，并从首页进入 / start the app with app.py")
        st.stop()
    st.session_state["_entry_retry"] = True
    here = urlsplit(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
    pages = [st.Page(_blank, title="…", url_path="home", default=True)]
    if re.fullmatch(r"[A-Za-z0-9_-]{1,40}", here) and here != "home":
        pages.append(st.Page(_blank, title="…", url_path=here))  # keep the deep link for after login
    st.navigation(pages, position="hidden")
    st.rerun()


# --- the session ------------------------------------------------------------------------------


def _start(engine, user: dict, token: str, kind: str) -> dict:
    st.session_state["user"] = user
    st.session_state["scope"] = accounts.scope_for(engine, user["role"], user["unit_code"])
    st.session_state["auth_token"] = token
    st.session_state["auth_kind"] = kind
    return user


def _end() -> None:
    for k in _STATE:
        st.session_state.pop(k, None)


def _still_valid(engine) -> bool:
    """The session's token is known, unexpired, unrevoked and its account enabled. A database
    that cannot be reached does not end a session (the wall keeps its last figures through an
    outage; nothing new can be read meanwhile anyway)."""
    token = st.session_state.get("auth_token")
    if not token:
        return False
    try:
        return accounts.session_user(engine, token, st.session_state.get("auth_kind")) is not None
    except Exception as exc:  # noqa: BLE001 - an outage, not a verdict on the token
        log.warning("session check failed: %s", exc)
        return True


def gate(engine) -> dict | None:
    """The logged-in user (checked against the database on every run), or None."""
    if st.session_state.get("user") is not None:
        if _still_valid(engine):
            return st.session_state["user"]
        _end()
        st.session_state["auth_notice"] = "会话已失效，请重新登录"
    url_token = st.query_params.get("token")
    if url_token:
        user = accounts.session_user(engine, url_token, "display")
        if user is not None:
            return _start(engine, user, url_token, "display")
        st.session_state["auth_notice"] = "大屏令牌无效或已撤销，请联系管理员 / invalid or revoked display token"
    cookie = st.context.cookies.get(COOKIE)
    if cookie:
        user = accounts.session_user(engine, cookie, "login")
        if user is not None:
            return _start(engine, user, cookie, "login")
    return None


def recheck(engine) -> None:
    """Call at the top of a fragment that refreshes by itself: its reruns skip app.py's gate, so
    a revoked, expired or disabled session is caught here and the whole app reruns into the
    login screen."""
    if st.session_state.get("user") is not None and _still_valid(engine):
        return
    _end()
    st.session_state["auth_notice"] = "会话已失效，请重新登录"
    st.rerun(scope="app")


# --- the login screen -------------------------------------------------------------------------


def login_screen(engine) -> None:
    """The login form (and why it is shown again, if there is a reason)."""
    _, mid, _ = st.columns([1, 1, 1])
    with mid:
        st.markdown("### 三零创建指挥中心 · 登录")
        notice = st.session_state.pop("auth_notice", None)
        if notice:
            st.warning(notice)
        failed = st.query_params.get(LOGIN_PARAM)
        if failed:
            del st.query_params[LOGIN_PARAM]
            wait = failed.isdigit() and len(failed) <= 5
            st.error(accounts.THROTTLED.format(s=int(failed)) if wait else accounts.FAILED)
        if _server_login:
            _html_form()
        else:
            _streamlit_form(engine)


_FORM_CSS = """<style>
.login-form label { display: block; margin: 0.6rem 0 0.25rem; color: #CFE3FF; font-size: 0.9rem; }
.login-form input[type=text], .login-form input[type=password] { width: 100%; box-sizing: border-box;
  padding: 0.5rem 0.7rem; border-radius: 0.5rem; border: 1px solid #1F4C8F; background: #0E2347;
  color: #E6F0FF; font-size: 1rem; }
.login-form button { width: 100%; margin-top: 1rem; padding: 0.55rem; border: 0; border-radius: 0.5rem;
  background: #3BA0FF; color: #07142B; font-size: 1rem; font-weight: 700; cursor: pointer; }
.login-form.logout button { width: auto; margin-top: 0; padding: 0.3rem 0.8rem; background: transparent;
  border: 1px solid #1F4C8F; color: #E6F0FF; font-size: 0.9rem; font-weight: 400; }
</style>"""


def _here() -> str:
    """This page's path and query (without the login feedback), for the redirect after login."""
    path = urlsplit(st.context.url or "").path or "/"
    query = {k: v for k, v in st.query_params.to_dict().items() if k != LOGIN_PARAM}
    return path + (f"?{urlencode(query)}" if query else "")


def _html_form() -> None:
    # A real form posting to our own route: the browser sends the password there and gets the
    # HttpOnly cookie in the answer; nothing secret is ever put into this page.
    st.html(_FORM_CSS + f"""
<form class="login-form" method="post" action="/auth/login">
  <label for="login-username">用户名</label>
  <input id="login-username" name="username" type="text" maxlength="60" autocomplete="username" required>
  <label for="login-password">密码</label>
  <input id="login-password" name="password" type="password" maxlength="200" autocomplete="current-password"
         required>
  <input type="hidden" name="next" value="{html.escape(_here(), quote=True)}">
  <button type="submit">登录</button>
</form>""")


def _streamlit_form(engine) -> None:
    """Session-only login (plain ``streamlit run app.py``): no cookie, a reload asks again."""
    with st.form("login", clear_on_submit=False):
        username = st.text_input("用户名", key="login_username", max_chars=60)
        password = st.text_input("密码", type="password", key="login_password", max_chars=200)
        ok = st.form_submit_button("登录", type="primary", width="stretch")
    if not ok:
        return
    res = accounts.authenticate(engine, username, password, client=st.context.ip_address)
    if res.user is None:
        st.error(res.message)
        return
    _start(engine, res.user, accounts.create_session(engine, res.user["username"], "login"), "login")
    st.rerun()


# --- who is logged in, logout -----------------------------------------------------------------


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

    sc = st.session_state["scope"]
    where = "全区" if sc.is_all else _unit_name(engine, sc.unit_code)
    st.caption(f"{md(user['display_name'])}（{ROLES.get(user['role'], user['role'])}）· 范围：{md(where)}")
    if _server_login and st.session_state.get("auth_kind") == "login":
        # the cookie is HttpOnly: only a server response can delete it
        st.html(_FORM_CSS + '<form class="login-form logout" method="post" action="/auth/logout">'
                '<button type="submit">退出登录</button></form>')
        return
    if st.button("退出登录", key="logout"):
        if st.session_state.get("auth_kind") == "login":
            accounts.revoke_session(engine, st.session_state["auth_token"])
        record(engine, user["username"], "logout", {})
        _end()
        st.rerun()
