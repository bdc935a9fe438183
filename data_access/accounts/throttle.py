"""Login throttling: a progressive delay per client and per account instead of a hard lockout.

Every login attempt first *takes* a slot on its throttle keys with one atomic statement
(``INSERT … ON CONFLICT DO UPDATE … WHERE next_at <= now RETURNING``, the same on SQLite and
PostgreSQL): the row's counter goes up by one and ``next_at`` moves to ``now + delay(count)``,
or — while ``next_at`` is still ahead — nothing is updated and the attempt is refused without
checking the password. Parallel attempts therefore serialise on the row and cannot all slip
through a read-modify-write, and the state lives in the database so it holds across replicas.

Keys: ``client:<ip>`` (every name tried from one client) and ``account:<username>`` (every
client trying one name — existing or not, so a refusal tells nothing about which accounts
exist). A client that has logged in as a user before (``trust:<username>|<ip>``, kept
``TRUST_DAYS``) skips that user's account delay: an attacker hammering ``leader`` slows down
every other client, but not the owner at their own desk. A good login clears the account
counter and gives back its own attempt on the client counter; earlier failures there only age
out (``window``), so logging into one's own account between guesses does not reset them. No
library does this on a SQL store (``limits`` keeps its counters in memory, Redis, Memcached or
MongoDB), hence this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from data_access.db.connection import begin, connect
from data_access.db.schema import login_throttle


@dataclass(frozen=True)
class Rule:
    """Attempts ``free`` and later wait ``base_s · 2^(n − free)`` seconds, at most ``cap_s``;
    a key untouched for ``window_s`` starts again from zero."""

    prefix: str
    free: int
    base_s: float
    cap_s: float
    window_s: float

    def delay(self, n: int) -> float:
        """Seconds to wait after the ``n``-th attempt (1-based) before the next one."""
        if n < self.free:
            return 0.0
        return min(self.base_s * 2 ** min(n - self.free, 30), self.cap_s)


# An office behind one NAT address shares the client key, so it gets more free attempts.
CLIENT = Rule("client", free=10, base_s=1, cap_s=15 * 60, window_s=3600)
ACCOUNT = Rule("account", free=5, base_s=1, cap_s=5 * 60, window_s=3600)
TRUST_DAYS = 30
KEY_CHARS = 120


def key(rule: Rule, value: str) -> str:
    return f"{rule.prefix}:{value}"[:KEY_CHARS]


def _trust_key(username: str, client: str) -> str:
    return f"trust:{username}|{client}"[:KEY_CHARS]


def _insert(engine: Engine):
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(login_throttle)


def take(engine: Engine, rule: Rule, value: str, now: datetime) -> float:
    """Count one attempt on ``rule``'s key for ``value``; 0 when it may go ahead, else the
    seconds until the next attempt is let through (the attempt is then not counted)."""
    k, t = key(rule, value), login_throttle.c
    # the counter as it will be after this attempt: restarted when the key has aged out
    count = case((t.updated_at < now - timedelta(seconds=rule.window_s), 1), else_=t.attempts + 1)
    steps = [(count < rule.free, now)]
    n = rule.free
    while rule.delay(n) < rule.cap_s:
        steps.append((count == n, now + timedelta(seconds=rule.delay(n))))
        n += 1
    next_at = case(*steps, else_=now + timedelta(seconds=rule.cap_s))
    stmt = _insert(engine).values(key=k, attempts=1, updated_at=now,
                                  next_at=now + timedelta(seconds=rule.delay(1)))
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.key], set_={"attempts": count, "updated_at": now, "next_at": next_at},
        where=or_(t.next_at.is_(None), t.next_at <= now)).returning(t.attempts)
    with begin(engine) as conn:  # a write first: SQLite takes the write lock here, PostgreSQL the row lock
        if conn.execute(stmt).first() is not None:
            return 0.0
        ahead = conn.execute(select(t.next_at).where(t.key == k)).scalar()
    return max(1.0, math.ceil((ahead - now).total_seconds())) if ahead else 1.0


def attempts(engine: Engine, rule: Rule, value: str) -> int:
    """The counter of ``rule``'s key for ``value`` (0 when there is none)."""
    with connect(engine) as conn:
        return int(conn.execute(select(login_throttle.c.attempts).where(
            login_throttle.c.key == key(rule, value))).scalar() or 0)


def clear(engine: Engine, rule: Rule, value: str) -> None:
    """Forget the attempts on ``rule``'s key for ``value`` (after a good login)."""
    with begin(engine) as conn:
        conn.execute(update(login_throttle).where(login_throttle.c.key == key(rule, value))
                     .values(attempts=0, next_at=None))


def refund(engine: Engine, rule: Rule, value: str) -> None:
    """Give back the attempt a good login took, so colleagues behind one address are not slowed
    by each other's logins; a delay earned by earlier failures stays."""
    t = login_throttle.c
    with begin(engine) as conn:
        conn.execute(update(login_throttle).where(t.key == key(rule, value)).values(
            attempts=case((t.attempts > 0, t.attempts - 1), else_=0),
            next_at=case((t.attempts - 1 < rule.free, None), else_=t.next_at)))


def trusted(engine: Engine, username: str, client: str, now: datetime) -> bool:
    """True when ``client`` logged in as ``username`` within ``TRUST_DAYS``."""
    since = now - timedelta(days=TRUST_DAYS)
    with connect(engine) as conn:
        return conn.execute(select(login_throttle.c.key).where(and_(
            login_throttle.c.key == _trust_key(username, client), login_throttle.c.updated_at >= since))
        ).first() is not None


def trust(engine: Engine, username: str, client: str, now: datetime) -> None:
    """Remember that ``client`` logged in as ``username``; drop rows that have aged out."""
    stmt = _insert(engine).values(key=_trust_key(username, client), attempts=0, updated_at=now, next_at=None)
    stmt = stmt.on_conflict_do_update(index_elements=[login_throttle.c.key], set_={"updated_at": now})
    with begin(engine) as conn:
        conn.execute(stmt)
        stale = now - timedelta(seconds=max(CLIENT.window_s, ACCOUNT.window_s, CLIENT.cap_s, ACCOUNT.cap_s))
        conn.execute(delete(login_throttle).where(and_(
            login_throttle.c.updated_at < stale, ~login_throttle.c.key.startswith("trust:"))))
        conn.execute(delete(login_throttle).where(and_(
            login_throttle.c.updated_at < now - timedelta(days=TRUST_DAYS), login_throttle.c.key.startswith("trust:"))))
