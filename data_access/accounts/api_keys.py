"""API keys of the systems that push events (``source``) or read figures (``reader``).

A key is 32 random bytes (``sk_`` + URL-safe base64), shown once when it is made; only its SHA-256
is stored. A fast hash is right here, unlike passwords: the key has 256 bits of entropy, so nobody
can guess it from the hash, and every request checks it (argon2's 64 MiB per check would not do).
A key is bound to one unit: a ``source`` key writes events of that unit's subtree only, a
``reader`` key reads that subtree's figures.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from data_access.accounts.audit import record
from data_access.db.connection import begin, connect
from data_access.db.schema import api_keys, units
from data_access.errors import InvalidParameterError
from data_access.filters import Scope

API_ROLES = ("source", "reader")
PREFIX = "sk_"


@dataclass(frozen=True)
class ApiKey:
    """A valid key: its name (what the audit trail and the feed are called), role and scope."""

    name: str
    role: str
    unit_code: str
    scope: Scope


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(engine: Engine, name: str, unit_code: str, role: str = "source", note: str | None = None,
               actor: str | None = "cli", now: datetime | None = None) -> str:
    """Make a key called ``name`` for ``unit_code``'s subtree; returns the key (only its hash is kept).

    Raises InvalidParameterError for an unknown role or unit, or a name already in use."""
    if role not in API_ROLES:
        raise InvalidParameterError(f"未知的密钥角色 {role!r} / role must be one of {', '.join(API_ROLES)}")
    if not name or len(name) > api_keys.c.name.type.length:
        raise InvalidParameterError("密钥名称为空或过长 / key name empty or longer than 60 characters")
    key = PREFIX + secrets.token_urlsafe(32)
    now = (now or datetime.now()).replace(microsecond=0)
    with begin(engine) as conn:
        if conn.execute(select(units.c.code).where(units.c.code == unit_code)).first() is None:
            raise InvalidParameterError(f"单位编码不存在 / unknown unit {unit_code!r}")
        if conn.execute(select(api_keys.c.name).where(api_keys.c.name == name)).first() is not None:
            raise InvalidParameterError(f"密钥名称已存在 / a key called {name!r} exists (revoke it first)")
        conn.execute(insert(api_keys).values(name=name, key_hash=hash_key(key), role=role, unit_code=unit_code,
                                             note=(note or None) and note[:100], created_at=now, revoked_at=None))
        record(conn, actor, "api_key", {"create": name, "role": role, "unit": unit_code, "note": note})
    return key


def revoke_key(engine: Engine, name: str, actor: str | None = "cli", now: datetime | None = None) -> bool:
    """Revoke the key called ``name`` (and free the name); True if there was one in use."""
    now = (now or datetime.now()).replace(microsecond=0)
    with begin(engine) as conn:
        row = conn.execute(select(api_keys.c.name).where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                           ).first()
        if row is None:
            return False
        # renamed so that the name can be given to a new key; the row stays for the record
        conn.execute(update(api_keys).where(api_keys.c.name == name).values(
            revoked_at=now, name=f"{name[:40]}~{now:%Y%m%d%H%M%S}"))
        record(conn, actor, "api_key", {"revoke": name})
    return True


def key_user(engine: Engine, key: str | None) -> ApiKey | None:
    """The key's holder when ``key`` is a valid, unrevoked key, else None."""
    if not isinstance(key, str) or not key.startswith(PREFIX) or len(key) > 100:
        return None
    q = select(api_keys.c.name, api_keys.c.role, api_keys.c.unit_code, units.c.level).join(
        units, units.c.code == api_keys.c.unit_code).where(
        api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None))
    with connect(engine) as conn:
        row = conn.execute(q).first()
    if row is None:
        return None
    return ApiKey(row.name, row.role, row.unit_code, Scope(row.unit_code, int(row.level)))

