"""User accounts: argon2 password hashes, roles and the scope each role gets."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, insert, select, update

from data_access.db.connection import begin, connect
from data_access.db.schema import auth_sessions, units, users
from data_access.filters import Scope
from data_access.vocab import ROLES

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (the password itself is never stored)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
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


# --- authentication, lockout, sessions --------------------------------------------------------

MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 8
DISPLAY_TOKEN_DAYS = 365


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_user(row: dict) -> dict:
    """What the app keeps about a user in its session (never the hash)."""
    return {"username": row["username"], "role": row["role"], "unit_code": row["unit_code"],
            "display_name": row.get("display_name") or row["username"]}


def authenticate(engine: Engine, username: str, password: str, now: datetime | None = None
                 ) -> tuple[dict | None, str]:
    """Check a login. Returns (user, "") or (None, a Chinese message). Audits both outcomes;
    locks the account for LOCK_MINUTES after MAX_FAILURES failures in a row."""
    from data_access.accounts.audit import record

    now = now or datetime.now()
    row = get_user(engine, username) if username else None
    generic = "用户名或密码错误"
    if row is None:
        record(engine, username[:60] if username else None, "login_fail", {"reason": "unknown user"})
        return None, generic
    if row["disabled"]:
        record(engine, username, "login_fail", {"reason": "disabled"})
        return None, "账号已停用，请联系管理员"
    if row["locked_until"] and row["locked_until"] > now:
        record(engine, username, "login_fail", {"reason": "locked"})
        return None, f"登录失败次数过多，账号已锁定至 {row['locked_until']:%H:%M}"
    if not verify_password(row["password_hash"], password):
        failures = int(row["failed_logins"] or 0) + 1
        values = {"failed_logins": failures}
        if failures >= MAX_FAILURES:
            values = {"failed_logins": 0, "locked_until": now + timedelta(minutes=LOCK_MINUTES)}
        with begin(engine) as conn:
            conn.execute(update(users).where(users.c.username == username).values(**values))
        record(engine, username, "login_fail", {"reason": "bad password", "failures": failures})
        if failures >= MAX_FAILURES:
            return None, f"登录失败次数过多，账号已锁定 {LOCK_MINUTES} 分钟"
        return None, generic
    with begin(engine) as conn:
        conn.execute(update(users).where(users.c.username == username).values(failed_logins=0, locked_until=None))
    record(engine, username, "login_ok", {})
    return public_user(row), ""


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
