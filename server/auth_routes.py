"""Login and logout as plain HTTP responses, so that the session cookie is set by the server.

``POST /auth/login`` (form fields username, password, next) checks the password with
:func:`data_access.accounts.authenticate` (throttled, audited), then answers ``303`` to ``next``
with the session cookie: HttpOnly (no script can read it), SameSite=Lax, ``Secure`` when the
request came over HTTPS, path ``/``, for ``SESSION_HOURS``. A failure answers ``303`` to
``next`` with ``?login=failed`` (or the seconds to wait), never saying why.
``POST /auth/logout`` revokes the cookie's session in the database and deletes the cookie.

HTTPS behind a reverse proxy: uvicorn rewrites the scheme and client address from
``X-Forwarded-Proto`` / ``X-Forwarded-For`` only for proxies listed in ``FORWARDED_ALLOW_IPS``
(default ``127.0.0.1,::1``), so ``Secure`` and the per-client throttle follow the real client
there and cannot be spoofed by anyone else. Both routes refuse cross-site posts
(``Sec-Fetch-Site: cross-site``, or an ``Origin`` other than this host).
"""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from data_access import accounts
from data_access.accounts.audit import record
from data_access.db.engine import get_engine

log = logging.getLogger(__name__)

COOKIE = accounts.SESSION_COOKIE
LOGIN_PARAM = "login"  # read back by components.auth.login_screen
MAX_BODY = 16 * 1024
MAX_PASSWORD = 1024


def _engine():
    from components.data import db_url  # the same URL (environment or secrets.toml) as the app

    return get_engine(db_url())


def _same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser form post from another site (browsers send one or the other)
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def _safe_next(value: str | None) -> str:
    """A path on this site to go back to: ``/…`` without scheme or host, else ``/``."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 33 or c in "\\\x7f" for c in value):  # browsers drop tabs and newlines: "/\t/x" is "//x"
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != LOGIN_PARAM]
    return parts.path + (f"?{urlencode(query)}" if query else "")


def _with_param(path: str, key: str, value: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{urlencode({key: value})}"


async def _form(request: Request) -> dict[str, str] | None:
    """The url-encoded form, or None when it is not one or larger than MAX_BODY."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=10)
    return {k: v[0] for k, v in fields.items()}


def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


async def login(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("跨站请求被拒绝 / cross-site request refused", status_code=403)
    try:
        form = await _form(request)
    except ValueError:  # more fields than allowed
        form = None
    if form is None:
        return PlainTextResponse("请求格式错误 / bad request", status_code=400)
    target = _safe_next(form.get("next"))
    password = form.get("password", "")
    client = request.client.host if request.client else None
    eng = _engine()
    res = await run_in_threadpool(accounts.authenticate, eng, form.get("username", ""),
                                  password if len(password) <= MAX_PASSWORD else "", client, datetime.now())
    if res.user is None:
        why = str(int(res.retry_after)) if res.retry_after else "failed"
        return _no_store(RedirectResponse(_with_param(target, LOGIN_PARAM, why), status_code=303))
    token = await run_in_threadpool(accounts.create_session, eng, res.user["username"], "login")
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(COOKIE, token, max_age=int(accounts.SESSION_HOURS * 3600), path="/", httponly=True,
                    samesite="lax", secure=request.url.scheme == "https")
    return _no_store(resp)


def _end_session(token: str) -> None:
    eng = _engine()
    user = accounts.session_user(eng, token, "login")
    if accounts.revoke_session(eng, token) and user:
        record(eng, user["username"], "logout", {})


async def logout(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("跨站请求被拒绝 / cross-site request refused", status_code=403)
    token = request.cookies.get(COOKIE)
    if token and len(token) <= 200:
        await run_in_threadpool(_end_session, token)
    resp = RedirectResponse("/", status_code=303)
    resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return _no_store(resp)


ROUTES = [
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
]
