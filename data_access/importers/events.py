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

Lengths come from the schema's columns, so both engines accept exactly the same rows.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, select

from data_access.accounts.audit import record
from data_access.db.retry import write_transaction
from data_access.db.rollups import refresh, slices_of
from data_access.db.schema import RAW_LABEL_FIELDS, RAW_LABEL_LENGTH, events, units
from data_access.importers.common import (
    ImportFileError,
    Result,
    pick_columns,
    upsert,
    warnings_path,
    write_rejects,
    write_warnings,
)
from data_access.vocab import FIELD_LABELS, FIELDS, Vocabulary, load_vocabulary

ALIASES = {"id": ["id", "事件编号"], "grid_code": ["grid_code", "网格编码"], "category": ["category", "类别"],
           "source": ["source", "来源"], "whistle": ["whistle", "吹哨级别"], "reported_at": ["reported_at", "上报时间"],
           "deadline": ["deadline", "办结时限"], "closed_at": ["closed_at", "办结时间"], "status": ["status", "状态"],
           "title": ["title", "事件标题", "标题"], "responsible_unit": ["responsible_unit", "责任单位"],
           "lon": ["lon", "经度"], "lat": ["lat", "纬度"]}
REQUIRED = ["id", "grid_code", "category", "source", "reported_at", "deadline", "status"]
CHUNK = 10000
# Report times and deadlines outside these years are typing errors (a stray 0019, a 2206), not events.
DATE_MIN, DATE_MAX = pd.Timestamp("2000-01-01"), pd.Timestamp("2100-01-01")
# Labels the vocabulary does not know are counted here (status: from the close time instead).
DEFAULT_CODES = {"category": "other", "source": "other", "whistle": "routine"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TEXT = ["id", "grid_code", "category", "source", "whistle", "status", "title", "responsible_unit"]


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False


def _length(col: str) -> int:
    return events.c[col].type.length


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


def _dates(s: pd.Series) -> pd.Series:
    """Parse '2026-10-01 08:30', '2026/10/1 8:30', Excel serial numbers or datetimes; NaT when unparseable."""
    if s.map(lambda v: hasattr(v, "year")).all():
        return pd.to_datetime(s)
    txt = s.astype(str).str.strip()
    num = pd.to_numeric(txt, errors="coerce")
    # The common layouts vectorised first; only the rest goes through the (slow) mixed parser.
    out = pd.Series(pd.NaT, index=txt.index, dtype="datetime64[ns]")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        todo = out.isna() & num.isna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(txt[todo], format=fmt, errors="coerce")
    rest = out.isna() & num.isna() & (txt != "")
    if rest.any():
        out[rest] = pd.to_datetime(txt[rest], errors="coerce", format="mixed")
    serial = pd.to_datetime(num, unit="D", origin="1899-12-30", errors="coerce")
    return out.fillna(serial.where(num.between(20000, 80000))).dt.floor("s")


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
        ok = _validate(df, anc, seen, res, voc, replaced)
        if ok.empty:
            continue
        # in unit-code order: hierarchical codes lead six of the events indexes, so the rows of a
        # chunk land on neighbouring index pages instead of one random page each
        recs = _records(ok.sort_values("grid_code", kind="stable"), anc)
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


def _text(s: pd.Series) -> pd.Series:
    """Cells as stripped strings ('' for empty); XLSX numbers and dates become their text."""
    if pd.api.types.is_string_dtype(s) and not s.isna().any():  # CSV: already text (vectorised)
        return s.str.strip()
    return s.map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip())


def _validate(df: pd.DataFrame, anc: dict, seen: set, res: Result, voc: Vocabulary,
              replaced: bool = False) -> pd.DataFrame:
    """Reject the rows that cannot be stored and note warnings (both recorded in ``res``); return the
    good rows with parsed values, codes and raw labels."""
    df = df.copy()
    # The bookkeeping in NumPy arrays: a pandas call costs ≈ 1 ms whatever the length, and a frame of
    # 500 rows (the push API's batch) made ≈ 100 of them here — more than its rows' own work.
    size = len(df)
    reason = np.full(size, "", dtype=object)
    notes: list[tuple[np.ndarray, object]] = []

    def _mask(mask) -> np.ndarray:
        if isinstance(mask, pd.Series):
            return mask.to_numpy(dtype=bool, na_value=False)
        return np.asarray(mask, dtype=bool)

    def _at(text, idx: np.ndarray) -> list:
        if isinstance(text, pd.Series):
            return text.to_numpy(dtype=object)[idx].tolist()
        return [text] * len(idx)

    def fail(mask, text):
        idx = np.flatnonzero(_mask(mask) & (reason == ""))
        if len(idx):
            reason[idx] = _at(text, idx)

    def warn(mask, text):
        m = _mask(mask)
        if m.any():
            notes.append((m, text))

    control = pd.Series(False, index=df.index)
    id_control = control
    for c in (c for c in _TEXT if c in df):
        df[c] = _text(df[c])
        cleaned = df[c].str.replace(_CONTROL.pattern, "", regex=True)  # a str pattern runs in pyarrow
        if c == "id":
            id_control = cleaned != df[c]
        control |= cleaned != df[c]
        df[c] = cleaned
    undecoded = pd.Series(False, index=df.index)
    if replaced:
        for c in df.columns:
            undecoded |= df[c].astype(str).str.contains("\ufffd", regex=False)

    for c in ("id", "grid_code", "reported_at", "deadline"):
        fail(df[c].isna() | (df[c].astype(str).str.strip() == ""), f"必填字段为空：{c}")
    fail(df["id"].str.contains("\ufffd", regex=False), "事件编号含无法解码的字节")
    fail(id_control, "事件编号含控制字符")
    fail(df["id"].str.len() > _length("id"), f"事件编号超过{_length('id')}个字符")
    # a set lookup per row: isin(seen) would rebuild a hash of every earlier id for each chunk (quadratic)
    dup = df["id"].duplicated(keep="first") | df["id"].map(seen.__contains__).astype(bool)
    fail(dup & (df["id"] != ""), "事件编号在文件中重复")
    fail(~df["grid_code"].isin(anc.keys()), "网格编码不存在")

    for c in ("reported_at", "deadline"):
        parsed = _dates(df[c])
        shown = df[c].astype(str)
        fail(parsed.isna() & (shown.str.strip() != ""), f"日期无法识别：{c}=" + shown)
        fail((parsed < DATE_MIN) | (parsed >= DATE_MAX), f"日期超出范围（2000–2099年）：{c}=" + shown)
        df[c] = parsed
    if "closed_at" in df:
        has = df["closed_at"].astype(str).str.strip().str.len() > 0
        parsed = _dates(df["closed_at"].where(has, ""))
        shown = df["closed_at"].astype(str)
        fail(has & parsed.isna(), "日期无法识别：closed_at=" + shown)
        fail(has & ((parsed < DATE_MIN) | (parsed >= DATE_MAX)), "日期超出范围（2000–2099年）：closed_at=" + shown)
        df["closed_at"] = parsed.where(has)
    else:
        df["closed_at"] = pd.NaT
    fail(df["deadline"] < df["reported_at"], "办结时限早于上报时间")
    fail(df["closed_at"] < df["reported_at"], "办结时间早于上报时间")

    for f in RAW_LABEL_FIELDS:
        txt = df[f] if f in df else pd.Series("", index=df.index, dtype=object)
        mapping = {u: voc.code(f, u) for u in pd.unique(txt) if u}
        code = txt.map(mapping)
        unknown = code.isna() & (txt != "")
        raw = txt.where(unknown)
        long = raw.str.len() > RAW_LABEL_LENGTH
        df[f"{f}_raw"] = raw.str.slice(0, RAW_LABEL_LENGTH)
        if f == "status":
            inferred = pd.Series("reported", index=df.index).where(df["closed_at"].isna(), "closed")
            fail(code.eq("closed") & df["closed_at"].isna(), "状态为已办结但缺少办结时间")
            warn(unknown, "状态“" + txt + "”未识别，按办结时间计为" + inferred.map(FIELDS[f]))
            warn(txt == "", "状态为空，按办结时间计为" + inferred.map(FIELDS[f]))
            df[f] = code.fillna(inferred)
        else:
            default = DEFAULT_CODES[f]
            warn(unknown, f"{FIELD_LABELS[f]}“" + txt + f"”未识别，计入{FIELDS[f][default]}")
            if f != "whistle":  # an empty whistle is the ordinary case: 常规哨
                warn(txt == "", f"{FIELD_LABELS[f]}为空，计入{FIELDS[f][default]}")
            df[f] = code.fillna(default)
        warn(long, f"{FIELD_LABELS[f]}超过{RAW_LABEL_LENGTH}字，原文截断保存")

    for c in ("title", "responsible_unit"):
        if c in df:
            n = _length(c)
            warn(df[c].str.len() > n, f"{'标题' if c == 'title' else '责任单位'}超过{n}字，已截断")
            df[c] = df[c].str.slice(0, n)
    for c, lo, hi, label in (("lon", -180, 180, "经度"), ("lat", -90, 90, "纬度")):
        if c in df:
            txt = _text(df[c])
            num = pd.to_numeric(txt, errors="coerce")
            bad = (txt != "") & ~num.between(lo, hi)
            warn(bad, f"{label}无效（" + txt + "），未保存坐标")
            df[c] = num.where(~bad)
    warn(control.to_numpy(dtype=bool) & (reason == ""), "含控制字符，已删除")
    warn(undecoded, "含无法解码的字节（显示为�），请核对原文件")

    bad = reason != ""
    rows, ids = df.index.to_numpy(), df["id"].to_numpy(dtype=object)
    for p in np.flatnonzero(bad):
        res.reject(int(rows[p]), str(ids[p]), reason[p])
    if notes:
        text = np.full(size, "", dtype=object)
        for m, t in notes:  # joined with ；, only over the rows each note is about
            idx = np.flatnonzero(m)
            text[idx] = [f"{a}；{b}" if a else b for a, b in zip(text[idx], _at(t, idx))]
        for p in np.flatnonzero(~bad & (text != "")):
            res.warnings.append((int(rows[p]), str(ids[p]), text[p]))
    good = df[~bad]
    seen.update(good["id"])
    return good


def _records(df: pd.DataFrame, anc: dict) -> list[dict]:
    """Rows ready for the upsert (vectorised: no per-row pandas access). Optional columns the file does
    not have are left out, so re-importing does not erase them."""
    a = [df["grid_code"].map(lambda c, i=i: anc[c][i]).tolist() for i in range(5)]
    py = lambda s: [None if pd.isna(v) else v for v in s.dt.to_pydatetime()]  # noqa: E731
    nn = lambda s: [None] * len(s) if s.isna().all() else s.astype(object).where(s.notna(), None).tolist()  # noqa: E731
    closed = py(df["closed_at"])
    title = df["title"].tolist() if "title" in df else [""] * len(df)
    cols = {"id": df["id"].tolist(), "unit_code": df["grid_code"].tolist(),
            **{f"l{i}_code": a[i] for i in range(5)}, "title": title, "category": df["category"].tolist(),
            "source": df["source"].tolist(), "whistle": df["whistle"].tolist(), "status": df["status"].tolist(),
            "reported_at": py(df["reported_at"]), "deadline": py(df["deadline"]), "closed_at": closed,
            "verified_at": closed, "dispatched_at": [None] * len(df), "handled_at": [None] * len(df),
            **{f"{f}_raw": nn(df[f"{f}_raw"]) for f in RAW_LABEL_FIELDS}}
    for c in ("responsible_unit", "lon", "lat"):
        if c in df:
            cols[c] = nn(df[c])
    keys = list(cols)
    return [dict(zip(keys, row)) for row in zip(*cols.values())]
