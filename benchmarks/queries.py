"""Query overhead: each query function vs the very SQL it issues, replayed raw on the same connection.

For every function behind the overview, map and thematic pages we record the statements it
executes (SQLAlchemy ``before_cursor_execute``), then time (a) the function and (b) a raw
DB-API replay of those statements with fetchall() — the lower bound for getting the rows.
The ratio is the cost of our Python layer (query building, DataFrame assembly). Where a
function has a rollup path, the raw-events path is timed too.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from .common import BENCH_AS_OF, PERIOD, median_ms


@contextmanager
def _capture(engine):
    stmts: list[tuple[str, object]] = []

    def before(_conn, _cursor, statement, parameters, _context, _executemany):
        if not statement.lstrip().upper().startswith(("PRAGMA", "ANALYZE")):
            stmts.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield stmts
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _replay(engine, stmts) -> None:
    with engine.connect() as conn:
        cur = conn.connection.cursor()
        for sql, params in stmts:
            cur.execute(sql, params)
            cur.fetchall()
        cur.close()


def query_cases(engine):
    """(name, callable, rollup-capable) for the functions the pages call, on the first district."""
    from data_access.filters import Scope, parse_period
    from data_access.queries import events as ev
    from data_access.queries import indicators as ind
    from data_access.queries import patrol as pat
    from data_access.queries import sanling as sl
    from data_access.queries import units as un

    s = Scope.all()
    root = un.home_unit(engine, s)
    sub = un.get_unit(engine, un.children(engine, s, root)["code"].iloc[0])
    p = parse_period(PERIOD)
    t = BENCH_AS_OF
    cases = [
        ("event_kpis[district]", lambda **k: ev.event_kpis(engine, s, root, p, as_of=t, **k), True),
        ("event_kpis[subdistrict]", lambda **k: ev.event_kpis(engine, s, sub, p, as_of=t, **k), True),
        ("child_event_kpis[district]", lambda **k: ev.child_event_kpis(engine, s, root, p, as_of=t, **k), True),
        ("closure_by_source", lambda **k: ev.closure_by(engine, s, root, p, "source", as_of=t, **k), True),
        ("closure_by_category", lambda **k: ev.closure_by(engine, s, root, p, "category", as_of=t, **k), True),
        ("event_monthly", lambda **k: ind.event_monthly(engine, s, root, p, as_of=t, **k), True),
        ("event_trend", lambda: ev.event_trend(engine, s, root, p, as_of=t), False),
        ("event_list_key", lambda: ev.event_list(engine, s, root, p, whistle="key", as_of=t, limit=12), False),
        ("sanling_compliance", lambda: sl.sanling_compliance(engine, s, root, p), False),
        ("petition_stats", lambda: ind.petition_stats(engine, s, root, p, as_of=t), False),
        ("criminal_case_stats", lambda: ind.criminal_case_stats(engine, s, root, p, as_of=t), False),
        ("mediation_stats", lambda: ind.mediation_stats(engine, s, root, p), False),
        ("camera_stats", lambda: ind.camera_stats(engine, s, root), False),
        ("patrol_coverage", lambda: pat.patrol_coverage(engine, s, root, p), False),
        ("children", lambda: un.children(engine, s, root), False),
        ("geometries[district children]", lambda: un.geometries(engine, s, parent=root), False),
    ]
    return cases + extra_cases(engine, s, root, sub, p)


def extra_cases(engine, scope, root, sub, period):
    """The to-do lists (事件办结, 我的指标) and functions other modules add (warnings) when present."""
    out = []
    from data_access.queries import todo

    out += [("due_soon[district]", lambda: todo.due_soon(engine, scope, root, as_of=BENCH_AS_OF), False),
            ("overdue[district]", lambda: todo.overdue(engine, scope, root, as_of=BENCH_AS_OF), False),
            ("todo_counts[district]", lambda: todo.todo_counts(engine, scope, root, as_of=BENCH_AS_OF), False)]
    try:
        from data_access.queries import warnings as w

        out.append(("child_warnings[district]",
                    lambda: w.child_warnings(engine, scope, root, period, as_of=BENCH_AS_OF), False))
    except (ImportError, AttributeError):
        pass
    return out


def run(url: str, log=print) -> dict:
    from data_access.db.engine import get_engine

    engine = get_engine(url)
    rows = []
    for name, fn, has_rollup in query_cases(engine):
        fn()
        with _capture(engine) as stmts:
            fn()
        ours = median_ms(fn)
        raw = median_ms(lambda: _replay(engine, stmts))  # noqa: B023
        row = {"query": name, "ms": round(ours, 2), "raw_sql_ms": round(raw, 2),
               "ratio": round(ours / raw, 2) if raw > 0 else None, "statements": len(stmts)}
        if has_rollup:
            row["raw_events_path_ms"] = round(median_ms(lambda: fn(use_rollup=False)), 2)  # noqa: B023
        rows.append(row)
        log(f"  {name:32s} {ours:8.2f} ms  raw {raw:8.2f} ms  ×{row['ratio']}"
            + (f"  (events path {row['raw_events_path_ms']} ms)" if has_rollup else ""))
    kpi = [r for r in rows if r["query"].startswith(("event_kpis", "sanling", "petition", "criminal", "mediation",
                                                     "camera", "patrol"))]
    return {"queries": rows, "query_overhead_ratio_max": max(r["ratio"] for r in rows if r["ratio"]),
            "kpi_query_ms_max": max(r["ms"] for r in kpi)}
