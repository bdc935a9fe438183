"""What a page is about: who is looking (scope), which unit, which period.

The unit and period live in the URL (``?unit=CODE&period=2026-10``) so every view can
be bookmarked. Bad values never reach SQL: they are validated here and in
data_access, and the page falls back to the home unit / default period with a
clear message instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import streamlit as st

from common.markup import md
from data_access.errors import DataAccessError, OutOfScopeError
from data_access.filters import Period, Scope, Unit, month_period, parse_period
from data_access.queries import units

from . import auth
from .data import db_url, engine, query, run_as_of


@dataclass(frozen=True)
class PageContext:
    """The resolved view: database URL, caller scope, focus unit, period, breadcrumb and ``as_of``
    (the time this page run reads, once, to the minute: pass it to every query that depends on "now")."""

    db: str
    scope: Scope
    unit: Unit
    period: Period
    crumbs: tuple[Unit, ...]
    as_of: datetime

    @property
    def engine(self):
        return engine(self.db)


def current_scope() -> Scope:
    """The logged-in user's scope (set by the login gate); the page stops when nobody is logged in."""
    return auth.scope()


def default_period(scope: Scope, as_of: datetime) -> Period:
    """The month of the newest data (``as_of``'s month in live use, or when there is no data)."""
    latest = query("latest_event_time", scope, None)
    return month_period((latest if isinstance(latest, datetime) else as_of).date())


def resolve_unit_param(scope: Scope) -> Unit:
    """The unit from ``?unit=``; on a bad, unknown or foreign code, warn and use the home unit."""
    eng = engine(db_url())
    code = st.query_params.get("unit")
    try:
        return units.resolve_unit(eng, scope, code)
    except OutOfScopeError:
        st.warning("无权查看该单位，已显示本单位数据。")
    except DataAccessError as exc:
        st.warning(f"{md(exc)}。已显示默认单位。")  # the message quotes the URL: literal text
    if "unit" in st.query_params:
        del st.query_params["unit"]
    return units.home_unit(eng, scope)


def resolve_period_param(scope: Scope, as_of: datetime) -> Period:
    """The period from ``?period=``; invalid values warn and fall back to the default month."""
    token = st.query_params.get("period")
    if token:
        try:
            return parse_period(token)
        except DataAccessError as exc:
            st.warning(f"{md(exc)}。已显示默认时间段。")
            del st.query_params["period"]
    return default_period(scope, as_of)


def page_context() -> PageContext:
    """Resolve scope, unit and period for the current page run (only through app.py, after login)."""
    as_of = run_as_of()
    scope = current_scope()
    unit = resolve_unit_param(scope)
    period = resolve_period_param(scope, as_of)
    crumbs = tuple(units.breadcrumb(engine(db_url()), scope, unit))
    return PageContext(db_url(), scope, unit, period, crumbs, as_of)


def page_start(title: str, key_prefix: str) -> PageContext:
    """The common top of an office page: resolve the context, show ``title · unit`` and the period selector."""
    from .period import period_selector

    ctx = page_context()
    latest = query("latest_event_time", ctx.scope, None)
    st.title(f"{title} · {md(ctx.unit.name)}")
    period_selector(ctx.period, latest.date() if isinstance(latest, datetime) else ctx.period.start, key_prefix)
    return ctx
