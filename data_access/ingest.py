"""Live ingest: events that arrive as records (the push API's JSON, a pull source's rows).

:func:`ingest_records` is the one write path for both. It runs the CSV importer's own validation,
vocabulary and upsert-by-id (:func:`data_access.importers.event_rows.check_rows`,
:func:`data_access.importers.common.upsert`) on a batch of dicts, in one write transaction that also
refreshes the rollups, notes the feed's freshness (``ingest_feeds``), counts the batch
(``ingest_batches``) and writes the audit row. On top of the importer it

* rejects a row outside the writer's subtree (its grid, or an existing event with that id, lies in
  another unit's subtree), with a reason;
* stores the stage times the importer does not read (``dispatched_at``, ``handled_at``,
  ``verified_at``) when the batch carries them, so a later post of an id moves the loop on.

A batch that names a field nowhere leaves that column of existing events as it was (like the importer).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import Connection, Engine, case, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from data_access.accounts.audit import record
from data_access.db.connection import translate
from data_access.db.retry import write_transaction
from data_access.db.rollups import State, stored_state, write_with_delta
from data_access.db.schema import events, ingest_batches, ingest_feeds, units
from data_access.db.sqlfn import among, chunks
from data_access.filters import Scope
from data_access.importers.common import Result, upsert
from data_access.importers.event_rows import CONTROL, check_rows, parse_dates, text
from data_access.importers.events import ALIASES, REQUIRED
from data_access.vocab import Vocabulary, load_vocabulary

STAGES = ("dispatched_at", "handled_at", "verified_at")
FIELDS = tuple(ALIASES) + STAGES
MAX_BATCH = 5000
ERROR_CHARS = 500


def _cell(v) -> str:
    """One JSON or driver value as the text the importer reads."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return f"{v:%Y-%m-%d %H:%M:%S}"
    if isinstance(v, date):
        return f"{v:%Y-%m-%d}"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _columns(items: list) -> tuple[dict[str, list[str]], list[int], list[int]]:
    """The dict items as columns of text cells (field → values, the importer's reading of a file's
    cells; a required field a batch never names is a column of ''), their positions in ``items``, and
    the positions that are no dict."""
    good = [i for i, it in enumerate(items) if isinstance(it, dict)]
    present = {f for i in good for f in FIELDS if f in items[i]}
    cols = {f: [v if type(v) is str else _cell(v) for v in (items[i].get(f) for i in good)]
            for f in FIELDS if f in present or f in REQUIRED}
    is_good = set(good)
    return cols, good, [i for i in range(len(items)) if i not in is_good]


def _drop(res: Result, index: int, key: str, reason: str) -> None:
    res.reject(index, key, reason)
    res.warnings = [w for w in res.warnings if w[0] != index]


def _ancestors(conn: Connection, codes: set[str]) -> dict[str, tuple]:
    """Grid code → (l0..l4 codes) for the batch's codes that exist (not the whole units table)."""
    wanted = sorted(c for c in codes if c)
    cols = [units.c.code, *[units.c[f"l{i}_code"] for i in range(5)]]
    out: dict[str, tuple] = {}
    for part in chunks(conn, wanted):
        out |= {r[0]: tuple(r[1:]) for r in conn.execute(select(*cols).where(among(conn, units.c.code, part)))}
    return out


def _scope_filter(conn: Connection, good: list[tuple[int, dict]], scope: Scope,
                  res: Result) -> tuple[list[tuple[int, dict]], dict[str, State]]:
    """The (index, record) pairs inside ``scope`` (the others rejected with the reason), and the stored
    versions of the kept ones (:func:`~data_access.db.rollups.stored_state`, for the rollup's delta)."""
    lv, code = scope.level, scope.unit_code
    inside = []
    for i, rec in good:
        if scope.is_all or rec[f"l{lv}_code"] == code:
            inside.append((i, rec))
        else:
            _drop(res, i, rec["id"], f"网格编码 {rec['unit_code']} 不在本密钥的单位（{code}）范围内")
    stored = stored_state(conn, [rec["id"] for _, rec in inside]) if inside else {}
    if scope.is_all:
        return inside, stored
    kept = []
    for i, rec in inside:
        st = stored.get(rec["id"])
        if st is not None and st[lv] != code:
            _drop(res, i, rec["id"], "事件编号已属于本密钥范围以外的单位，不能覆盖")
            del stored[rec["id"]]
        else:
            kept.append((i, rec))
    return kept, stored


def _stages(cols: dict[str, list[str]], position: dict[int, int], good: list[tuple[int, dict]],
            res: Result) -> None:
    """Put the batch's stage times into the records (an unreadable one is left out with a warning);
    a stage the batch never names is left out of the upsert, so it is not erased."""
    for c in STAGES:
        if c not in cols:
            if c != "verified_at":  # the importer's rule: verified when closed
                for _, rec in good:
                    rec.pop(c, None)
            continue
        values = [cols[c][position[i]] for i, _ in good]
        for (i, rec), v, d in zip(good, values, parse_dates(values)):
            if d is None and v.strip() != "":
                res.warnings.append((i, rec["id"], f"日期无法识别：{c}={v}，未保存"))
            rec[c] = d


def _one_note_per_row(res: Result) -> None:
    """The importer's accounting: one warning entry per row, its notes joined with ；."""
    by_row: dict[int, tuple[str, list[str]]] = {}
    for i, k, w in res.warnings:
        by_row.setdefault(i, (k, []))[1].append(w)
    res.warnings = [(i, k, "；".join(ws)) for i, (k, ws) in by_row.items()]


def _feed_upsert(conn: Connection, feed: str, kind: str, values: dict, increments: dict | None = None):
    """Insert or update ``feed``'s row: ``values`` replace, ``increments`` add up; ``last_event_at`` only
    ever moves forward (a batch of older events leaves the newest time seen)."""
    t = ingest_feeds
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(t)
    row = {"name": feed[:60], "kind": kind, "imported": 0, "rejected": 0, **values}
    for k, v in (increments or {}).items():
        row[k] = v
    set_ = {k: ins.excluded[k] for k in values}
    set_["kind"] = ins.excluded.kind
    if "last_event_at" in values:
        newer = t.c.last_event_at.is_(None) | (ins.excluded.last_event_at > t.c.last_event_at)
        set_["last_event_at"] = case((newer, ins.excluded.last_event_at), else_=t.c.last_event_at)
    for k in increments or {}:
        set_[k] = t.c[k] + ins.excluded[k]
    conn.execute(ins.values(**row).on_conflict_do_update(index_elements=[t.c.name], set_=set_))


def note_failure(engine: Engine | Connection, feed: str, kind: str, error: str, now: datetime) -> None:
    """Record that ``feed`` failed at ``now`` (its last error; a batch row with the error)."""
    now = now.replace(microsecond=0)

    def work(conn: Connection) -> None:
        _feed_upsert(conn, feed, kind, {"last_error_at": now, "last_error": error[:ERROR_CHARS]})
        conn.execute(insert(ingest_batches).values(feed=feed[:60], at=now, read=0, imported=0, rejected=0,
                                                   error=error[:ERROR_CHARS]))

    if isinstance(engine, Connection):
        work(engine)
    else:
        _write(engine, work)


def _write(engine: Engine, work):
    try:
        return write_transaction(engine, work)
    except DBAPIError as exc:
        raise translate(exc) from exc


def ingest_records(engine: Engine, items: list, *, feed: str, kind: str = "api", scope: Scope | None = None,
                   actor: str | None = None, vocabulary: Vocabulary | None = None, now: datetime | None = None,
                   extra: Callable[[Connection], None] | None = None) -> dict:
    """Validate and upsert the event dicts ``items`` (English field names, as the importer's columns)
    as ``feed`` (an API key's or a pull source's name) within ``scope``; one write transaction.

    ``extra(conn)`` runs last inside the same transaction (a pull source stores its cursor there, so the
    cursor moves exactly when the batch is committed). Returns {"read", "imported", "rejected",
    "warnings", "rejects": [{"index", "id", "reason"}], "notes": [{"index", "id", "warning"}]}
    with 0-based positions in ``items``.
    """
    voc = vocabulary or load_vocabulary()
    scope = scope or Scope.all()
    now = (now or datetime.now()).replace(microsecond=0)
    cols, positions, not_objects = _columns(items)
    position = {i: k for k, i in enumerate(positions)}

    def work(conn: Connection) -> Result:
        res = Result(read=len(items))
        for i in not_objects:
            res.reject(i, "", "不是JSON对象")
        good = []
        if positions:
            anc = _ancestors(conn, {CONTROL.sub("", text(c)) for c in cols["grid_code"]})  # as check_rows reads them
            good = check_rows(cols, positions, anc, set(), res, voc)
        good, stored = _scope_filter(conn, good, scope, res)
        latest = None
        if good:
            good.sort(key=lambda p: p[1]["unit_code"])  # stable: the importer's order
            _stages(cols, position, good, res)
            _one_note_per_row(res)
            recs = [rec for _, rec in good]
            # the rollup moves by what these events changed (not a re-read of their whole months)
            write_with_delta(conn, recs, lambda: upsert(conn, events, recs, "id"), stored)
            res.imported = len(recs)
            times = [t for r in recs for t in (r["reported_at"], r.get("closed_at")) if t is not None]
            latest = max(times) if times else None
        values = {"last_success_at": now}
        if latest is not None:
            values["last_event_at"] = latest
        _feed_upsert(conn, feed, kind, values, {"imported": res.imported, "rejected": len(res.rejects)})
        conn.execute(insert(ingest_batches).values(feed=feed[:60], at=now, read=res.read, imported=res.imported,
                                                   rejected=len(res.rejects), error=None))
        if res.read:
            record(conn, actor, "ingest", {"feed": feed, "kind": kind, "read": res.read, "imported": res.imported,
                                           "rejected": len(res.rejects), "warnings": len(res.warnings)})
        if extra is not None:
            extra(conn)
        return res

    res = _write(engine, work)
    return {"read": res.read, "imported": res.imported, "rejected": len(res.rejects), "warnings": len(res.warnings),
            "rejects": [{"index": i, "id": k, "reason": r} for i, k, r in sorted(res.rejects)],
            "notes": [{"index": i, "id": k, "warning": w} for i, k, w in sorted(res.warnings)]}
