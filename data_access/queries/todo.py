"""A unit's to-do list: what its staff must act on, and how it compares with its peers."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, func, select

from data_access.db.connection import connect
from data_access.db.schema import events, sanling_judgements, sanling_subjects, units
from data_access.errors import OutOfScopeError
from data_access.filters import Period, Scope, Unit, _apply_scope
from data_access.queries import events as ev
from data_access.queries.patrol import patrolled
from data_access.queries.sanling import latest_judged_month
from data_access.vocab import SUBJECT_TYPES
from data_access.workdays import add_workdays, workdays_between


def _horizon(as_of: datetime, workdays: int) -> datetime:
    """The end of the working day ``workdays`` working days after ``as_of`` (holidays and 调休 counted)."""
    return datetime.combine(add_workdays(as_of, workdays), datetime.max.time())


def due_soon(engine: Engine, scope: Scope, unit: Unit, workdays: int = 2, *, as_of: datetime,
             limit: int = 200) -> pd.DataFrame:
    """Open events not yet overdue at ``as_of`` whose deadline falls within ``workdays`` working days,
    the ``limit`` soonest (:func:`todo_counts` has how many there are in all).

    Columns: those of events.event_list plus workdays_left (int, working days until the deadline).
    """
    df = ev.event_list(engine, scope, unit, None, as_of=as_of, limit=limit, due_by=_horizon(as_of, workdays))
    df = df.assign(workdays_left=[workdays_between(as_of, d) for d in df["deadline"]])
    return df.reset_index(drop=True)


def overdue(engine: Engine, scope: Scope, unit: Unit, *, as_of: datetime, limit: int = 200) -> pd.DataFrame:
    """Open events past their deadline at ``as_of``, the ``limit`` most overdue first, with workdays_over
    (working days; :func:`todo_counts` has how many there are in all)."""
    df = ev.event_list(engine, scope, unit, None, status="overdue_open", as_of=as_of, limit=limit)
    return df.assign(workdays_over=[max(1, workdays_between(d, as_of)) for d in df["deadline"]])


def todo_counts(engine: Engine, scope: Scope, unit: Unit, workdays: int = 2, *, as_of: datetime) -> dict[str, int]:
    """How many events the to-do lists hold in all (the lists show the first ``limit``): {"overdue_open":
    open past their deadline at ``as_of``, whenever reported; "due_soon": open, due within ``workdays``
    working days of ``as_of``}."""
    q = select(func.count().filter(ev.open_overdue(as_of)),
               func.count().filter(ev.open_due(as_of, _horizon(as_of, workdays))))
    q = q.select_from(events).where(events.c.closed_at.is_(None))  # the partial index of open events
    with connect(engine) as conn:
        over, soon = conn.execute(_apply_scope(q, events, scope, unit)).one()
    return {"overdue_open": int(over), "due_soon": int(soon)}


def noncompliant_subjects(engine: Engine, scope: Scope, unit: Unit, period: Period) -> pd.DataFrame:
    """三零 subjects judged not compliant in the latest judged month up to ``period``'s end.

    Columns: month, name, kind, subject_type, type_label, department, unit_code, broke (Chinese), note.
    """
    s, j = sanling_subjects, sanling_judgements
    cols = ["month", "name", "kind", "subject_type", "type_label", "department", "unit_code", "broke", "note"]
    q = _apply_scope(select(j.c.month, s.c.name, s.c.kind, s.c.subject_type, s.c.department, s.c.unit_code,
                            j.c.broke_petition, j.c.broke_accident, j.c.broke_case, j.c.note)
                     .select_from(j.join(s, s.c.id == j.c.subject_id))
                     .where(j.c.month == latest_judged_month(scope, unit, period), j.c.compliant.is_(False)),
                     s, scope, unit).order_by(s.c.name)
    with connect(engine) as conn:
        rows = conn.execute(q).mappings().all()
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows, columns=["month", "name", "kind", "subject_type", "department", "unit_code",
                                     "broke_petition", "broke_accident", "broke_case", "note"])
    df["type_label"] = df["subject_type"].map(lambda t: SUBJECT_TYPES.get(t, (t, ""))[0])
    df["broke"] = ["、".join(z for z, b in (("上访", p), ("事故", a), ("案件", c)) if b)
                   for p, a, c in zip(df["broke_petition"], df["broke_accident"], df["broke_case"])]
    return df[cols]


def uncovered_cells(engine: Engine, scope: Scope, unit: Unit, period: Period, limit: int = 500) -> pd.DataFrame:
    """Grid cells (level-4 units under ``unit``) no patrol track passed in ``period``: code, name, parent_code."""
    q = _apply_scope(select(units.c.code, units.c.name, units.c.parent_code)
                     .where(units.c.level == 4, ~patrolled(period)), units, scope, unit)
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q.order_by(units.c.code).limit(int(limit))).all(),
                            columns=["code", "name", "parent_code"])


def peer_benchmark(engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime) -> dict:
    """How ``unit`` compares with the units of its level in its district — aggregates only.

    Deliberately reads the peers' figures (which the caller's scope does not cover) but returns
    nothing that identifies another unit: keys peers (count), rank (1 = best closure rate),
    peer_avg_closure_rate, peer_avg_overdue_share, own_closure_rate. Raises :class:`OutOfScopeError`
    for a ``unit`` outside ``scope``: its rank and rate are that unit's figures.
    """
    if not unit.within(scope):
        raise OutOfScopeError(unit.code)
    if unit.level == 0:
        return {"peers": 1, "rank": 1, "peer_avg_closure_rate": float("nan"), "peer_avg_overdue_share": float("nan"),
                "own_closure_rate": float("nan")}
    district = Unit(unit.ancestors[0], "", 0, None, "", (unit.ancestors[0], None, None, None, None))
    peers = ev._grouped(engine, Scope.all(), district, period, None, as_of,
                        ev.events.c[f"l{unit.level}_code"], ev.event_rollup.c.unit_code, unit.level, None)
    peers = peers[peers["reported"] > 0]
    rate = peers["closed"] / peers["reported"]
    share = peers["overdue"] / peers["reported"]
    own = rate[peers["grp"] == unit.code]
    own_rate = float(own.iloc[0]) if len(own) else float("nan")
    rank = int((rate > own_rate).sum()) + 1 if len(own) else None
    return {"peers": int(len(peers)), "rank": rank, "peer_avg_closure_rate": float(rate.mean()) if len(rate) else
            float("nan"), "peer_avg_overdue_share": float(share.mean()) if len(share) else float("nan"),
            "own_closure_rate": own_rate}


__all__ = ["due_soon", "overdue", "noncompliant_subjects", "uncovered_cells", "peer_benchmark"]
