"""``import-events``: event spreadsheets (CSV in UTF-8/GBK, XLSX), streamed in chunks, upserted by id."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select

from data_access.accounts.audit import record
from data_access.db.rollups import refresh, slices_of
from data_access.db.schema import events, units
from data_access.importers.common import ImportFileError, Result, pick_columns, upsert, write_rejects
from data_access.vocab import CATEGORIES, SOURCES, STATUSES, WHISTLES

ALIASES = {"id": ["id", "事件编号"], "grid_code": ["grid_code", "网格编码"], "category": ["category", "类别"],
           "source": ["source", "来源"], "whistle": ["whistle", "吹哨级别"], "reported_at": ["reported_at", "上报时间"],
           "deadline": ["deadline", "办结时限"], "closed_at": ["closed_at", "办结时间"], "status": ["status", "状态"],
           "title": ["title", "事件标题", "标题"]}
REQUIRED = ["id", "grid_code", "category", "source", "reported_at", "deadline", "status"]
CHUNK = 10000


def _codes(vocab: dict[str, str]) -> dict[str, str]:
    """Accept a code or its Chinese label (also 待派单 → reported etc.)."""
    return {**{k: k for k in vocab}, **{v: k for k, v in vocab.items()}}


MAPS = {"category": _codes(CATEGORIES), "source": _codes(SOURCES), "whistle": _codes(WHISTLES),
        "status": _codes(STATUSES)}


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' when the whole file decodes as UTF-8 (streamed), else 'gb18030' (a superset of GBK)."""
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                dec.decode(block)
            dec.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def read_chunks(path: str, encoding: str = "auto") -> tuple[Iterator[pd.DataFrame], str]:
    """Chunks of string cells (constant memory) and the encoding used ('xlsx' for Excel)."""
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
        reader = pd.read_csv(p, encoding=enc, dtype=str, keep_default_na=False, chunksize=CHUNK)
    except Exception as exc:  # noqa: BLE001
        raise ImportFileError(f"无法读取CSV / cannot read {p.name}: {exc}") from exc
    return reader, enc


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
                  actor: str | None = None, progress: Callable[[int], None] | None = None) -> dict:
    """Validate and upsert every row of ``path`` into ``events``; returns the summary dict
    {"read", "imported", "rejected", "warnings", "rejects_file", "encoding"}. ``progress`` is called
    with the number of rows read so far after every chunk."""
    chunks, enc = read_chunks(path, encoding)
    with engine.connect() as conn:
        anc = {r[0]: r[1:] for r in conn.execute(select(units.c.code, *[units.c[f"l{i}_code"] for i in range(5)]))}
    res = Result()
    seen: set[str] = set()
    touched: set[tuple[str, str]] = set()
    row0 = 2
    with engine.begin() as conn:  # one transaction: a failure halfway leaves the database as it was
        for chunk in chunks:
            cols = pick_columns(chunk.columns, ALIASES, REQUIRED)
            df = pd.DataFrame({k: chunk[c] for k, c in cols.items()})
            df.index = range(row0, row0 + len(df))
            row0 += len(df)
            res.read += len(df)
            if progress is not None:
                progress(res.read)
            ok = _validate(df, anc, seen, res)
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
                                       "imported": res.imported, "rejected": len(res.rejects), "encoding": enc})
    return res.summary(write_rejects(res, rejects, path)) | {"encoding": enc}


def _validate(df: pd.DataFrame, anc: dict, seen: set, res: Result) -> pd.DataFrame:
    """Reject bad rows (recorded in ``res``) and return the good ones with parsed values."""
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_string_dtype(df[c]):
            df[c] = df[c].str.strip()
        else:
            df[c] = df[c].map(lambda v: v.strip() if isinstance(v, str) else v)
    reason = pd.Series("", index=df.index, dtype=object)

    def fail(mask, text):
        nonlocal reason
        reason = reason.where(~(mask & (reason == "")), text)

    for c in REQUIRED:
        fail(df[c].isna() | (df[c].astype(str) == ""), f"必填字段为空：{c}")
    # a set lookup per row: isin(seen) would rebuild a hash of every earlier id for each chunk (quadratic)
    dup = df["id"].duplicated(keep="first") | df["id"].map(seen.__contains__).astype(bool)
    fail(dup & (df["id"].astype(str) != ""), "事件编号在文件中重复")
    fail(~df["grid_code"].astype(str).isin(anc.keys()), "网格编码不存在")
    labels = {"category": "类别", "source": "来源", "status": "状态"}
    for c in ("category", "source", "status"):
        mapped = df[c].astype(str).map(MAPS[c])
        fail(mapped.isna(), f"{labels[c]}无法识别：" + df[c].astype(str))
        df[c] = mapped
    df["whistle"] = df["whistle"].astype(str).map(MAPS["whistle"]).fillna("routine") if "whistle" in df else "routine"
    for c in ("reported_at", "deadline"):
        parsed = _dates(df[c])
        fail(parsed.isna() & (df[c].astype(str) != ""), f"日期无法识别：{c}=" + df[c].astype(str))
        df[c] = parsed
    if "closed_at" in df:
        has = df["closed_at"].astype(str).str.len() > 0
        parsed = _dates(df["closed_at"].where(has, ""))
        fail(has & parsed.isna(), "日期无法识别：closed_at=" + df["closed_at"].astype(str))
        df["closed_at"] = parsed.where(has)
    else:
        df["closed_at"] = pd.NaT
    fail(df["deadline"] < df["reported_at"], "办结时限早于上报时间")
    fail(df["closed_at"] < df["reported_at"], "办结时间早于上报时间")
    fail((df["status"] == "closed") & df["closed_at"].isna(), "状态为已办结但缺少办结时间")
    bad = reason != ""
    for i in df.index[bad]:
        res.reject(int(i), str(df.at[i, "id"]), reason[i])
    good = df[~bad]
    seen.update(good["id"].astype(str))
    return good


def _records(df: pd.DataFrame, anc: dict) -> list[dict]:
    """Rows ready for the upsert (vectorised: no per-row pandas access)."""
    a = [df["grid_code"].map(lambda c, i=i: anc[c][i]).tolist() for i in range(5)]
    py = lambda s: [None if pd.isna(v) else v for v in s.dt.to_pydatetime()]  # noqa: E731
    closed = py(df["closed_at"])
    title = df["title"].astype(str).str.slice(0, 200).tolist() if "title" in df else [""] * len(df)
    cols = {"id": df["id"].astype(str).tolist(), "unit_code": df["grid_code"].tolist(),
            **{f"l{i}_code": a[i] for i in range(5)}, "title": title, "category": df["category"].tolist(),
            "source": df["source"].tolist(), "whistle": df["whistle"].tolist(), "status": df["status"].tolist(),
            "reported_at": py(df["reported_at"]), "deadline": py(df["deadline"]), "closed_at": closed,
            "verified_at": closed, "dispatched_at": [None] * len(df), "handled_at": [None] * len(df)}
    keys = list(cols)
    return [dict(zip(keys, row)) for row in zip(*cols.values())]
