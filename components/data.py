"""The cache edge between pages and data_access.

Every page reads data through :func:`query`, which is cached with
``st.cache_data`` keyed by plain values only (function name, database URL, scope
tuple, unit code, period token, ``as_of``, keyword values). The scope is part of the key, so
two users with different scopes never share a cached answer.

``as_of`` ("now" for figures that depend on it: overdue, running periods, to-do lists) is read
once per page run by :func:`run_as_of` and passed down. It is truncated to the minute so that it
does not defeat the cache: within a minute every run asks for the same key, and a minute is as
long as the cache keeps an answer anyway (``CACHE_TTL_S`` = 60 s), so the hit rate is unchanged;
overdue counts move at most a minute late, which nobody can see (deadlines fall on the hour).

Every answer is also keyed by the *data version* (:func:`data_access.db.version.data_version`), which
every writer bumps in its own transaction: a new event reaches every page and every wall at its next
run, not when a TTL runs out, and N walls on the same view cost one query per data change. The TTLs
(``CACHE_TTL_S``, ``LIVE_TTL_S``) only bound how late a change made *outside* the app's writers (a
hand-made SQL edit) shows. The version itself is read at most every ``DATA_VERSION_POLL_S`` seconds
per process (:func:`current_version`), so a burst of walls asks the database for it once.
"""

from __future__ import annotations

import inspect
import threading
import time
from datetime import datetime
from typing import Any

import streamlit as st

from common import settings
from data_access import alerts, data_version, default_url, get_engine
from data_access.filters import Scope, parse_period
from data_access.queries import (
    catalogue,
    events,
    freshness,
    indicators,
    loop,
    map_layers,
    patrol,
    ranking,
    safety,
    sanling,
    targets,
    todo,
    units,
    warnings,
)

CACHE_TTL_S = settings.get("CACHE_TTL_S")
# The wall refreshes in place; its figures may be at most this old.
LIVE_TTL_S = settings.get("LIVE_TTL_S")

# name -> (function, takes_period). Only these may be called through the cache edge.
QUERIES: dict[str, tuple[Any, bool]] = {
    "event_kpis": (events.event_kpis, True),
    "closure_by": (events.closure_by, True),
    "child_event_kpis": (events.child_event_kpis, True),
    "event_trend": (events.event_trend, True),
    "event_list": (events.event_list, True),
    "unit_info": (units.unit_info, False),
    "children": (units.children, False),
    "latest_event_time": (events.latest_event_time, False),
    "source_freshness": (freshness.source_freshness, False),
    "deadline_span": (events.deadline_span, True),
    "event_monthly": (indicators.event_monthly, True),
    "sanling_compliance": (sanling.sanling_compliance, True),
    "petition_stats": (indicators.petition_stats, True),
    "criminal_case_stats": (indicators.criminal_case_stats, True),
    "mediation_stats": (indicators.mediation_stats, True),
    "camera_stats": (indicators.camera_stats, False),
    "patrol_coverage": (patrol.patrol_coverage, True),
    "child_warnings": (warnings.child_warnings, True),
    "unit_warning": (warnings.unit_warning, True),
    "event_points": (map_layers.event_points, True),
    "patrol_tracks": (map_layers.patrol_tracks, True),
    "camera_points": (map_layers.camera_points, False),
    "police_room_points": (map_layers.police_room_points, False),
    "due_soon": (todo.due_soon, False),
    "overdue": (todo.overdue, False),
    "todo_counts": (todo.todo_counts, False),
    "noncompliant_subjects": (todo.noncompliant_subjects, True),
    "uncovered_cells": (todo.uncovered_cells, True),
    "peer_benchmark": (todo.peer_benchmark, True),
    "funnel": (loop.funnel, True),
    "whistle_stats": (loop.whistle_stats, True),
    "subjects_by_type": (sanling.subjects_by_type, True),
    "compliance_monthly": (sanling.compliance_monthly, True),
    "broken_by_child": (sanling.broken_by_child, True),
    "coverage_by_child": (patrol.coverage_by_child, True),
    "double_patrol": (patrol.double_patrol, True),
    "three_minute_circle": (patrol.three_minute_circle, False),
    "team_stats": (patrol.team_stats, True),
    "camera_by_child": (patrol.camera_by_child, False),
    "mediation_by_type": (safety.mediation_by_type, True),
    "petition_monthly": (safety.petition_monthly, True),
    "case_stats": (safety.case_stats, True),
    "inspections": (safety.inspections, True),
    "ranking": (ranking.ranking, True),
    "metric_values": (catalogue.metric_values, True),
    "unit_alerts": (alerts.unit_alerts, False),
}
# every function the metric catalogue names is callable here under its own name
QUERIES |= {m.query_name: (m.query, m.takes_period) for m in catalogue.METRICS}


def run_as_of() -> datetime:
    """The one place the app reads the wall clock: "now" for this page run, to the minute."""
    return datetime.now().replace(second=0, microsecond=0)


def takes_as_of(name: str) -> bool:
    """True when the query ``name`` depends on "now" (has an ``as_of`` parameter)."""
    return "as_of" in inspect.signature(QUERIES[name][0]).parameters


def register(name: str, fn, takes_period: bool = True) -> None:
    """Make another data_access function callable through :func:`query`."""
    QUERIES[name] = (fn, takes_period)


def db_url() -> str:
    """The database URL, resolved as the command-line tools do (:func:`data_access.default_url`)."""
    return default_url()


@st.cache_resource(show_spinner=False)
def engine(url: str):
    return get_engine(url)


def scope_key(scope: Scope) -> tuple[str | None, int]:
    return (scope.unit_code, scope.level)


_versions: dict[str, tuple[float, str]] = {}
_versions_lock = threading.Lock()


def current_version(url: str | None = None) -> str:
    """The data version of ``url`` (default: this app's database), read from the database at most every
    ``DATA_VERSION_POLL_S`` seconds per process. Raises DatabaseUnavailableError during an outage."""
    url = url or db_url()
    poll = settings.get("DATA_VERSION_POLL_S")
    now = time.monotonic()
    seen = _versions.get(url)
    if seen is not None and now - seen[0] < poll:
        return seen[1]
    with _versions_lock:  # one reader per process; the sessions arriving meanwhile take its answer
        seen = _versions.get(url)
        if seen is not None and time.monotonic() - seen[0] < poll and seen[0] >= now:
            return seen[1]
        version = data_version(engine(url))
        _versions[url] = (time.monotonic(), version)
        return version


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=4000)
def _cached(name: str, url: str, scope: tuple[str | None, int], unit: str | None, period: str | None,
            kwargs: tuple, version: str) -> Any:
    fn, takes_period = QUERIES[name]
    eng = engine(url)
    sc = Scope(*scope)
    u = units.resolve_unit(eng, sc, unit)
    args = (eng, sc, u, parse_period(period, bounded=False)) if takes_period else (eng, sc, u)
    return fn(*args, **dict(kwargs))


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False, max_entries=2000)
def _cached_live(name: str, url: str, scope: tuple[str | None, int], unit: str | None, period: str | None,
                 kwargs: tuple, version: str) -> Any:
    return _cached.__wrapped__(name, url, scope, unit, period, kwargs, version)


def query(name: str, scope: Scope, unit: str | None, period: str | None = None, *, as_of: datetime | None = None,
          live: bool = False, **kwargs) -> Any:
    """Call the data_access function ``name`` for ``unit`` (a code) and ``period`` (a token).

    ``as_of`` (the page run's :func:`run_as_of`) is required by, and passed only to, the functions that
    take it; it is truncated to the minute for the cache key. Keyword values must be hashable plain
    values (str, int, tuples). ``live=True`` uses the short wall TTL (``LIVE_TTL_S``) instead of
    ``CACHE_TTL_S``.
    """
    if takes_as_of(name):
        if as_of is None:
            raise TypeError(f"query {name!r} depends on the time: pass as_of=ctx.as_of")
        kwargs["as_of"] = as_of.replace(second=0, microsecond=0)
    fn = _cached_live if live else _cached
    url = db_url()
    return fn(name, url, scope_key(scope), unit, period, tuple(sorted(kwargs.items())), current_version(url))


def target_values(url: str) -> dict[str, float]:
    return _target_values(url, current_version(url))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _target_values(url: str, version: str) -> dict[str, float]:
    return targets.target_values(engine(url))
