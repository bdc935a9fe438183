"""Queries the meeting snapshot (PDF / Excel) needs beyond the event metrics.

三零 compliance over the period, patrol counts, per-child breakdowns, the overdue list with
its place names, the data source and the export audit. Every query takes the caller's :class:`Scope` and applies it
with :func:`filters._apply_scope`. (The thematic pages have their own 三零/patrol
queries; these are the few the report needs, kept here until both are merged.)

Definitions:

* **三零 compliance** (达标率): judgements marked compliant / judgements in the period's
  months (a subject judged in three months of a quarter counts three times);
* **patrol coverage** (巡逻覆盖率): share of grid cells (level-4 units) under the unit that
  at least one patrol passed through in the period.
"""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, and_, case, distinct, func, insert, select

from data_access import vocab
from data_access.db.connection import begin, connect
from data_access.db.schema import (
    audit_log,
    events,
    meta,
    patrol_visits,
    patrols,
    sanling_judgements,
    sanling_subjects,
    units,
)
from data_access.filters import Period, Scope, Unit, _apply_scope
from data_access.queries.indicators import patrol_coverage

_ZERO_FLAGS = (("broke_petition", "零上访"), ("broke_accident", "零事故"), ("broke_case", "零案件"))


def _sum(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _judged_in(period: Period):
    return and_(sanling_judgements.c.month >= period.start, sanling_judgements.c.month < period.end)


def sanling_summary(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """三零 compliance under ``unit`` by subject kind.

    Columns: kind (village | enterprise), kind_label, judged (subject-months), compliant,
    compliance_rate (0–1, NaN when nothing was judged). Both kinds are always present.
    """
    q = select(sanling_subjects.c.kind, func.count().label("judged"),
               _sum(sanling_judgements.c.compliant.is_(True)).label("compliant")).select_from(
        sanling_subjects.join(sanling_judgements, sanling_judgements.c.subject_id == sanling_subjects.c.id)
    ).where(_judged_in(period))
    q = _apply_scope(q, sanling_subjects, scope, unit).group_by(sanling_subjects.c.kind)
    with connect(engine) as conn:
        got = {r.kind: (int(r.judged), int(r.compliant)) for r in conn.execute(q)}
    rows = [{"kind": k, "kind_label": lab, "judged": got.get(k, (0, 0))[0], "compliant": got.get(k, (0, 0))[1]}
            for k, lab in vocab.SUBJECT_KINDS.items()]
    df = pd.DataFrame(rows)
    df["compliance_rate"] = (df["compliant"] / df["judged"].where(df["judged"] > 0)).astype(float)
    return df


def sanling_noncompliant(engine: Engine, scope: Scope, unit: Unit, period: Period, limit: int = 500
                         ) -> pd.DataFrame:
    """Subjects judged non-compliant in the period, newest month first.

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
    ).where(_judged_in(period), sanling_judgements.c.compliant.is_(False))
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


def _cells_by(scope: Scope, unit: Unit, group_col):
    """Grid cells (level-4 units) under ``unit`` per ``group_col``: columns code, cells."""
    return _apply_scope(select(group_col.label("code"), func.count().label("cells")).where(units.c.level == 4),
                        units, scope, unit).group_by(group_col)


def _covered_by(scope: Scope, unit: Unit, period: Period, group_col):
    """Cells a patrol passed in ``period`` per ``group_col``: columns code, covered."""
    q = select(group_col.label("code"), func.count(distinct(patrol_visits.c.unit_code)).label("covered")).select_from(
        patrol_visits.join(units, units.c.code == patrol_visits.c.unit_code)).where(
        patrol_visits.c.visited_on >= period.start, patrol_visits.c.visited_on < period.end)
    return _apply_scope(q, units, scope, unit).group_by(group_col)


def patrol_summary(engine: Engine, scope: Scope, unit: Unit, period: Period) -> dict:
    """Patrol figures under ``unit``: cells, covered, coverage (as :func:`indicators.patrol_coverage`),
    plus patrols (count of patrols started in the period whose home unit is under ``unit``) and km
    (their total length)."""
    pq = _apply_scope(select(func.count(), func.coalesce(func.sum(patrols.c.length_km), 0.0)).where(
        patrols.c.started_at >= period.start_dt, patrols.c.started_at < period.end_dt), patrols, scope, unit)
    with connect(engine) as conn:
        n, km = conn.execute(pq).one()
    return patrol_coverage(engine, scope, unit, period) | {"patrols": int(n), "km": float(km)}


def child_breakdown(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """三零 compliance and patrol coverage for each direct child of ``unit``.

    Columns: code, judged, compliant, compliance_rate (0–1, NaN when nothing was judged),
    cells, covered, coverage (0–1, NaN without cells). One row per child (inside ``scope``),
    ordered by code; empty for a unit at the lowest level.
    """
    cols = ["code", "judged", "compliant", "compliance_rate", "cells", "covered", "coverage"]
    if unit.level >= 4:
        return pd.DataFrame(columns=cols)
    lv = unit.level + 1
    kids = _apply_scope(select(units.c.code).where(units.c.parent_code == unit.code), units, scope)
    sl = select(sanling_subjects.c[f"l{lv}_code"].label("code"), func.count().label("judged"),
                _sum(sanling_judgements.c.compliant.is_(True)).label("compliant")).select_from(
        sanling_subjects.join(sanling_judgements, sanling_judgements.c.subject_id == sanling_subjects.c.id)
    ).where(_judged_in(period))
    sl = _apply_scope(sl, sanling_subjects, scope, unit).group_by(sanling_subjects.c[f"l{lv}_code"])
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(kids).all(), columns=["code"])
        parts = [
            pd.DataFrame(conn.execute(sl).all(), columns=["code", "judged", "compliant"]),
            pd.DataFrame(conn.execute(_cells_by(scope, unit, units.c[f"l{lv}_code"])).all(),
                         columns=["code", "cells"]),
            pd.DataFrame(conn.execute(_covered_by(scope, unit, period, units.c[f"l{lv}_code"])).all(),
                         columns=["code", "covered"]),
        ]
    for part in parts:
        df = df.merge(part, on="code", how="left")
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
    ).where(events.c.reported_at >= period.start_dt, events.c.reported_at < period.end_dt,
            events.c.closed_at.is_(None), events.c.deadline < as_of)
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
