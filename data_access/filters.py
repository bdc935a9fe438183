"""Scope, period and event filters: frozen values that every query takes.

``_apply_scope`` is the only place a subtree restriction is added to a query, so
no query function can forget it: every public query calls it with the caller's
:class:`Scope` and the focus unit (which must lie inside that scope).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import Select, Table

from data_access.errors import InvalidParameterError

CODE_RE = re.compile(r"^[0-9A-Za-z_-]{1,40}$")


@dataclass(frozen=True)
class Scope:
    """What a caller may see: the subtree under ``unit_code`` (``None`` = everything).

    ``level`` is the level of ``unit_code``; a leader or admin has ``Scope.all()``.
    """

    unit_code: str | None = None
    level: int = 0

    @classmethod
    def all(cls) -> Scope:
        return cls(None, 0)

    @property
    def is_all(self) -> bool:
        return self.unit_code is None


@dataclass(frozen=True)
class Unit:
    """A grid unit as the queries need it: code, level and ancestor codes."""

    code: str
    name: str
    level: int
    parent_code: str | None
    kind: str
    ancestors: tuple[str | None, ...]  # l0_code … l4_code

    def within(self, scope: Scope) -> bool:
        """True when this unit lies in ``scope``'s subtree."""
        if scope.is_all:
            return True
        return self.level >= scope.level and self.ancestors[scope.level] == scope.unit_code


@dataclass(frozen=True)
class Period:
    """A half-open time span ``[start, end)`` in local dates, with a Chinese label."""

    start: date
    end: date
    kind: str = "custom"  # month | quarter | year | custom

    def __post_init__(self):
        if self.end <= self.start:
            raise InvalidParameterError(f"时间段无效 / empty period: {self.start} – {self.end}")

    @property
    def start_dt(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time())

    @property
    def end_dt(self) -> datetime:
        return datetime.combine(self.end, datetime.min.time())

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{self.start.year}年"
        last = self.end - timedelta(days=1)
        return f"{self.start:%Y-%m-%d} 至 {last:%Y-%m-%d}"

    @property
    def token(self) -> str:
        """The URL form of this period (parsed back by :func:`parse_period`)."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{self.start.year}"
        return f"{self.start:%Y-%m-%d}..{self.end - timedelta(days=1):%Y-%m-%d}"

    def previous(self) -> Period:
        """The period of the same kind and length just before this one."""
        if self.kind == "month":
            return month_period(self.start - relativedelta(months=1))
        if self.kind == "quarter":
            return quarter_period(self.start - relativedelta(months=3))
        if self.kind == "year":
            return year_period(self.start - relativedelta(years=1))
        return Period(self.start - timedelta(days=self.days), self.start, "custom")

    def comparable_previous(self, today: date) -> Period:
        """What a change "较上期" should compare with on ``today``: while this period is still running,
        the previous period up to the same date (1–24 Oct against 1–24 Nov, not a whole October
        against 24 days of November; on 31 March the whole of February); otherwise :meth:`previous`.
        A custom range compares the same number of elapsed days of the range before it."""
        prev = self.previous()
        if not self.start <= today < self.end:
            return prev
        if self.kind == "custom":
            return _cut(prev, prev.start + timedelta(days=(today - self.start).days + 1))
        step = {"month": relativedelta(months=1), "quarter": relativedelta(months=3), "year": relativedelta(years=1)}
        return _cut(prev, today - step[self.kind] + timedelta(days=1))

    def year_ago(self) -> Period:
        """The same span one year earlier (for YoY): the same month, quarter or year; a custom range
        from the same first to the same last day (29 February maps to 28 February)."""
        if self.kind == "month":
            return month_period(self.start - relativedelta(years=1))
        if self.kind == "quarter":
            return quarter_period(self.start - relativedelta(years=1))
        if self.kind == "year":
            return year_period(self.start - relativedelta(years=1))
        last = self.end - timedelta(days=1)
        return Period(self.start - relativedelta(years=1), last - relativedelta(years=1) + timedelta(days=1), "custom")

    def comparable_year_ago(self, today: date) -> Period:
        """:meth:`year_ago`, cut to the same date a year earlier while this period is still running."""
        ago = self.year_ago()
        if not self.start <= today < self.end:
            return ago
        return _cut(ago, today - relativedelta(years=1) + timedelta(days=1))


def _cut(p: Period, end: date) -> Period:
    """``p`` ending at ``end`` (exclusive) if that is inside it, else ``p`` itself (the whole period)."""
    return Period(p.start, end, "custom") if end < p.end else p


def month_period(d: date) -> Period:
    """The calendar month containing ``d``."""
    start = date(d.year, d.month, 1)
    return Period(start, start + relativedelta(months=1), "month")


def quarter_period(d: date) -> Period:
    """The calendar quarter containing ``d``."""
    start = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return Period(start, start + relativedelta(months=3), "quarter")


def year_period(d: date) -> Period:
    """The calendar year containing ``d``."""
    return Period(date(d.year, 1, 1), date(d.year + 1, 1, 1), "year")


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.I)
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


# Periods a URL, widget or CLI may ask for. The data of a grid-governance system starts this century;
# the bounds keep every derived period (previous, year_ago, the end of a range) a valid date, far from
# date.min/date.max, and keep a typo like 0001-01 or 9999 from becoming a query over millennia.
MIN_YEAR, MAX_YEAR = 2000, 2100


def parse_period(token: str, *, bounded: bool = True) -> Period:
    """Parse ``2026-10``, ``2026-Q3``, ``2026`` or ``2026-10-01..2026-10-31`` (inclusive), years
    :data:`MIN_YEAR`–:data:`MAX_YEAR`.

    ``bounded=False`` is for a token the code derived itself from a valid period (the previous or
    year-ago period of January 2000 lies in 1999): any valid date then. Raises
    :class:`InvalidParameterError` with a Chinese/English message otherwise.
    """
    token = (token or "").strip()
    period = None
    try:
        if m := _RANGE.match(token):
            a, b = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            years = (a.year, b.year)
        elif m := (_MONTH.match(token) or _QUARTER.match(token) or _YEAR.match(token)):
            years = (int(m[1]),)
        else:
            years = ()
        if bounded and years and not all(MIN_YEAR <= y <= MAX_YEAR for y in years):
            raise InvalidParameterError(f"时间段须在 {MIN_YEAR}–{MAX_YEAR} 年之间 / period must lie within "
                                        f"{MIN_YEAR}–{MAX_YEAR}: {token[:40]!r}")
        if m := _MONTH.match(token):
            period = month_period(date(int(m[1]), int(m[2]), 1))
        elif m := _QUARTER.match(token):
            period = quarter_period(date(int(m[1]), 3 * int(m[2]) - 2, 1))
        elif m := _YEAR.match(token):
            period = year_period(date(int(m[1]), 1, 1))
        elif _RANGE.match(token):
            period = Period(a, b + timedelta(days=1), "custom")
    except ValueError:
        pass
    if period is None:
        raise InvalidParameterError(f"无法识别的时间段 / unrecognised period: {token[:40]!r}")
    return period


def validate_code(code: object) -> str:
    """Return ``code`` if it looks like a unit code, else raise :class:`InvalidParameterError`."""
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise InvalidParameterError(f"单位编码格式错误 / malformed unit code: {str(code)[:40]!r}")
    return code


@dataclass(frozen=True)
class EventFilter:
    """Optional event filters (empty tuple = all). Values are vocab codes."""

    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    whistles: tuple[str, ...] = ()

    def __post_init__(self):
        from data_access.vocab import CATEGORIES, SOURCES, WHISTLES

        for values, allowed, name in (
            (self.categories, CATEGORIES, "category"),
            (self.sources, SOURCES, "source"),
            (self.whistles, WHISTLES, "whistle"),
        ):
            bad = [v for v in values if v not in allowed]
            if bad:
                raise InvalidParameterError(f"筛选条件无效 / invalid {name}: {bad[:3]!r}")


def _apply_scope(query: Select, table: Table, scope: Scope, focus: Unit | None = None) -> Select:
    """Restrict ``query`` to rows of ``table`` inside ``scope`` and under ``focus``.

    The only place a subtree filter is built. ``focus`` must already be checked to
    lie within ``scope`` (see :func:`data_access.queries.units.resolve_unit`); both filters
    are applied anyway so that a missed check cannot widen what is returned.
    """
    if not scope.is_all:
        query = query.where(table.c[f"l{scope.level}_code"] == scope.unit_code)
    if focus is not None:
        query = query.where(table.c[f"l{focus.level}_code"] == focus.code)
    return query


def _apply_event_filter(query: Select, table: Table, flt: EventFilter | None) -> Select:
    if flt is None:
        return query
    if flt.categories:
        query = query.where(table.c.category.in_(flt.categories))
    if flt.sources:
        query = query.where(table.c.source.in_(flt.sources))
    if flt.whistles:
        query = query.where(table.c.whistle.in_(flt.whistles))
    return query
