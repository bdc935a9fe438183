"""Queries the meeting snapshot (PDF / Excel) needs beyond the metrics of the catalogue.

The 三零 subjects not compliant, per-child breakdowns, the overdue list with its place names, the data
source and the export audit. Every query takes the caller's :class:`Scope` and applies it with
:func:`filters._apply_scope`. The figures themselves (三零 compliance, patrol coverage, …) come from the
one function each that :mod:`data_access.queries.catalogue` names, as on every other surface.
"""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, insert, select

from data_access import vocab
from data_access.db.connection import begin, connect
from data_access.db.schema import (
    audit_log,
    events,
    meta,
    sanling_judgements,
    sanling_subjects,
    units,
)
from data_access.filters import Period, Scope, Unit, _apply_scope
from data_access.queries import patrol, sanling
from data_access.queries.events import open_overdue

_ZERO_FLAGS = (("broke_petition", "零上访"), ("broke_accident", "零事故"), ("broke_case", "零案件"))


def sanling_noncompliant(engine: Engine, scope: Scope, unit: Unit, period: Period, limit: int = 500
                         ) -> pd.DataFrame:
    """Subjects judged non-compliant in the month 三零 compliance reads (:func:`sanling.latest_judged_month`).

    Columns: subject_id, name, kind_label, type_label, department, unit_name (the unit the
    subject belongs to), l1_name (its subdistrict), month (date), broken (e.g. '零事故'), note.
    """
    l1 = units.alias("l1")
    q = select(
        sanling_subjects.c.id.label("subject_id"), sanling_subjects.c.name, sanling_subjects.c.kind,
        sanling_subjects.c.subject_type, sanling_subjects.c.department, units.c.name.label("unit_name"),
        l1.c.name.label("l1_name"), sanling_judgements.c.month, sanling_judgements.c.broke_petition,
        sanling_judgements.c.broke_accident, sanling_judgements.c.broke_case, sanling_judgements.c.note,
    ).select_from(
        sanling_subjects.join(sanling_judgements, sanling_judgements.c.subject_id == sanling_subjects.c.id)
        .join(units, units.c.code == sanling_subjects.c.unit_code)
        .outerjoin(l1, l1.c.code == sanling_subjects.c.l1_code)
    ).where(sanling_judgements.c.month == sanling.latest_judged_month(scope, unit, period),
            sanling_judgements.c.compliant.is_(False))
    q = _apply_scope(q, sanling_subjects, scope, unit).order_by(
        sanling_judgements.c.month.desc(), sanling_subjects.c.kind.desc(), sanling_subjects.c.id).limit(int(limit))
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])
    df["kind_label"] = df["kind"].map(vocab.SUBJECT_KINDS)
    df["type_label"] = df["subject_type"].map(lambda t: vocab.SUBJECT_TYPES.get(t, (t, ""))[0])
    df["broken"] = [
        "、".join(lab for flag, lab in _ZERO_FLAGS if row[flag]) for row in df[[f for f, _ in _ZERO_FLAGS]]
        .astype(bool).to_dict("records")]
    df["month"] = pd.to_datetime(df["month"]).dt.date
    return df[["subject_id", "name", "kind_label", "type_label", "department", "unit_name", "l1_name", "month",
               "broken", "note"]]


def child_breakdown(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """三零 compliance (:func:`sanling.compliance_by_child`) and patrol coverage (:func:`patrol.coverage_by`) for
    each direct child of ``unit``.

    Columns: code, judged (subjects judged), compliant, compliance_rate (0–1, NaN when nothing was judged),
    cells, covered, coverage (0–1, NaN without cells). One row per child (inside ``scope``), ordered by
    code; empty for a unit at the lowest level.
    """
    cols = ["code", "judged", "compliant", "compliance_rate", "cells", "covered", "coverage"]
    if unit.level >= 4:
        return pd.DataFrame(columns=cols)
    lv = unit.level + 1
    kids = _apply_scope(select(units.c.code).where(units.c.parent_code == unit.code), units, scope)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(kids).all(), columns=["code"])
    sl = sanling.compliance_by_child(engine, scope, unit, period, lv)[["code", "subjects", "compliant"]]
    cov = patrol.coverage_by(engine, scope, unit, period, lv)[["code", "cells", "covered"]]
    df = df.merge(sl.rename(columns={"subjects": "judged"}), on="code", how="left").merge(cov, on="code", how="left")
    df = df.fillna(0).astype({c: "int64" for c in ("judged", "compliant", "cells", "covered")})
    df["compliance_rate"] = (df["compliant"] / df["judged"].where(df["judged"] > 0)).astype(float)
    df["coverage"] = (df["covered"] / df["cells"].where(df["cells"] > 0)).astype(float)
    return df[cols].sort_values("code", ignore_index=True)


def overdue_events(engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime,
                   limit: int = 500) -> pd.DataFrame:
    """Events reported in the period and still open past their deadline at ``as_of``, most overdue first.

    Columns: id, title, category_label, source_label, whistle_label, status_label, l1_name
    (subdistrict), l2_name (community/village), unit_name (the grid cell), responsible_unit,
    reported_at, deadline (datetime64), overdue_days (whole days past the deadline, int).
    """
    l1, l2 = units.alias("l1"), units.alias("l2")
    q = select(
        events.c.id, events.c.title, events.c.category, events.c.source, events.c.whistle, events.c.status,
        l1.c.name.label("l1_name"), l2.c.name.label("l2_name"), units.c.name.label("unit_name"),
        events.c.responsible_unit, events.c.reported_at, events.c.deadline,
    ).select_from(
        events.join(units, units.c.code == events.c.unit_code)
        .outerjoin(l1, l1.c.code == events.c.l1_code).outerjoin(l2, l2.c.code == events.c.l2_code)
    ).where(events.c.reported_at >= period.start_dt, events.c.reported_at < period.end_dt, open_overdue(as_of))
    q = _apply_scope(q, events, scope, unit).order_by(events.c.deadline.asc(), events.c.id).limit(int(limit))
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])
    for col, labels in (("category", vocab.CATEGORIES), ("source", vocab.SOURCES), ("whistle", vocab.WHISTLES),
                        ("status", vocab.STATUSES)):
        df[f"{col}_label"] = df[col].map(labels).fillna(df[col])
    for col in ("reported_at", "deadline"):
        df[col] = pd.to_datetime(df[col])
    df["overdue_days"] = ((pd.Timestamp(as_of) - df["deadline"]).dt.total_seconds() // 86400).astype("int64")
    return df[["id", "title", "category_label", "source_label", "whistle_label", "status_label", "l1_name",
               "l2_name", "unit_name", "responsible_unit", "reported_at", "deadline", "overdue_days"]]


def data_source(engine: Engine) -> dict:
    """What the figures come from: ``{"source": label, "as_of": iso str or None, "engine": name}``."""
    with connect(engine) as conn:
        rows = dict(conn.execute(select(meta.c.key, meta.c.value).where(meta.c.key.in_(("source", "as_of")))).all())
    return {"source": rows.get("source") or "网格化服务管理信息系统", "as_of": rows.get("as_of"),
            "engine": "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"}


def report_units(engine: Engine, scope: Scope, unit: Unit, depth: int = 2) -> pd.DataFrame:
    """Units a report can be made for: ``unit`` and its descendants down ``depth`` levels.

    Columns: code, name, level, parent_code. Ordered by level, then code.
    """
    q = _apply_scope(select(units.c.code, units.c.name, units.c.level, units.c.parent_code).where(
        units.c.level <= unit.level + depth), units, scope, unit).order_by(units.c.level, units.c.code)
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["code", "name", "level", "parent_code"])


def log_export(engine: Engine, username: str | None, unit: Unit, period: Period, fmt: str,
               sections: tuple[str, ...] | None = None, *, at: datetime) -> None:
    """Record an export made at ``at`` in ``audit_log`` (action ``export``; detail JSON: unit, unit_name,
    period, format)."""
    detail = {"unit": unit.code, "unit_name": unit.name, "period": period.token, "format": fmt}
    if sections is not None:
        detail["sections"] = list(sections)
    with begin(engine) as conn:
        conn.execute(insert(audit_log).values(at=at.replace(microsecond=0), username=username,
                                              action="export", detail=json.dumps(detail, ensure_ascii=False)))
