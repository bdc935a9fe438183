"""Event rollups: pre-aggregated counts for units of levels 0–2, kept current by month slices.

Grain: unit (levels 0–2) × month × category × source × whistle, with reported, closed and
closed_late. Open-past-deadline counts depend on the clock, so they are never stored: they
are counted live over the (few) open events. :func:`rebuild` recomputes everything;
:func:`refresh` recomputes the (district, month) slices that a batch of changed events
touches — call it in the same transaction as the writes (simulator, importers).

Concurrent writers: a slice is recomputed from scratch (DELETE, then INSERT of fresh counts), which is
only right if no one else rewrites the same slice between the two. On PostgreSQL :func:`refresh`
therefore takes a transaction-level advisory lock per (district, month) slice, in sorted order (no
lock-order deadlocks), before it reads anything: a second writer waits until the first commits, and
its next statements (READ COMMITTED) then see the first writer's events and rollup rows. On SQLite
the database's single write lock already serialises writers. Lock waits and deadlocks elsewhere in a
writer's transaction are retried by :func:`data_access.db.retry.write_transaction`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, and_, case, delete, func, insert, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from data_access.db.schema import event_rollup, events
from data_access.db.sqlfn import among, chunks, month_of
from data_access.filters import Period, Scope, Unit

ROLLUP_LEVELS = (0, 1, 2)


def period_months(period: Period) -> list[str] | None:
    """The 'YYYY-MM' months that make up ``period``, or None if it is not whole months."""
    if period.start.day != 1 or period.end.day != 1:
        return None
    return list(pd.period_range(period.start, period.end - timedelta(days=1), freq="M").strftime("%Y-%m"))


def usable(scope: Scope, unit: Unit, period: Period, group_level: int | None = None) -> list[str] | None:
    """Months to read from the rollup when it can answer for (scope, unit, period), else None."""
    lvl = unit.level if group_level is None else group_level
    if lvl > max(ROLLUP_LEVELS) or (not scope.is_all and scope.level > max(ROLLUP_LEVELS)):
        return None
    return period_months(period)


_KEYS = ["month", "category", "source", "whistle"]
_COUNTS = ["reported", "closed", "closed_late"]
_COLS = ["unit_code", "month", "category", "source", "whistle", "level", "l0_code", "l1_code", "l2_code", "l3_code",
         "l4_code", *_COUNTS]


def _fine_counts(conn: Connection, where=None) -> pd.DataFrame:
    """One scan of ``events``: counts per (l0_code, l1_code, l2_code, month, category, source, whistle).

    Columns: those keys (codes may be None above level 2 of an event's unit), reported, closed,
    closed_late (int). Every rollup level is a sum over these rows, so events are read once.
    """
    closed = func.sum(case((events.c.status == "closed", 1), else_=0))
    late = func.sum(case((events.c.closed_at > events.c.deadline, 1), else_=0))
    keys = [events.c.l0_code, events.c.l1_code, events.c.l2_code, month_of(events.c.reported_at),
            events.c.category, events.c.source, events.c.whistle]
    q = select(*keys, func.count(), closed, late)
    if where is not None:
        q = q.where(where)
    rows = conn.execute(q.group_by(*keys)).all()
    return pd.DataFrame(rows, columns=["l0_code", "l1_code", "l2_code", *_KEYS, *_COUNTS])


def _rollup_rows(fine: pd.DataFrame) -> list[dict]:
    """Rows of ``event_rollup`` for every level in :data:`ROLLUP_LEVELS` from :func:`_fine_counts`."""
    out: list[dict] = []
    for lv in ROLLUP_LEVELS:
        anc = [f"l{i}_code" for i in range(lv + 1)]
        part = fine[fine[f"l{lv}_code"].notna()]
        if part.empty:
            continue
        g = part.groupby(anc + _KEYS, as_index=False)[_COUNTS].sum()
        g = g.assign(unit_code=g[f"l{lv}_code"], level=lv, **{f"l{i}_code": None for i in range(lv + 1, 5)})
        out += g[_COLS].astype(object).to_dict("records")  # object: plain Python ints for both drivers
    return out


def _insert_rollup(conn: Connection, where=None) -> None:
    rows = _rollup_rows(_fine_counts(conn, where))
    if rows:
        conn.execute(insert(event_rollup), rows)


def rebuild(conn: Connection) -> int:
    """Recompute the whole rollup; returns its row count."""
    if conn.dialect.name == "postgresql":  # slice refreshes (row-exclusive writes) wait until this commits
        conn.execute(text("LOCK TABLE event_rollup IN SHARE ROW EXCLUSIVE MODE"))
    conn.execute(delete(event_rollup))
    _insert_rollup(conn)
    return conn.execute(select(func.count()).select_from(event_rollup)).scalar_one()


def slices_of(conn: Connection, ids: Iterable[str]) -> set[tuple[str, str]]:
    """(l0_code, month) slices the given event ids belong to."""
    ids = list(ids)
    out: set[tuple[str, str]] = set()
    for part in chunks(conn, ids):
        q = select(events.c.l0_code, month_of(events.c.reported_at)).where(among(conn, events.c.id, part))
        out |= {(a, m) for a, m in conn.execute(q.distinct())}
    return out


# What one event counts for in the rollup: l0..l4 codes (its scope), 'YYYY-MM' of its report time,
# category, source, whistle, closed (0/1), closed late (0/1) — the keys and counts of _fine_counts.
State = tuple


def stored_state(conn: Connection, ids: list[str]) -> dict[str, State]:
    """The stored events among ``ids``: id → their :data:`State` (ids not stored are absent)."""
    closed = case((events.c.status == "closed", 1), else_=0)
    late = case((events.c.closed_at > events.c.deadline, 1), else_=0)
    cols = [events.c.id, *[events.c[f"l{i}_code"] for i in range(5)], month_of(events.c.reported_at),
            events.c.category, events.c.source, events.c.whistle, closed, late]
    out: dict[str, State] = {}
    for part in chunks(conn, ids):
        out |= {r[0]: tuple(r[1:]) for r in conn.execute(select(*cols).where(among(conn, events.c.id, part)))}
    return out


def record_state(rec: dict) -> State:
    """The :data:`State` an event record (a dict of ``events`` columns) will have once written."""
    cl, dl, rep = rec["closed_at"], rec["deadline"], rec["reported_at"]
    return (*[rec[f"l{i}_code"] for i in range(5)], f"{rep.year:04d}-{rep.month:02d}", rec["category"], rec["source"],
            rec["whistle"], int(rec["status"] == "closed"), int(cl is not None and dl is not None and cl > dl))


def slice_lock_key(l0_code: str, month: str) -> int:
    """A stable signed 64-bit key for the advisory lock of one (district, month) slice."""
    digest = hashlib.blake2b(f"event_rollup|{l0_code}|{month}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock_slices(conn: Connection, slices: list[tuple[str, str]]) -> None:
    """Hold each slice's lock until the transaction ends (PostgreSQL; SQLite has one writer anyway)."""
    if conn.dialect.name != "postgresql":
        return
    for a, m in slices:  # sorted by the caller: every writer takes the locks in the same order
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": slice_lock_key(a, m)})


def refresh(conn: Connection, slices: Iterable[tuple[str, str]]) -> None:
    """Recompute the rollup rows of the given (district l0_code, 'YYYY-MM') slices; safe beside other
    writers of the same slices (see the module docstring)."""
    slices = sorted(set(slices))
    if not slices:
        return
    _lock_slices(conn, slices)
    in_slice = or_(*[and_(event_rollup.c.l0_code == a, event_rollup.c.month == m) for a, m in slices])
    conn.execute(delete(event_rollup).where(in_slice))
    ev_slice = or_(*[and_(events.c.l0_code == a, events.c.reported_at >= _month_start(m),
                          events.c.reported_at < _month_start(m, 1)) for a, m in slices])
    _insert_rollup(conn, ev_slice)


def refresh_for_events(conn: Connection, ids: Iterable[str], extra: Iterable[tuple[str, str]] = ()) -> None:
    """Refresh the slices of the given events (after insert/update in the same transaction)."""
    refresh(conn, slices_of(conn, ids) | set(extra))


def write_with_delta(conn: Connection, recs: list[dict], write: Callable[[], None],
                     stored: dict[str, State] | None = None) -> None:
    """Run ``write()`` — which upserts the event records ``recs`` (dicts of ``events`` columns, every
    column of :func:`record_state` included, ids unique) — and move the rollup by exactly what they
    change: each record's counts (known from the record itself) minus its stored version's.

    For small batches into a big month (the push API, pull sources): :func:`refresh` would re-read the
    whole (district, month) slice for every batch. ``stored`` is :func:`stored_state` of the records'
    ids when the caller has read it already (the ingest reads it for its scope check); it tells which
    events exist and in which slices. The slices, old and new, are locked as :func:`refresh` locks them,
    so this is safe beside refreshes and other delta writers; the stored versions are then read again
    under the locks (a writer that held one has committed by then), and a slice an event moved to in
    the meantime is locked too.
    """
    stored = stored_state(conn, [r["id"] for r in recs]) if stored is None else stored
    after = [record_state(r) for r in recs]
    locked: set[tuple[str, str]] = set()
    need = {(st[0], st[5]) for st in [*stored.values(), *after]}
    before = stored
    while need - locked:
        _lock_slices(conn, sorted(need - locked))
        locked |= need
        if conn.dialect.name == "postgresql" and stored:  # SQLite: BEGIN IMMEDIATE already excludes writers
            before = stored_state(conn, list(stored))
            need |= {(st[0], st[5]) for st in before.values()}
    write()
    net: Counter[tuple] = Counter()  # (l0, l1, l2, month, category, source, whistle, closed, late) → events
    for sign, states in ((-1, before.values()), (1, after)):
        for st in states:
            net[st[:3] + st[5:]] += sign
    acc: dict[tuple, list[int]] = {}
    for st, n in net.items():
        codes, key, counts = st[:3], st[3:7], (n, n * st[7], n * st[8])
        for lv in ROLLUP_LEVELS:
            if codes[lv] is None:
                continue
            slot = acc.setdefault((lv, *codes[:lv + 1], *key), [0, 0, 0])
            for i in range(3):
                slot[i] += counts[i]
    rows = []
    for k, counts in acc.items():
        if not any(counts):
            continue
        lv = k[0]
        anc = list(k[1:lv + 2]) + [None] * (4 - lv)
        month, category, source, whistle = k[lv + 2:]
        rows.append({"unit_code": anc[lv], "month": month, "category": category, "source": source,
                     "whistle": whistle, "level": lv, **{f"l{i}_code": anc[i] for i in range(5)},
                     "reported": counts[0], "closed": counts[1], "closed_late": counts[2]})
    if not rows:
        return
    ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(event_rollup)
    conn.execute(ins.on_conflict_do_update(
        index_elements=["unit_code", "month", "category", "source", "whistle"],
        set_={c: event_rollup.c[c] + ins.excluded[c] for c in _COUNTS}), rows)
    if before:  # only a subtraction can leave a row at zero (as a rebuild would not have it)
        slices = sorted(locked)
        in_slice = or_(*[and_(event_rollup.c.l0_code == a, event_rollup.c.month == m) for a, m in slices])
        conn.execute(delete(event_rollup).where(in_slice, event_rollup.c.reported == 0))


def _month_start(m: str, add: int = 0) -> datetime:
    """Midnight of the first day of month ``m`` ('YYYY-MM') plus ``add`` months."""
    return (pd.Period(m, freq="M") + add).start_time.to_pydatetime()


__all__ = ["period_months", "usable", "rebuild", "refresh", "refresh_for_events", "slices_of", "slice_lock_key",
           "stored_state", "record_state", "tuple_", "write_with_delta"]
