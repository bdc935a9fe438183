"""Labels the vocabulary did not know when their events were imported, and mapping them afterwards.

An imported event keeps an unfamiliar label verbatim in ``<field>_raw`` (see
:mod:`data_access.importers.events`). The admin page lists those labels with their counts
(:func:`label_overview`) and maps one to a code (:func:`map_label`): the label is appended to the
vocabulary file, so later imports know it, and the events already imported with it are re-mapped,
with their rollup slices refreshed and the change audited — in one write transaction.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, func, select, text, update

from data_access.accounts.audit import record
from data_access.db.connection import connect
from data_access.db.retry import write_transaction
from data_access.db.rollups import refresh
from data_access.db.schema import RAW_LABEL_FIELDS, events
from data_access.db.sqlfn import month_of
from data_access.errors import InvalidParameterError
from data_access.vocab import FIELD_LABELS, FIELDS, add_alias, load_vocabulary, normalize_label, vocabulary_path

# One advisory lock for writers of the vocabulary file on PostgreSQL (SQLite: the write lock).
_VOCABULARY_LOCK = 0x766F6361  # 'voca'


def label_overview(engine: Engine, path: str | Path | None = None) -> pd.DataFrame:
    """Every raw label kept on events, with what it is counted as now and what the vocabulary says.

    Columns: field (category|source|whistle|status), field_label (Chinese), label (as written in the
    file), events (count), code (the code most of its events are counted under now), code_label,
    vocab_code (the vocabulary's code, None when it does not know the label: unmapped), pending (bool:
    the vocabulary knows it — e.g. the file was edited by hand — but events still carry another code;
    :func:`map_label` with the vocabulary's code applies it). Unmapped labels first, then by count.
    """
    voc = load_vocabulary(path)
    rows = []
    with connect(engine) as conn:
        for f in RAW_LABEL_FIELDS:
            raw, code = events.c[f"{f}_raw"], events.c[f]
            q = select(raw, code, func.count()).where(raw.is_not(None)).group_by(raw, code)
            rows += [(f, label, c, n) for label, c, n in conn.execute(q)]
    cols = ["field", "field_label", "label", "events", "code", "code_label", "vocab_code", "pending"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows, columns=["field", "label", "code", "events"])
    df["vocab_code"] = [voc.code(f, lb) for f, lb in zip(df["field"], df["label"])]
    # what map_label would still change; status: the close time decides closed or open (see map_label)
    df["pending"] = df["vocab_code"].notna() & (df["code"] != df["vocab_code"]) & (
        (df["field"] != "status") | ((df["code"] != "closed") & (df["vocab_code"] != "closed")))
    df = (df.sort_values("events", ascending=False).groupby(["field", "label"], as_index=False, sort=False)
          .agg(events=("events", "sum"), code=("code", "first"), vocab_code=("vocab_code", "first"),
               pending=("pending", "any")))
    df["field_label"] = df["field"].map(FIELD_LABELS)
    df["code_label"] = [FIELDS[f].get(c, c) for f, c in zip(df["field"], df["code"])]
    df["_known"] = df["vocab_code"].notna()
    df["vocab_code"] = df["vocab_code"].astype(object).where(df["_known"], None)
    return df.sort_values(["_known", "events"], ascending=[True, False], ignore_index=True)[cols]


def map_label(engine: Engine, field: str, label: str, code: str, actor: str | None = None,
              path: str | Path | None = None) -> int:
    """Map ``label`` of ``field`` to ``code``: append it to the vocabulary (``path``, default the
    configured file) and re-map the events imported with it (and with the same label written
    differently: spacing, full-width forms…); refresh their rollup slices; audit. Returns the number
    of events changed.

    Status: an event's close time decides whether it is closed, so mapping a status label to
    ``closed`` changes no open event (it has no close time) and mapping it to an open stage changes no
    event that has one. Raises :class:`InvalidParameterError` for an unknown field or code and
    :class:`data_access.vocab.VocabularyError` when the vocabulary maps the label to another code.
    """
    if field not in FIELDS or code not in FIELDS[field]:
        raise InvalidParameterError(f"未知的字段或代码 / unknown field or code: {field}={code}")
    label = str(label).strip()
    if not normalize_label(label):
        raise InvalidParameterError("标签为空 / empty label")
    target = Path(path) if path else vocabulary_path()

    def work(conn: Connection) -> int:
        if conn.dialect.name == "postgresql":  # one vocabulary writer at a time (the file is shared)
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _VOCABULARY_LOCK})
        raw = events.c[f"{field}_raw"]
        key = normalize_label(label)
        variants = [v for (v,) in conn.execute(select(raw).where(raw.is_not(None)).distinct())
                    if normalize_label(v) == key]
        changed = 0
        if variants:
            which = raw.in_(variants) & (events.c[field] != code)
            if field == "status":
                which &= events.c.closed_at.is_not(None) if code == "closed" else events.c.closed_at.is_(None)
            slices = {(a, m) for a, m in conn.execute(
                select(events.c.l0_code, month_of(events.c.reported_at)).where(which).distinct())}
            changed = conn.execute(update(events).where(which).values({field: code})).rowcount
            refresh(conn, slices)
        record(conn, actor, "label_map", {"field": field, "label": label, "code": code, "events": changed,
                                          "vocabulary": target.name})
        add_alias(field, label, code, target)  # last: a failure here rolls the re-mapping back
        return changed

    return write_transaction(engine, work, long=True)
