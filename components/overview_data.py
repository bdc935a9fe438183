"""Everything the 一屏统揽 wall shows for one unit and period, gathered in one call."""

from __future__ import annotations

from datetime import datetime

from data_access.filters import Period, Scope, Unit
from data_access.queries.catalogue import BY_KEY, Metric
from data_access.workdays import calendar_note, years_spanned

from .data import query

TICKER_ITEMS = 12
# The wall's twelve tiles, in order: keys of the metric catalogue (data_access.queries.catalogue).
WALL = ("reported", "closed", "closure_rate", "overdue", "village_compliance", "enterprise_compliance", "petitions",
        "criminal_cases", "mediation_settled", "camera_online", "patrol_coverage", "key")
WALL_PREV = ("reported", "closed", "patrol_coverage", "key")  # tiles that say how they changed


def load_overview(scope: Scope, unit: Unit, period: Period, as_of: datetime) -> dict:
    """A plain dict of the wall's figures at ``as_of`` (all through the cached query edge, live TTL).

    Keys: kpi, kpi_prev (event KPI dicts), monthly (DataFrame), by_source, by_whistle, by_category
    (closure_by frames), children (child_event_kpis), trend (event_trend), sanling, petitions,
    sources (source_freshness: newest event per source, its age and colour),
    cases, mediation, cameras, patrol, key_events (DataFrame), alerts (open alerts,
    DataFrame), latest (datetime | None), metrics
    ({key: value} of the wall's catalogue metrics, :data:`WALL`), metrics_prev (those compared with the
    previous period, :data:`WALL_PREV`), prev_label (how the ``*_prev`` figures compare: the previous
    period up to the same date while this one is still running, see ``Period.comparable_previous``),
    calendar_note (str | None: said when a year of the period's deadlines has no holiday calendar, so
    overdue figures count Monday–Friday).
    """
    code, tok = unit.code, period.token
    prev_period = period.comparable_previous(as_of.date())
    prev = prev_period.token

    def q(name, p=tok, **kw):
        return query(name, scope, code, p, as_of=as_of, live=True, **kw)

    def metric(m: Metric, p=tok):  # the catalogue's function, through the same cache as the rest
        return m.pick(q(m.query_name, p) if m.takes_period else query(m.query_name, scope, code, as_of=as_of,
                                                                         live=True))

    return {
        "kpi": q("event_kpis"), "kpi_prev": q("event_kpis", prev),
        "monthly": q("event_monthly"),
        "by_source": q("closure_by", by="source"), "by_whistle": q("closure_by", by="whistle"),
        "by_category": q("closure_by", by="category"),
        "children": q("child_event_kpis"), "trend": q("event_trend"),
        "sanling": q("sanling_compliance"), "petitions": q("petition_stats"), "cases": q("criminal_case_stats"),
        "mediation": q("mediation_stats"), "mediation_prev": q("mediation_stats", prev),
        "cameras": query("camera_stats", scope, code, live=True),
        "patrol": q("patrol_coverage"), "patrol_prev": q("patrol_coverage", prev),
        "key_events": q("event_list", whistle="key", limit=TICKER_ITEMS),
        "alerts": query("unit_alerts", scope, code, live=True, limit=TICKER_ITEMS),
        "latest": query("latest_event_time", scope, code, live=True),
        "sources": query("source_freshness", scope, code, as_of=as_of, live=True),
        "prev_label": "较上期同期" if prev_period.kind == "custom" and period.kind != "custom" else "较上期",
        "calendar_note": calendar_note(years_spanned(*q("deadline_span")), short=True),
        "metrics": {k: metric(BY_KEY[k]) for k in WALL},
        "metrics_prev": {k: metric(BY_KEY[k], prev) for k in WALL_PREV},
    }
