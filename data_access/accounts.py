"""User accounts: argon2 password hashes, roles and the scope each role gets."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select

from .filters import Scope
from .schema import units, users
from .vocab import ROLES

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
    with engine.connect() as conn:
        level = conn.execute(select(units.c.level).where(units.c.code == unit_code)).scalar()
    if level is None:
        raise ValueError(f"unknown unit {unit_code!r} for this account")
    return Scope(unit_code, int(level))


def get_user(engine: Engine, username: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return dict(row) if row else None
