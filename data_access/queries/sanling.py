"""三零 creation: compliance (达标率), subjects by type and department, monthly history, which zero broke where.

One definition of 三零 compliance for every surface (wall, pages, PDF/Excel, warnings, ranking):
subjects judged compliant / subjects judged, in the latest judged month up to the period's end
(:func:`latest_judged_month`). A subject counts once, as the seed reports count them ("475 villages,
407 compliant"); a quarter reads its last judged month.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, case, func, select

from data_access.db.connection import connect
from data_access.db.schema import sanling_judgements, sanling_subjects, units
from data_access.db.sqlfn import month_of
from data_access.filters import Period, Scope, Unit, _apply_scope
from data_access.vocab import SUBJECT_KINDS, SUBJECT_TYPES

S, J = sanling_subjects, sanling_judgements


def latest_judged_month(scope: Scope, unit: Unit, period: Period):
    """The month every 三零 figure of ``unit`` and ``period`` reads (a scalar subquery, a date or NULL).

    The one definition: the latest month judged for any subject under ``unit`` (inside ``scope``) that
    began before ``period``'s end — the standing the period closes with. A month still running (judged
    next month) therefore shows the last month judged, and says which (``month`` in the results).
    """
    return _apply_scope(select(func.max(J.c.month)).select_from(J.join(S, S.c.id == J.c.subject_id))
                        .where(J.c.month < period.end), S, scope, unit).scalar_subquery().correlate(None)


def _judged(scope: Scope, unit: Unit, period: Period, *cols):
    """Judgements of the latest judged month under ``unit``, selecting ``cols`` (scoped)."""
    return _apply_scope(select(*cols).select_from(J.join(S, S.c.id == J.c.subject_id))
                        .where(J.c.month == latest_judged_month(scope, unit, period)), S, scope, unit)


def _compliant_count():
    return func.coalesce(func.sum(case((J.c.compliant, 1), else_=0)), 0)


def compliance_by_kind(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """三零 compliance (达标率) under ``unit`` by subject kind, in :func:`latest_judged_month`.

    Columns: kind (village | enterprise), kind_label, month ('YYYY-MM' or None), subjects (judged that
    month), compliant, rate (0–1, NaN when nothing was judged). Both kinds are always present.
    """
    q = _judged(scope, unit, period, S.c.kind, func.max(J.c.month), func.count(), _compliant_count()
                ).group_by(S.c.kind)
    with connect(engine) as conn:
        got = {k: (m, int(n), int(c)) for k, m, n, c in conn.execute(q).all()}
    month = next((pd.Timestamp(m).strftime("%Y-%m") for m, _, _ in got.values() if m is not None), None)
    df = pd.DataFrame([{"kind": k, "kind_label": lab, "month": month, "subjects": got.get(k, (0, 0, 0))[1],
                        "compliant": got.get(k, (0, 0, 0))[2]} for k, lab in SUBJECT_KINDS.items()])
    df["rate"] = (df["compliant"] / df["subjects"].where(df["subjects"] > 0)).astype(float)
    return df


def sanling_compliance(engine: Engine, scope: Scope, unit: Unit, period: Period) -> dict:
    """:func:`compliance_by_kind` as one dict (what the tiles and the unit card show).

    Keys: month ('YYYY-MM' or None), village_subjects, village_compliant, village_rate,
    enterprise_subjects, enterprise_compliant, enterprise_rate (rates 0–1, NaN if none).
    """
    df = compliance_by_kind(engine, scope, unit, period)
    out = {"month": df["month"].iat[0]}
    for r in df.itertuples():
        out |= {f"{r.kind}_subjects": int(r.subjects), f"{r.kind}_compliant": int(r.compliant),
                f"{r.kind}_rate": float(r.rate)}
    return out


def compliance_by_child(engine: Engine, scope: Scope, unit: Unit, period: Period, level: int | None = None
                        ) -> pd.DataFrame:
    """三零 compliance per unit at ``level`` (default: the children) under ``unit``, in the latest judged
    month of ``unit`` (:func:`latest_judged_month`), so the children add up to the parent.

    Columns: code, subjects, compliant, noncompliant, rate (0–1). Units without judged subjects are absent.
    """
    lvl = unit.level + 1 if level is None else level
    grp = S.c[f"l{lvl}_code"]
    q = _judged(scope, unit, period, grp, func.count(), _compliant_count()).group_by(grp)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["code", "subjects", "compliant"])
    df = df.astype({"subjects": "int64", "compliant": "int64"})
    df["noncompliant"] = df["subjects"] - df["compliant"]
    df["rate"] = (df["compliant"] / df["subjects"]).astype(float)
    return df[["code", "subjects", "compliant", "noncompliant", "rate"]]


def subjects_by_type(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """Per subject type in the latest judged month: type, type_label, kind_label, department,
    subjects, compliant, rate (0–1). Ordered by subjects, descending."""
    cols = ["type", "type_label", "kind_label", "department", "subjects", "compliant", "rate"]
    q = _judged(scope, unit, period, S.c.subject_type, S.c.kind, func.count(), _compliant_count()
                ).group_by(S.c.subject_type, S.c.kind)
    with connect(engine) as conn:
        rows = conn.execute(q).all()
    if not rows:
        return pd.DataFrame(columns=cols)
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
    q = _judged(scope, unit, period, child, func.count(), func.sum(case((J.c.compliant, 0), else_=1)),
                func.sum(case((J.c.broke_petition, 1), else_=0)), func.sum(case((J.c.broke_accident, 1), else_=0)),
                func.sum(case((J.c.broke_case, 1), else_=0))).group_by(child)
    with connect(engine) as conn:
        names = dict(conn.execute(_apply_scope(select(units.c.code, units.c.name)
                                               .where(units.c.parent_code == unit.code), units, scope)).all())
        rows = conn.execute(q).all()
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows, columns=["code", "subjects", "noncompliant", "petition", "accident", "case"])
    df.insert(1, "name", df["code"].map(names))
    return df.sort_values(["noncompliant", "code"], ascending=[False, True], ignore_index=True)[cols]
