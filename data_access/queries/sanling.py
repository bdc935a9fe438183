"""三零 creation: subjects by type and department, monthly compliance, which zero broke where."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, case, func, select

from data_access.db.connection import connect
from data_access.db.schema import sanling_judgements, sanling_subjects, units
from data_access.db.sqlfn import month_of
from data_access.filters import Period, Scope, Unit, _apply_scope
from data_access.vocab import SUBJECT_KINDS, SUBJECT_TYPES

S, J = sanling_subjects, sanling_judgements


def _latest_month(conn, scope, unit, period):
    q = _apply_scope(select(func.max(J.c.month)).select_from(J.join(S, S.c.id == J.c.subject_id))
                     .where(J.c.month < period.end), S, scope, unit)
    return conn.execute(q).scalar()


def subjects_by_type(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """Per subject type in the latest judged month: type, type_label, kind_label, department,
    subjects, compliant, rate (0–1). Ordered by subjects, descending."""
    cols = ["type", "type_label", "kind_label", "department", "subjects", "compliant", "rate"]
    with connect(engine) as conn:
        month = _latest_month(conn, scope, unit, period)
        if month is None:
            return pd.DataFrame(columns=cols)
        q = _apply_scope(select(S.c.subject_type, S.c.kind, func.count(), func.sum(case((J.c.compliant, 1), else_=0)))
                         .select_from(J.join(S, S.c.id == J.c.subject_id)).where(J.c.month == month),
                         S, scope, unit).group_by(S.c.subject_type, S.c.kind)
        rows = conn.execute(q).all()
    df = pd.DataFrame(rows, columns=["type", "kind", "subjects", "compliant"])
    df["type_label"] = df["type"].map(lambda t: SUBJECT_TYPES.get(t, (t, ""))[0])
    df["department"] = df["type"].map(lambda t: SUBJECT_TYPES.get(t, ("", ""))[1])
    df["kind_label"] = df["kind"].map(SUBJECT_KINDS)
    df["rate"] = df["compliant"] / df["subjects"]
    return df[cols].sort_values("subjects", ascending=False, ignore_index=True)


def compliance_monthly(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """Monthly compliance up to ``period``'s end: month ('YYYY-MM'), kind, kind_label, subjects,
    compliant, rate (0–1), broke_petition, broke_accident, broke_case (counts)."""
    m = month_of(J.c.month)
    q = _apply_scope(select(m, S.c.kind, func.count(), func.sum(case((J.c.compliant, 1), else_=0)),
                            func.sum(case((J.c.broke_petition, 1), else_=0)),
                            func.sum(case((J.c.broke_accident, 1), else_=0)),
                            func.sum(case((J.c.broke_case, 1), else_=0)))
                     .select_from(J.join(S, S.c.id == J.c.subject_id)).where(J.c.month < period.end),
                     S, scope, unit).group_by(m, S.c.kind).order_by(m)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["month", "kind", "subjects", "compliant", "broke_petition",
                                                          "broke_accident", "broke_case"])
    df["kind_label"] = df["kind"].map(SUBJECT_KINDS)
    df["rate"] = df["compliant"] / df["subjects"]
    return df[["month", "kind", "kind_label", "subjects", "compliant", "rate", "broke_petition", "broke_accident",
               "broke_case"]]


def broken_by_child(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """Which zero broke where, in the latest judged month: per child of ``unit`` — code, name,
    subjects, noncompliant, petition, accident, case (counts)."""
    cols = ["code", "name", "subjects", "noncompliant", "petition", "accident", "case"]
    if unit.level >= 4:
        return pd.DataFrame(columns=cols)
    child = S.c[f"l{unit.level + 1}_code"]
    with connect(engine) as conn:
        month = _latest_month(conn, scope, unit, period)
        names = dict(conn.execute(_apply_scope(select(units.c.code, units.c.name)
                                               .where(units.c.parent_code == unit.code), units, scope)).all())
        if month is None:
            return pd.DataFrame(columns=cols)
        q = _apply_scope(select(child, func.count(), func.sum(case((J.c.compliant, 0), else_=1)),
                                func.sum(case((J.c.broke_petition, 1), else_=0)),
                                func.sum(case((J.c.broke_accident, 1), else_=0)),
                                func.sum(case((J.c.broke_case, 1), else_=0)))
                         .select_from(J.join(S, S.c.id == J.c.subject_id)).where(J.c.month == month),
                         S, scope, unit).group_by(child)
        rows = conn.execute(q).all()
    df = pd.DataFrame(rows, columns=["code", "subjects", "noncompliant", "petition", "accident", "case"])
    df.insert(1, "name", df["code"].map(names))
    return df.sort_values(["noncompliant", "code"], ascending=[False, True], ignore_index=True)[cols]
