"""The one validation of event rows: the file importer's chunks and the live ingest's batches.

:func:`check_rows` takes columns of cell values (the importer's field names, see
:data:`data_access.importers.events.ALIASES`) and decides, row by row, what the module docstring of
:mod:`data_access.importers.events` promises: rejected with a reason, imported with a warning, or
imported. It works on plain Python lists: a pandas call costs about a millisecond whatever the
length, and the push API's batches of 500 paid more for those fixed costs than for their rows.
Only cells outside the common layouts (a date like ``2026/10/1 8:30``, an Excel serial number, a
coordinate like ``1e2``) go through pandas' parsers, in one call per column, so every cell is read
exactly as the vectorised importer read it.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

import pandas as pd

from data_access.db.schema import RAW_LABEL_FIELDS, RAW_LABEL_LENGTH, events
from data_access.importers.common import Result
from data_access.vocab import FIELD_LABELS, FIELDS, Vocabulary

# Report times and deadlines outside these years are typing errors (a stray 0019, a 2206), not events.
DATE_MIN, DATE_MAX = datetime(2000, 1, 1), datetime(2100, 1, 1)
# Labels the vocabulary does not know are counted here (status: from the close time instead).
DEFAULT_CODES = {"category": "other", "source": "other", "whistle": "routine"}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_FIELDS = ("id", "grid_code", "category", "source", "whistle", "status", "title", "responsible_unit")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?: [0-9]{2}:[0-9]{2}(?::[0-9]{2})?)?")
_DECIMAL = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,12})?")
_COORDS = (("lon", -180, 180, "经度"), ("lat", -90, 90, "纬度"))


def _length(col: str) -> int:
    return events.c[col].type.length


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT


def text(v) -> str:
    """A cell as stripped text ('' for an empty cell); XLSX numbers and dates become their text."""
    return "" if _missing(v) else (v if type(v) is str else str(v)).strip()


def parse_dates_series(s: pd.Series) -> pd.Series:
    """Parse '2026-10-01 08:30', '2026/10/1 8:30', Excel serial numbers or datetimes; NaT when unparseable."""
    if s.map(lambda v: hasattr(v, "year")).all():
        return pd.to_datetime(s)
    txt = s.astype(str).str.strip()
    num = pd.to_numeric(txt, errors="coerce")
    # The common layouts vectorised first; only the rest goes through the (slow) mixed parser.
    # microseconds: pandas parses a stray year 0019 to that unit, which a nanosecond series cannot hold
    out = pd.Series(pd.NaT, index=txt.index, dtype="datetime64[us]")
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


def parse_dates(values: list) -> list[datetime | None]:
    """Each cell as a naive datetime to the second, or None when empty or unreadable — exactly what
    :func:`parse_dates_series` makes of it. The common layouts ('YYYY-MM-DD[ HH:MM[:SS]]', datetime
    cells) are read here; the rest in one pandas call."""
    out: list[datetime | None] = [None] * len(values)
    rest: list[int] = []
    for i, v in enumerate(values):
        if type(v) is str:
            t = v.strip()
            if not t:
                continue
            if _ISO.fullmatch(t):
                try:
                    out[i] = datetime.fromisoformat(t)
                    continue
                except ValueError:
                    pass
            rest.append(i)
        elif type(v) is datetime and v.tzinfo is None:
            out[i] = v.replace(microsecond=0)
        elif type(v) is date:
            out[i] = datetime(v.year, v.month, v.day)
        elif not _missing(v):
            rest.append(i)
    if rest:
        parsed = parse_dates_series(pd.Series([values[i] for i in rest], dtype=object))
        for i, p in zip(rest, parsed.tolist()):
            out[i] = None if pd.isna(p) else p.to_pydatetime()
    return out


def _numbers(texts: list[str]) -> list[float | None]:
    """Each stripped cell as a float, None when it is empty or not a number (``pd.to_numeric``'s reading)."""
    out: list[float | None] = [None] * len(texts)
    rest: list[int] = []
    for i, t in enumerate(texts):
        if not t:
            continue
        if _DECIMAL.fullmatch(t):
            out[i] = float(t)
        else:
            rest.append(i)
    if rest:
        num = pd.to_numeric(pd.Series([texts[i] for i in rest], dtype=object), errors="coerce")
        for i, v in zip(rest, num.tolist()):
            out[i] = None if pd.isna(v) else float(v)
    return out


def check_rows(cols: dict[str, list], labels: list[int], anc: dict, seen: set, res: Result, voc: Vocabulary,
               replaced: bool = False) -> list[tuple[int, dict]]:
    """Validate the rows of ``cols`` (field name → cell values, one per row; ``labels`` names each row in
    ``res``: a file's line number, a batch's index). Rejects and warnings go to ``res`` (one warning entry
    per row, its notes joined with ；); ``seen`` holds the ids of earlier chunks of the same file and
    takes this chunk's good ids. ``anc`` maps every known grid code to its (l0..l4) codes; ``replaced``
    says undecodable bytes were shown as � (their rows are flagged).

    Returns (label, record) for every good row in input order; a record has the ``events`` columns
    id, unit_code, l0_code..l4_code, title, category, source, whistle, status, reported_at,
    deadline, closed_at, verified_at (= closed_at), dispatched_at, handled_at (None), <field>_raw,
    and responsible_unit, lon, lat only when ``cols`` has them (so a re-import does not erase them).
    """
    n = len(labels)
    control = [False] * n
    id_control = [False] * n
    txt: dict[str, list[str]] = {}
    for c in TEXT_FIELDS:
        if c not in cols:
            continue
        vals = [text(v) for v in cols[c]]
        for i, v in enumerate(vals):
            if CONTROL.search(v):
                vals[i] = CONTROL.sub("", v)
                control[i] = True
                if c == "id":
                    id_control[i] = True
        txt[c] = vals
    ids, grids = txt["id"], txt["grid_code"]
    rep_raw, dl_raw = cols["reported_at"], cols["deadline"]
    closed_raw = cols.get("closed_at")
    reported, deadline = parse_dates(rep_raw), parse_dates(dl_raw)
    if closed_raw is not None:
        has_closed = [not _missing(v) and str(v).strip() != "" for v in closed_raw]
        closed = parse_dates([v if h else "" for v, h in zip(closed_raw, has_closed)])
    else:
        has_closed, closed = [False] * n, [None] * n
    labels_txt = {f: txt.get(f, [""] * n) for f in RAW_LABEL_FIELDS}
    codes = {f: {u: voc.code(f, u) for u in set(labels_txt[f]) if u} for f in RAW_LABEL_FIELDS}
    id_len, title_len, unit_len = _length("id"), _length("title"), _length("responsible_unit")
    coords = {c: (_numbers([text(v) for v in cols[c]]), [text(v) for v in cols[c]]) for c, *_ in _COORDS if c in cols}
    in_chunk: set[str] = set()
    good: list[tuple[int, dict]] = []
    for i in range(n):
        rid, grid = ids[i], grids[i]
        dup = rid in in_chunk or rid in seen
        in_chunk.add(rid)
        reason = ""
        for c, v in (("id", rid), ("grid_code", grid), ("reported_at", rep_raw[i]), ("deadline", dl_raw[i])):
            if _missing(v) or str(v).strip() == "":
                reason = f"必填字段为空：{c}"
                break
        rep, dl, cl = reported[i], deadline[i], closed[i]
        if reason:
            pass
        elif "\ufffd" in rid:
            reason = "事件编号含无法解码的字节"
        elif id_control[i]:
            reason = "事件编号含控制字符"
        elif len(rid) > id_len:
            reason = f"事件编号超过{id_len}个字符"
        elif dup:
            reason = "事件编号在文件中重复"
        elif grid not in anc:
            reason = "网格编码不存在"
        else:
            for c, raw, d in (("reported_at", rep_raw[i], rep), ("deadline", dl_raw[i], dl),
                              ("closed_at", closed_raw[i] if closed_raw is not None else "", cl)):
                if c == "closed_at" and not has_closed[i]:
                    continue
                if d is None:
                    reason = f"日期无法识别：{c}={raw}"
                elif not DATE_MIN <= d < DATE_MAX:
                    reason = f"日期超出范围（2000–2099年）：{c}={raw}"
                if reason:
                    break
            if reason:
                pass
            elif dl < rep:
                reason = "办结时限早于上报时间"
            elif cl is not None and cl < rep:
                reason = "办结时间早于上报时间"
            elif codes["status"].get(labels_txt["status"][i]) == "closed" and cl is None:
                reason = "状态为已办结但缺少办结时间"
        if reason:
            res.reject(labels[i], rid, reason)
            continue

        notes: list[str] = []
        rec = {"id": rid, "unit_code": grid, **{f"l{k}_code": anc[grid][k] for k in range(5)},
               "title": "", "reported_at": rep, "deadline": dl, "closed_at": cl, "verified_at": cl,
               "dispatched_at": None, "handled_at": None}
        for f in RAW_LABEL_FIELDS:
            t = labels_txt[f][i]
            code = codes[f].get(t) if t else None
            unknown = code is None and t != ""
            if f == "status":
                inferred = "reported" if cl is None else "closed"
                if unknown:
                    notes.append(f"状态“{t}”未识别，按办结时间计为{FIELDS[f][inferred]}")
                if t == "":
                    notes.append(f"状态为空，按办结时间计为{FIELDS[f][inferred]}")
                rec[f] = code or inferred
            else:
                default = DEFAULT_CODES[f]
                if unknown:
                    notes.append(f"{FIELD_LABELS[f]}“{t}”未识别，计入{FIELDS[f][default]}")
                if t == "" and f != "whistle":  # an empty whistle is the ordinary case: 常规哨
                    notes.append(f"{FIELD_LABELS[f]}为空，计入{FIELDS[f][default]}")
                rec[f] = code or default
            if unknown and len(t) > RAW_LABEL_LENGTH:
                notes.append(f"{FIELD_LABELS[f]}超过{RAW_LABEL_LENGTH}字，原文截断保存")
            rec[f"{f}_raw"] = t[:RAW_LABEL_LENGTH] if unknown else None
        for c, limit, label in (("title", title_len, "标题"), ("responsible_unit", unit_len, "责任单位")):
            if c in txt:
                t = txt[c][i]
                if len(t) > limit:
                    notes.append(f"{label}超过{limit}字，已截断")
                rec[c] = t[:limit]
        for c, lo, hi, label in _COORDS:
            if c in coords:
                num, shown = coords[c][0][i], coords[c][1][i]
                bad = shown != "" and not (num is not None and lo <= num <= hi)
                if bad:
                    notes.append(f"{label}无效（{shown}），未保存坐标")
                rec[c] = None if bad else num
        if control[i]:
            notes.append("含控制字符，已删除")
        if replaced and any("\ufffd" in (txt[c][i] if c in txt else str(cols[c][i])) for c in cols):
            notes.append("含无法解码的字节（显示为�），请核对原文件")
        if notes:
            res.warnings.append((labels[i], rid, "；".join(notes)))
        good.append((labels[i], rec))
    seen.update(rec["id"] for _, rec in good)
    return good
