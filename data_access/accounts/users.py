"""User accounts: argon2 password hashes, roles and the scope each role gets."""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, insert, select, update

from common import settings
from data_access.db.connection import begin, connect
from data_access.db.schema import auth_sessions, units, users
from data_access.filters import Scope
from data_access.vocab import ROLES

_hasher = PasswordHasher()
# argon2id takes 64 MiB and one core per check: at most this many run at once per process, so a
# burst of logins queues instead of taking gigabytes (64 parallel checks used 4.2 GB).
HASH_CONCURRENCY = settings.get("HASH_CONCURRENCY")
_hash_slots = threading.BoundedSemaphore(HASH_CONCURRENCY)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (the password itself is never stored)."""
    with _hash_slots:
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; at most ``HASH_CONCURRENCY`` checks run at once."""
    with _hash_slots:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def user_row(username: str, password: str, role: str, unit_code: str | None = None,
             display_name: str | None = None) -> dict:
    """A ``users`` row ready to insert (validates the role)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    return {"username": username, "password_hash": hash_password(password), "role": role,
            "unit_code": unit_code, "display_name": display_name or username, "disabled": False,
            "failed_logins": 0, "locked_until": None, "created_at": datetime.now().replace(microsecond=0)}


def scope_for(engine: Engine, role: str, unit_code: str | None) -> Scope:
    """The data scope of a user: everything for leader/admin (and an unbound display),
    the bound unit's subtree for staff and a bound display."""
    if role in ("leader", "admin") or unit_code is None:
        if role == "staff":
            raise ValueError("a staff account must be bound to a unit")
        return Scope.all()
    with connect(engine) as conn:
        level = conn.execute(select(units.c.level).where(units.c.code == unit_code)).scalar()
    if level is None:
        raise ValueError(f"unknown unit {unit_code!r} for this account")
    return Scope(unit_code, int(level))


def get_user(engine: Engine, username: str) -> dict | None:
    with connect(engine) as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return dict(row) if row else None


# --- authentication, throttling, sessions ------------------------------------------------------

SESSION_HOURS = 8
SESSION_COOKIE = "sanling_session"  # set by the login route (HttpOnly); read by the gate
DISPLAY_TOKEN_DAYS = 365
USERNAME_CHARS = 60
FAILED = "用户名或密码错误"  # the one message for a wrong name, a wrong password and a disabled account
THROTTLED = "登录尝试过于频繁，请 {s} 秒后再试"

_dummy_hash: str | None = None


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_user(row: dict) -> dict:
    """What the app keeps about a user in its session (never the hash)."""
    return {"username": row["username"], "role": row["role"], "unit_code": row["unit_code"],
            "display_name": row.get("display_name") or row["username"]}


@dataclass(frozen=True)
class LoginResult:
    """The outcome of :func:`authenticate`: ``user`` on success, else ``message`` (Chinese, for
    the user) and ``retry_after`` (seconds, when the attempt was throttled and not checked)."""

    user: dict | None
    message: str = ""
    retry_after: float = 0.0


def _dummy() -> str:
    """A hash to check unknown names against, so they take as long as known ones."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    return _dummy_hash


def _count_failure(engine: Engine, username: str) -> int | None:
    """``failed_logins + 1`` in one statement (no read-modify-write); the new count."""
    with begin(engine) as conn:
        return conn.execute(update(users).where(users.c.username == username)
                            .values(failed_logins=users.c.failed_logins + 1)
                            .returning(users.c.failed_logins)).scalar()


def authenticate(engine: Engine, username: str, password: str, client: str | None = None,
                 now: datetime | None = None) -> LoginResult:
    """Check a login from ``client`` (an IP address; None = local). Audits every outcome.

    Throttled attempts (see :mod:`data_access.accounts.throttle`) are refused before the
    password is looked at; every other failure — unknown name, wrong password, disabled
    account — gives the same message after the same work (an unknown name is checked against
    a dummy hash). Nothing locks an account: the owner logs in from a client they used before
    even while someone else is guessing, and from any client once the delay has passed."""
    from data_access.accounts import throttle
    from data_access.accounts.audit import record

    now = now or datetime.now()
    name = (username or "").strip()[:USERNAME_CHARS]
    client = (client or "local")[:45]
    wait = throttle.take(engine, throttle.CLIENT, client, now)
    if not wait and not throttle.trusted(engine, name, client, now):
        wait = throttle.take(engine, throttle.ACCOUNT, name, now)
    if wait:
        record(engine, name or None, "login_fail", {"reason": "throttled", "client": client, "wait_s": wait})
        return LoginResult(None, THROTTLED.format(s=int(wait)), wait)
    row = get_user(engine, name) if name else None
    ok = verify_password(row["password_hash"] if row else _dummy(), password or "")
    if row is None or not ok or row["disabled"]:
        reason = "unknown user" if row is None else "disabled" if row["disabled"] and ok else "bad password"
        detail = {"reason": reason, "client": client}
        if row is not None:
            detail["failures"] = _count_failure(engine, name)
        record(engine, name or None, "login_fail", detail)
        return LoginResult(None, FAILED)
    with begin(engine) as conn:
        conn.execute(update(users).where(users.c.username == name).values(failed_logins=0, locked_until=None))
    throttle.refund(engine, throttle.CLIENT, client)
    throttle.clear(engine, throttle.ACCOUNT, name)
    throttle.trust(engine, name, client, now)
    record(engine, name, "login_ok", {"client": client})
    return LoginResult(public_user(row))


def create_session(engine: Engine, username: str, kind: str = "login", hours: float | None = None,
                   note: str | None = None, now: datetime | None = None) -> str:
    """A new random session token for ``username`` (only its hash is stored); returns the token."""
    now = (now or datetime.now()).replace(microsecond=0)
    hours = hours if hours is not None else (SESSION_HOURS if kind == "login" else DISPLAY_TOKEN_DAYS * 24)
    token = secrets.token_urlsafe(32)
    with begin(engine) as conn:
        conn.execute(insert(auth_sessions).values(token_hash=_hash_token(token), username=username, kind=kind,
                                                  created_at=now, expires_at=now + timedelta(hours=hours),
                                                  revoked=False, note=note))
    return token


def session_user(engine: Engine, token: str | None, kind: str | None = None, now: datetime | None = None
                 ) -> dict | None:
    """The user of a valid (known, unexpired, unrevoked, of ``kind``) token whose account is enabled."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    now = now or datetime.now()
    q = select(users, auth_sessions.c.kind, auth_sessions.c.expires_at, auth_sessions.c.revoked).join(
        auth_sessions, auth_sessions.c.username == users.c.username).where(
        auth_sessions.c.token_hash == _hash_token(token))
    with connect(engine) as conn:
        row = conn.execute(q).mappings().first()
    if row is None or row["revoked"] or row["expires_at"] <= now or row["disabled"]:
        return None
    if kind and row["kind"] != kind:
        return None
    return public_user(dict(row))


def revoke_session(engine: Engine, token: str) -> bool:
    """Revoke a token; True if it existed."""
    with begin(engine) as conn:
        res = conn.execute(update(auth_sessions).where(auth_sessions.c.token_hash == _hash_token(token))
                           .values(revoked=True))
    return res.rowcount > 0


def revoke_user_sessions(engine: Engine, username: str, kind: str | None = None) -> int:
    q = update(auth_sessions).where(auth_sessions.c.username == username)
    if kind:
        q = q.where(auth_sessions.c.kind == kind)
    with begin(engine) as conn:
        return conn.execute(q.values(revoked=True)).rowcount
