"""Browser: the login gate however the app is started, the HttpOnly cookie set by the server, login
survives reload and a new tab, logout ends it; a running wall stops when its session ends; deep links
never meet Streamlit's "Page not found"; staff never see another unit's data (neither on the page nor
in the websocket traffic); hostile URL parameters get a clear message."""

from __future__ import annotations

import hashlib
import http.client
import time
from datetime import datetime
from urllib.parse import urlencode, urlparse

import pytest
from sqlalchemy import func, select, update

from data_access import accounts
from data_access.db.engine import get_engine
from data_access.db.schema import auth_sessions, events, units, users
from data_access.filters import Scope, parse_period
from data_access.queries import events as ev
from data_access.queries.units import get_unit

from .conftest import ARTIFACTS, DATA_AS_OF, START_MODES, display_token, serve_app, session_cookie
from .test_browser import open_page, wait_rendered

pytestmark = pytest.mark.browser


def _frames(page) -> list[str]:
    """Collect the websocket traffic of ``page`` (attach before the first goto)."""
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "ignore"))))
    return frames


def _login(page, username: str, password: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click(timeout=120_000)  # a form post: waits for the next page


def _no_streamlit_dialog(page) -> None:
    assert "Page not found" not in page.content()
    assert page.locator('[role="dialog"]').count() == 0


def test_login_reload_new_tab_logout(browser, app_server, district_url):
    """Login sets an HttpOnly cookie from the server (never in page, iframe or script), reloads and new
    tabs keep the login, logout revokes the session in the database and deletes the cookie."""
    ctx, page, outside = open_page(browser, "about:blank")
    frames = _frames(page)
    try:
        page.goto(f"{app_server}/map")
        wait_rendered(page, text="用户名")
        _login(page, "leader", "leader123")
        wait_rendered(page, selector='[data-testid="unit-card"]')  # logged in: back on the deep link
        assert page.url.startswith(f"{app_server}/map")
        cookie = next(c for c in ctx.cookies() if c["name"] == "sanling_session")
        assert cookie["httpOnly"] and cookie["sameSite"] in ("Lax", "Strict") and not cookie["secure"]
        token = cookie["value"]
        assert accounts.session_user(get_engine(district_url), token)["username"] == "leader"
        assert "sanling_session" not in page.evaluate("document.cookie")
        assert all(token not in f.content() for f in page.frames)  # no page, iframe or srcdoc holds it
        assert token not in "\n".join(frames)
        page.goto(f"{app_server}/map?unit=411602002")  # a bookmarked deep link, after a reload
        wait_rendered(page, selector='[data-testid="unit-card"]')
        assert page.get_by_label("用户名").count() == 0
        tab = ctx.new_page()
        tab.goto(f"{app_server}/map?unit=411602001")
        wait_rendered(tab, selector='[data-testid="unit-card"]')
        assert "用户名" not in tab.content()
        tab.get_by_role("button", name="退出登录").click(timeout=120_000)  # a form post, like login
        wait_rendered(tab, text="用户名")
        assert not any(c["name"] == "sanling_session" for c in ctx.cookies())
        assert accounts.session_user(get_engine(district_url), token) is None  # revoked on the server
        page.reload()
        wait_rendered(page, text="用户名")
        assert page.locator('[data-testid="unit-card"]').count() == 0
        assert outside == []
    finally:
        ctx.close()


@pytest.mark.parametrize("mode", START_MODES)
def test_gate_holds_however_the_app_is_started(browser, district_url, tmp_path, mode):
    """A fresh server, a deep link first (/map, then /my): only the login form — no page, no sidebar
    link, no figures on the wire, no "Page not found" — and after login the page of the link."""
    eng = get_engine(district_url)
    with eng.connect() as conn:
        names = conn.execute(select(units.c.name).where(units.c.level <= 1)).scalars().all()
    with serve_app(district_url, tmp_path / "app.log", mode=mode) as base:
        for path in ("/map?unit=411602001", "/my?period=2026-09"):
            ctx, page, _ = open_page(browser, "about:blank")
            frames = _frames(page)
            try:
                page.goto(base + path)
                wait_rendered(page, text="用户名")
                page.wait_for_timeout(1500)
                assert page.locator('[data-testid="stSidebarNav"] a').count() == 0
                assert page.locator('[data-testid="stSidebar"]').count() == 0 or \
                    "网格地图" not in page.locator('[data-testid="stSidebar"]').inner_text()
                _no_streamlit_dialog(page)
                seen = page.content() + "\n".join(frames)
                assert not [n for n in names if n in seen]  # not one unit name reached the browser
                assert "data-kpi" not in seen and "unit-card" not in seen
            finally:
                ctx.close()
        ctx, page, _ = open_page(browser, f"{base}/my?period=2026-09")
        try:
            wait_rendered(page, text="用户名")
            _login(page, "staff", "staff123")
            wait_rendered(page, text="我的指标 ·")
            assert urlparse(page.url).path == "/my"
            _no_streamlit_dialog(page)
            cookies = [c for c in ctx.cookies() if c["name"] == "sanling_session"]
            if mode == "plain":  # no routes of ours: the login lives in this tab's session only
                assert cookies == []
                page.reload()
                wait_rendered(page, text="用户名")
            else:
                assert cookies and cookies[0]["httpOnly"]
                page.reload()
                wait_rendered(page, text="我的指标 ·")
                _no_streamlit_dialog(page)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"login_{mode}.png"))
        finally:
            ctx.close()


def _post(base: str, path: str, body: dict, headers: dict | None = None) -> http.client.HTTPResponse:
    u = urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("POST", path, urlencode(body), {"Content-Type": "application/x-www-form-urlencoded",
                                                 "Sec-Fetch-Site": "same-origin", **(headers or {})})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def test_login_route_cookie_flags_and_refusals(app_server, district_url):
    """POST /auth/login: Secure only over HTTPS (X-Forwarded-Proto from the local proxy), never an
    open redirect, one answer for every failure, no cross-site posts; logout revokes the session."""
    good = {"username": "leader", "password": "leader123", "next": "/map?unit=411602001&login=failed"}
    plain = _post(app_server, "/auth/login", good)
    assert plain.status == 303 and plain.getheader("Location") == "/map?unit=411602001"
    cookie = plain.getheader("Set-Cookie")
    assert cookie.startswith("sanling_session=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie
    https = _post(app_server, "/auth/login", good, {"X-Forwarded-Proto": "https"})
    assert "Secure" in https.getheader("Set-Cookie")
    for evil in ("//evil.example/x", "/\t/evil.example/x", "/\\evil.example", "https://evil.example/"):
        assert _post(app_server, "/auth/login", {**good, "next": evil}).getheader("Location") == "/"
    answers = {_post(app_server, "/auth/login", {"username": u, "password": "nope", "next": "/"})
               .getheader("Location") for u in ("leader", "no-such-user")}
    assert answers == {"/?login=failed"}
    assert _post(app_server, "/auth/login", good, {"Sec-Fetch-Site": "cross-site"}).status == 403
    token = cookie.split(";")[0].split("=", 1)[1]
    out = _post(app_server, "/auth/logout", {}, {"Cookie": f"sanling_session={token}"})
    assert out.status == 303 and 'sanling_session=""' in out.getheader("Set-Cookie")
    assert accounts.session_user(get_engine(district_url), token) is None


def _expire(eng, token: str) -> None:
    with eng.begin() as conn:
        conn.execute(update(auth_sessions).where(auth_sessions.c.token_hash == hashlib.sha256(token.encode())
                                                 .hexdigest()).values(expires_at=datetime(2000, 1, 1)))


def _disable(eng, username: str, disabled: bool = True) -> None:
    with eng.begin() as conn:
        conn.execute(update(users).where(users.c.username == username).values(disabled=disabled))


@pytest.mark.parametrize("how", ["revoked", "expired", "disabled"])
def test_running_wall_stops_at_its_next_refresh(browser, app_server, district_url, how):
    """A wall refreshing every 5 s stops at its next refresh once its display token is revoked or
    expired or the display account is disabled: the login screen replaces the figures."""
    eng = get_engine(district_url)
    token = display_token(district_url)
    ctx, page, _ = open_page(browser, "about:blank")
    sent: list[float] = []  # each refresh of the wall's fragment is a rerun request from the browser
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.append(time.time())))
    try:
        page.goto(f"{app_server}/?kiosk=1&token={token}&refresh=5&period=2026-09")
        wait_rendered(page, selector='[data-kpi="reported"]')
        page.wait_for_timeout(7000)
        assert page.locator('[data-kpi="reported"]').count() == 1  # refreshed with a valid token: stays
        refreshes_before = len(sent)
        {"revoked": lambda: accounts.revoke_session(eng, token), "expired": lambda: _expire(eng, token),
         "disabled": lambda: _disable(eng, "display")}[how]()
        t0 = time.time()
        wait_rendered(page, text="用户名", timeout_s=60)
        t1 = time.time()
        assert page.locator('[data-kpi="reported"]').count() == 0
        assert page.get_by_text("大屏令牌无效或已撤销").count() + page.get_by_text("会话已失效").count() >= 1
        refreshes = [t for t in sent if t0 <= t <= t1]
        assert refreshes_before >= 1 and len(refreshes) <= 1, (
            f"{len(refreshes)} refreshes ran in the {t1 - t0:.1f} s after the session ended")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"wall_{how}.png"))
    finally:
        if how == "disabled":
            _disable(eng, "display", False)
        ctx.close()


@pytest.mark.parametrize("username,path,expect", [
    ("staff", "/my", "我的指标 ·"), ("staff", "/data", "无权访问此页面"), ("leader", "/my", "无权访问此页面"),
    ("leader", "/overview", None), ("display", "/map", "无权访问此页面"), ("admin", "/my", "无权访问此页面"),
])
def test_deep_links_never_show_page_not_found(browser, app_server, district_url, username, path, expect):
    """Every role opening any page's link (and reloading it) gets the page or a Chinese message,
    never Streamlit's English "Page not found" dialog."""
    ctx, page, _ = open_page(browser, f"{app_server}{path}?period=2026-09",
                             cookies=[session_cookie(district_url, app_server, username)])
    try:
        for _ in range(2):
            if expect:
                wait_rendered(page, text=expect)
            else:
                wait_rendered(page, selector='[data-kpi="reported"]')
            page.wait_for_timeout(1000)
            _no_streamlit_dialog(page)
            page.reload()
    finally:
        ctx.close()


def test_staff_cannot_see_foreign_unit(browser, app_server, district_url):
    """staff is bound to the first subdistrict; the second one's name and figures must not reach the browser."""
    eng = get_engine(district_url)
    with eng.connect() as conn:
        subs = [r[0] for r in conn.execute(select(units.c.code).where(units.c.level == 1).order_by(units.c.code))]
    own, foreign = get_unit(eng, subs[0]), get_unit(eng, subs[1])
    fk = ev.event_kpis(eng, Scope.all(), foreign, parse_period("2026-09"), as_of=DATA_AS_OF)
    frames: list[str] = []
    ctx, page, _ = open_page(browser, "about:blank", cookies=[session_cookie(district_url, app_server, "staff")])
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "ignore"))))
    try:
        page.goto(f"{app_server}/map?unit={foreign.code}&period=2026-09")
        wait_rendered(page, selector='[data-testid="unit-card"]')
        page.wait_for_timeout(2000)
        html = page.content()
        assert "无权查看该单位" in html
        assert own.name in page.locator('[data-testid="unit-card"]').inner_text()
        traffic = "\n".join(frames)
        assert foreign.name not in html and foreign.name not in traffic
        assert foreign.code not in traffic.replace(f"unit={foreign.code}", "")
        assert f'data-card="reported">{fk["reported"]:,}<' not in html
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "staff_foreign_unit.png"))
    finally:
        ctx.close()


@pytest.mark.parametrize("params", [
    "unit=1%27%20OR%20%271%27%3D%271", "unit=411602%3B%20DROP%20TABLE%20events%3B--",
    "period=2026-10%27%3B%20DELETE%20FROM%20events%3B--", "period=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "kiosk=1&refresh=1%3B%20DROP%20TABLE%20units", "rotate=abc",
])
def test_hostile_url_parameters(browser, app_server, district_url, params):
    eng = get_engine(district_url)
    with eng.connect() as conn:
        before = conn.execute(select(func.count()).select_from(events)).scalar()
    ctx, page, _ = open_page(browser, f"{app_server}/?{params}",
                             cookies=[session_cookie(district_url, app_server, "leader")])
    try:
        wait_rendered(page, selector='[data-kpi="reported"]')
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stAlertContentWarning"]').count() >= 1
    finally:
        ctx.close()
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar() == before
        assert conn.execute(select(func.count()).select_from(units)).scalar() == 2172
