"""``import-events``: event spreadsheets (CSV in UTF-8/GBK, XLSX), streamed in chunks, upserted by id.

What happens to a row:

* **rejected** (written to the rejects file with its reason) only when it cannot be stored: no event
  id, an id longer than the column or with bytes that could not be decoded, the same id twice in the
  file, a grid code that is not in the database, no or an unreadable or impossible report time or
  deadline (outside 2000–2099, deadline or close before the report), 已办结 without a close time;
* **imported with a warning** (the warnings file, beside the rejects file) when something was
  unfamiliar or had to be adjusted: a category, source, whistle level or status the vocabulary
  (``config/vocabulary.toml``) does not know is stored verbatim in ``<field>_raw`` and counted under a
  safe default (category and source ``other``, whistle ``routine``, status ``closed`` when the row has
  a close time else ``reported``); an over-long title or responsible unit is cut to the column's
  length; coordinates that are not numbers in range are left out; bytes that were not UTF-8 in a
  UTF-8 file are shown as �;
* imported as it is otherwise.

Lengths come from the schema's columns, so both engines accept exactly the same rows. The rules are
:func:`data_access.importers.event_rows.check_rows`, which the live ingest (push API, pull sources) runs too.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, select

from data_access.accounts.audit import record
from data_access.db.retry import write_transaction
from data_access.db.rollups import refresh, slices_of
from data_access.db.schema import events, units
from data_access.importers.common import (
    ImportFileError,
    Result,
    pick_columns,
    upsert,
    warnings_path,
    write_rejects,
    write_warnings,
)
from data_access.importers.event_rows import check_rows
from data_access.vocab import Vocabulary, load_vocabulary

ALIASES = {"id": ["id", "事件编号"], "grid_code": ["grid_code", "网格编码"], "category": ["category", "类别"],
           "source": ["source", "来源"], "whistle": ["whistle", "吹哨级别"], "reported_at": ["reported_at", "上报时间"],
           "deadline": ["deadline", "办结时限"], "closed_at": ["closed_at", "办结时间"], "status": ["status", "状态"],
           "title": ["title", "事件标题", "标题"], "responsible_unit": ["responsible_unit", "责任单位"],
           "lon": ["lon", "经度"], "lat": ["lat", "纬度"]}
REQUIRED = ["id", "grid_code", "category", "source", "reported_at", "deadline", "status"]
CHUNK = 10000


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False


def sniff_encoding(path: Path) -> tuple[str, int]:
    """The file's dominant encoding and how many of its characters are not valid in it.

    ``('utf-8-sig', 0)`` for a clean UTF-8 file. A UTF-8 file with a few stray bytes is still UTF-8
    (its undecodable bytes are counted; the reader shows them as � and flags their rows): at least
    80 % of its non-ASCII characters decode. GBK text read as UTF-8 decodes ≈ 20 %, so anything below
    that threshold is ``('gb18030', 0)`` (a superset of GBK). Streamed: constant memory.
    """
    dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
    bad = non_ascii = 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            text = dec.decode(block, final=not block)
            bad += text.count("\ufffd")
            non_ascii += len(text) - len(text.encode("ascii", "ignore"))
            if not block:
                break
    good = non_ascii - bad
    if bad == 0 or bad * 4 < good:
        return "utf-8-sig", bad
    return "gb18030", 0


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' when the file is UTF-8 (a few stray bad bytes allowed), else 'gb18030'."""
    return sniff_encoding(Path(path))[0]


def read_chunks(path: str, encoding: str = "auto") -> tuple[Iterator[pd.DataFrame], str]:
    """Chunks of cells (strings for CSV; constant memory) and the encoding used ('xlsx' for Excel).

    UTF-8 is read with undecodable bytes replaced by � (their rows are flagged by the importer)."""
    p = Path(path)
    if not p.exists():
        raise ImportFileError(f"文件不存在 / no such file: {path}")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(p, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001
            raise ImportFileError(f"无法读取Excel / cannot read {p.name}: {exc}") from exc

        def gen():
            rows = wb.active.iter_rows(values_only=True)
            header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
            buf = []
            for r in rows:
                buf.append(["" if v is None else v for v in r])
                if len(buf) >= CHUNK:
                    yield pd.DataFrame(buf, columns=header)
                    buf = []
            if buf:
                yield pd.DataFrame(buf, columns=header)
            wb.close()

        return gen(), "xlsx"
    enc = detect_encoding(p) if encoding in ("auto", None) else {"gbk": "gb18030"}.get(encoding.lower(), encoding)
    try:
        reader = pd.read_csv(p, encoding=enc, dtype=str, keep_default_na=False, chunksize=CHUNK,
                             encoding_errors="replace" if _is_utf8(enc) else "strict")
    except Exception as exc:  # noqa: BLE001
        raise ImportFileError(f"无法读取CSV / cannot read {p.name}: {exc}") from exc
    return reader, enc


def preview(path: str, n: int = 10) -> tuple[pd.DataFrame, str]:
    """The first ``n`` rows of an events file as the importer reads them, and the encoding used."""
    chunks, enc = read_chunks(path)
    try:
        first = next(iter(chunks), pd.DataFrame())
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ImportFileError(f"无法读取 / cannot read {Path(path).name}: {exc}") from exc
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return first.head(n).astype(str), enc


def count_rows(path: str) -> int:
    """Data rows in an events file without parsing it (CSV: lines after the header, quoted line breaks
    aside; XLSX: the sheet's dimension), for a progress bar; 0 when it cannot tell."""
    p = Path(path)
    try:
        if p.suffix.lower() in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            wb = load_workbook(p, read_only=True)
            n = (wb.active.max_row or 1) - 1
            wb.close()
            return max(n, 0)
        with open(p, "rb") as fh:
            n = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
        return max(n - 1, 0)
    except OSError:
        return 0


def import_events(engine: Engine, path: str, encoding: str = "auto", rejects: str | None = None,
                  actor: str | None = None, progress: Callable[[int], None] | None = None,
                  warnings: str | None = None, vocabulary: Vocabulary | None = None) -> dict:
    """Validate and upsert every row of ``path`` into ``events``; returns the summary dict
    {"read", "imported", "rejected", "warnings", "rejects_file", "warnings_file", "encoding"}
    (read = imported + rejected; warnings counts imported rows with a warning).

    One write transaction (a failure halfway leaves the database as it was) that waits for other
    writers and is run again from the start on a lock error (:mod:`data_access.db.retry`).
    ``progress`` is called with the number of rows read so far after every chunk. The rejects file
    defaults to ``<file>.rejects.csv``, the warnings file to ``<rejects file>.warnings.csv``.
    """
    if not Path(path).exists():
        raise ImportFileError(f"文件不存在 / no such file: {path}")
    voc = vocabulary or load_vocabulary()
    # decided once, outside the transaction: a writer waiting for the lock should not re-read the file
    replaced = False
    if Path(path).suffix.lower() not in (".xlsx", ".xlsm"):
        if encoding in ("auto", None):
            encoding, bad_bytes = sniff_encoding(Path(path))
            replaced = bad_bytes > 0
        else:
            replaced = _is_utf8(encoding)

    def work(conn: Connection) -> tuple[Result, str]:
        return _import(conn, path, encoding, actor, progress, voc, replaced)

    res, enc = write_transaction(engine, work, long=True)
    rejects_file = write_rejects(replace(res, warnings=[]), rejects, path)
    warnings_file = write_warnings(res, warnings or warnings_path(rejects, path))
    return res.summary(rejects_file) | {"warnings_file": warnings_file, "encoding": enc}


def _import(conn: Connection, path: str, encoding: str, actor: str | None,
            progress: Callable[[int], None] | None, voc: Vocabulary, replaced: bool) -> tuple[Result, str]:
    chunks, enc = read_chunks(path, encoding)
    anc = {r[0]: r[1:] for r in conn.execute(select(units.c.code, *[units.c[f"l{i}_code"] for i in range(5)]))}
    res = Result()
    seen: set[str] = set()
    touched: set[tuple[str, str]] = set()
    row0 = 2
    for chunk in _guarded(chunks, path):
        cols = pick_columns(chunk.columns, ALIASES, REQUIRED)
        df = pd.DataFrame({k: chunk[c] for k, c in cols.items()})
        df.index = range(row0, row0 + len(df))
        row0 += len(df)
        res.read += len(df)
        if progress is not None:
            progress(res.read)
        good = check_rows({k: df[k].tolist() for k in df.columns}, list(df.index), anc, seen, res, voc, replaced)
        if not good:
            continue
        # in unit-code order: hierarchical codes lead six of the events indexes, so the rows of a
        # chunk land on neighbouring index pages instead of one random page each
        recs = sorted((rec for _, rec in good), key=lambda r: r["unit_code"])
        touched |= slices_of(conn, [r["id"] for r in recs])
        upsert(conn, events, recs, "id")
        touched |= {(r["l0_code"], f"{r['reported_at']:%Y-%m}") for r in recs}
        res.imported += len(recs)
    seen.clear()  # ≈ 100 B per row: freed before the rollup refresh, the other memory peak
    refresh(conn, touched)
    record(conn, actor, "import", {"kind": "events", "file": Path(path).name, "read": res.read,
                                   "imported": res.imported, "rejected": len(res.rejects),
                                   "warnings": len(res.warnings), "encoding": enc})
    return res, enc


def _guarded(chunks, path: str) -> Iterator[pd.DataFrame]:
    """The chunks, with a file that breaks off halfway (a stray quote, a ragged row) as a clear error."""
    it = iter(chunks)
    while True:
        try:
            chunk = next(it)
        except StopIteration:
            return
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise ImportFileError(f"文件格式有误，无法继续读取 / cannot parse {Path(path).name}: {exc}") from exc
        yield chunk
