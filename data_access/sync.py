"""``sync``: pull events from the departments' front-end databases (前置库) on a schedule.

The config (TOML, see ``config/sync.example.toml``) has one ``[[source]]`` table per source:

* ``name`` — the feed's name (freshness, audit, cursor), ``url`` — a SQLAlchemy URL
  (``mysql+pymysql://…``, ``postgresql://…``, any dialect installed);
* ``query`` — SQL selecting the rows changed after ``:cursor`` (NULL on the first run), **ordered by
  the cursor column**, e.g. ``… WHERE :cursor IS NULL OR updated_at > :cursor ORDER BY updated_at``;
* ``cursor`` — the column (as the query names it) whose largest value marks how far we have read;
* ``every`` — seconds between runs; optional ``unit`` (only events of that unit's subtree are
  accepted, as for an API key), ``batch`` (rows per transaction, default 5000), ``lookback`` (see below);
* ``[source.mapping]`` — our field name = their column name, for the fields whose names differ.

Each batch goes through :func:`data_access.ingest.ingest_records` (the importer's validation and
upsert by id), and the cursor is stored in the same transaction: it moves exactly when the batch is
committed, so a crash or restart re-reads at most the uncommitted batch and upserting by id makes
that harmless — nothing lost, nothing duplicated. A batch never ends inside a run of rows sharing
one cursor value (they are held for the next batch), so ``> :cursor`` cannot skip their rest.

What a cursor cannot see by itself: a row whose update time was stamped before a read but committed
after it (a long transaction in the source system, an ETL that loads in batches) sorts below the cursor
already stored and ``> :cursor`` never returns it. ``lookback`` (seconds for a time cursor, units for a
number) makes ``:cursor`` that much older than the stored one, so every run reads the window again:
set it to the longest a source's writes take to commit. Rows read again are upserted again (no
duplicates, nothing changes when they did not; they count as read), and the stored cursor never moves
back.

A source that fails (down, refusing, a bad query) has its error recorded (``ingest_feeds``, data
health) and is tried again after ``SYNC_RETRY_S`` seconds, doubling up to its ``every``; the other
sources go on. ``--once`` runs every source until it has read everything (or failed
``SYNC_RETRIES`` times in a row) and stops.
"""

from __future__ import annotations

import json
import math
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, select, text, update
from sqlalchemy.pool import NullPool

from common import settings
from data_access.db.connection import connect
from data_access.db.schema import ingest_feeds
from data_access.errors import InvalidParameterError
from data_access.filters import Scope
from data_access.ingest import FIELDS, ingest_records, note_failure
from data_access.vocab import load_vocabulary

DEFAULT_BATCH = 5000


@dataclass
class Source:
    name: str
    url: str
    query: str
    cursor: str
    every: float
    mapping: dict[str, str] = field(default_factory=dict)
    unit: str | None = None
    batch: int = DEFAULT_BATCH
    lookback: float = 0.0


@dataclass
class Tally:
    """What one source did in this ``sync`` process (the JSON summary's entry)."""

    name: str
    read: int = 0
    imported: int = 0
    rejected: int = 0
    warnings: int = 0
    cursor: object = None
    error: str | None = None
    fails: int = 0
    next_at: float = 0.0
    done: bool = False

    def summary(self) -> dict:
        out = {"name": self.name, "read": self.read, "imported": self.imported, "rejected": self.rejected,
               "warnings": self.warnings, "cursor": _plain(self.cursor)}
        if self.error:
            out["error"] = self.error
        return out


def load_config(path: str | Path) -> list[Source]:
    """The sources of a sync config file; InvalidParameterError naming what is wrong."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidParameterError(f"同步配置无法读取 / cannot read {p}: {exc}") from exc
    out: list[Source] = []
    for i, s in enumerate(data.get("source", [])):
        missing = [k for k in ("name", "url", "query", "cursor") if not s.get(k)]
        if missing:
            raise InvalidParameterError(f"同步配置第 {i + 1} 个 [[source]] 缺少 / source {i + 1} lacks: "
                                        f"{', '.join(missing)}")
        mapping = s.get("mapping", {})
        unknown = sorted(set(mapping) - set(FIELDS))
        if unknown:
            raise InvalidParameterError(f"数据源 {s['name']} 的 mapping 含未知字段 / unknown fields: {unknown}")
        try:
            every, batch = float(s.get("every", 60)), int(s.get("batch", DEFAULT_BATCH))
            lookback = float(s.get("lookback", 0))
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(f"数据源 {s['name']}: every/batch/lookback 应为数字 / must be numbers") from exc
        if every <= 0 or batch < 1 or lookback < 0:
            raise InvalidParameterError(f"数据源 {s['name']}: every 与 batch 须为正数，lookback 不能为负 / "
                                        "every and batch must be positive, lookback not negative")
        out.append(Source(str(s["name"])[:60], s["url"], s["query"], s["cursor"], every,
                          {k: str(v) for k, v in mapping.items()}, s.get("unit"), batch, lookback))
    names = [s.name for s in out]
    if not out or len(set(names)) != len(names):
        raise InvalidParameterError("同步配置没有数据源或名称重复 / no sources, or a name used twice")
    return out


# --- the cursor, kept as JSON with its type ---------------------------------------------------

def _plain(v):
    if isinstance(v, (datetime, date)):
        return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


def behind(cursor, lookback: float):
    """``cursor`` moved back by ``lookback``: seconds for a time, whole days for a date, units for a number.
    InvalidParameterError for a cursor of another type (text cannot be moved back)."""
    if cursor is None or not lookback:
        return cursor
    if isinstance(cursor, datetime):
        return cursor - timedelta(seconds=lookback)
    if isinstance(cursor, date):
        return cursor - timedelta(days=math.ceil(lookback / 86400))
    if isinstance(cursor, bool) or not isinstance(cursor, (int, float, Decimal)):
        raise InvalidParameterError(f"lookback 需要时间或数值游标 / lookback needs a time or number cursor, "
                                    f"not {type(cursor).__name__}")
    if isinstance(cursor, int):
        return cursor - math.ceil(lookback)
    if isinstance(cursor, Decimal):
        return cursor - Decimal(str(lookback))
    return cursor - lookback


def encode_cursor(v) -> str | None:
    if v is None:
        return None
    t = "datetime" if isinstance(v, datetime) else "date" if isinstance(v, date) else \
        "decimal" if isinstance(v, Decimal) else "int" if isinstance(v, int) else \
        "float" if isinstance(v, float) else "str"
    return json.dumps({"t": t, "v": _plain(v) if t != "str" else str(v)}, ensure_ascii=False)


def decode_cursor(raw: str | None):
    if not raw:
        return None
    d = json.loads(raw)
    t, v = d["t"], d["v"]
    return {"datetime": datetime.fromisoformat, "date": date.fromisoformat, "decimal": Decimal, "int": int,
            "float": float}.get(t, str)(v)


def stored_cursor(engine: Engine, name: str):
    """The committed cursor of source ``name`` (None before its first batch)."""
    with connect(engine) as conn:
        return decode_cursor(conn.execute(select(ingest_feeds.c.cursor).where(ingest_feeds.c.name == name)).scalar())


def _save_cursor(name: str, value) -> Callable[[Connection], None]:
    def save(conn: Connection) -> None:
        conn.execute(update(ingest_feeds).where(ingest_feeds.c.name == name).values(cursor=encode_cursor(value)))
    return save


# --- one run of one source --------------------------------------------------------------------

def _error_text(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"{type(orig).__name__}: {first}"[:500]


def _source_engine(url: str) -> Engine:
    """No pool: a source that went down is reconnected from scratch on the next try."""
    connect_args = {}
    if url.startswith("mysql"):
        connect_args = {"connect_timeout": 5, "read_timeout": 300}
    elif url.startswith("postgresql"):
        connect_args = {"connect_timeout": 5}
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


def run_source(engine: Engine, src: Source, tally: Tally, *, now: Callable[[], datetime] = datetime.now,
               on_batch: Callable[[Source, dict], None] | None = None) -> None:
    """Read everything ``src`` has after its stored cursor, batch by batch (each committed with its
    cursor). Raises on a source error; what was committed before it stays committed."""
    voc = load_vocabulary()
    scope = Scope.all()
    if src.unit:
        from data_access.queries.units import get_unit

        u = get_unit(engine, src.unit)
        scope = Scope(u.code, u.level)
    cursor = stored_cursor(engine, src.name)
    col = src.cursor

    def flush(rows: list[dict]) -> None:
        nonlocal cursor
        items = [{f: r[src.mapping.get(f, f)] for f in FIELDS if src.mapping.get(f, f) in r} for r in rows]
        seen = [r[col] for r in rows if r.get(col) is not None]
        top = max(seen) if seen else cursor
        top = cursor if cursor is not None and top is not None and top < cursor else top
        out = ingest_records(engine, items, feed=src.name, kind="sync", scope=scope, actor=f"sync:{src.name}",
                             vocabulary=voc, now=now(), extra=_save_cursor(src.name, top))
        cursor = top
        tally.cursor = top
        for k in ("read", "imported", "rejected", "warnings"):
            setattr(tally, k, getattr(tally, k) + out[k])
        if on_batch is not None:
            on_batch(src, out)

    eng = _source_engine(src.url)
    try:
        with eng.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=src.batch).execute(
                text(src.query), {"cursor": behind(cursor, src.lookback)})
            pending: list[dict] = []
            for part in result.mappings().partitions(src.batch):
                pending.extend(dict(r) for r in part)
                if len(pending) < src.batch:
                    continue
                if col not in pending[-1]:
                    raise InvalidParameterError(f"查询结果没有游标列 / the query returns no column {col!r}")
                last, cut = pending[-1][col], len(pending)
                while cut > 0 and pending[cut - 1][col] == last:
                    cut -= 1
                cut = cut or len(pending)  # one value fills the whole batch: take it all
                flush(pending[:cut])
                pending = pending[cut:]
            if pending:
                if col not in pending[-1]:
                    raise InvalidParameterError(f"查询结果没有游标列 / the query returns no column {col!r}")
                flush(pending)
            elif tally.read == 0:
                ingest_records(engine, [], feed=src.name, kind="sync", scope=scope, now=now(),
                               extra=_save_cursor(src.name, cursor))  # nothing new: still a success
    finally:
        eng.dispose()
    tally.cursor = cursor


def sync(engine: Engine, sources: list[Source], *, once: bool = True, log: Callable[[str], None] = print,
         now: Callable[[], datetime] = datetime.now, sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic, on_batch=None, stop: Callable[[], bool] = lambda: False
         ) -> list[dict]:
    """Run the sources on their schedule (``once``: until each has read everything or failed
    ``SYNC_RETRIES`` times in a row); returns the per-source summaries."""
    first, retries = settings.get("SYNC_RETRY_S"), settings.get("SYNC_RETRIES")
    tallies = {s.name: Tally(s.name, cursor=stored_cursor(engine, s.name)) for s in sources}
    while not stop():
        t = clock()
        for src in sources:
            tl = tallies[src.name]
            if tl.done or tl.next_at > t:
                continue
            try:
                run_source(engine, src, tl, now=now, on_batch=on_batch)
            except Exception as exc:  # noqa: BLE001 - any failure of one source: recorded, the others go on
                tl.fails += 1
                tl.error = _error_text(exc)
                try:
                    note_failure(engine, src.name, "sync", tl.error, now())
                except Exception as rec_exc:  # noqa: BLE001 - our own database is down too
                    log(f"{src.name}: 无法记录错误 / cannot record the error: {_error_text(rec_exc)}")
                wait = min(max(src.every, first), first * 2 ** (tl.fails - 1))
                log(f"{src.name}: 失败 / failed ({tl.fails}): {tl.error}; {wait:g} 秒后重试 / retry in {wait:g} s")
                tl.next_at = clock() + wait
                if once and tl.fails > retries:
                    tl.done = True
                continue
            tl.fails, tl.error = 0, None
            log(f"{src.name}: read {tl.read}, imported {tl.imported}, rejected {tl.rejected}, "
                f"cursor {_plain(tl.cursor)}")
            tl.next_at = clock() + src.every
            if once:
                tl.done = True
        if once and all(tl.done for tl in tallies.values()):
            break
        pending = [tl.next_at for tl in tallies.values() if not tl.done]
        if pending:
            sleep(max(0.05, min(pending) - clock()))
    return [tallies[s.name].summary() for s in sources]
