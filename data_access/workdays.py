"""Working days (工作日) with Chinese public holidays and make-up workdays.

Backed by ``chinese-calendar``; for a year it does not know yet (it ships the State
Council schedule as published) we fall back to Monday–Friday, and say so in
:data:`FALLBACK_NOTE`, rather than crash a page.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar

FALLBACK_NOTE = "该年度法定节假日安排未发布，按周一至周五计算工作日"


@lru_cache(maxsize=8192)
def is_workday(d: date) -> bool:
    """True for a working day (weekday not a holiday, or a make-up Saturday/Sunday)."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5


def add_workdays(start: date | datetime, n: int) -> date:
    """The date ``n`` working days after ``start`` (``n`` ≥ 0; 0 = next working day on or after)."""
    d = start.date() if isinstance(start, datetime) else start
    while not is_workday(d):
        d += timedelta(days=1)
    while n > 0:
        d += timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d


def workdays_between(a: date | datetime, b: date | datetime) -> int:
    """Working days in ``(a, b]`` — positive when ``b`` is after ``a``, negative before."""
    a = a.date() if isinstance(a, datetime) else a
    b = b.date() if isinstance(b, datetime) else b
    if a == b:
        return 0
    sign = 1 if b > a else -1
    lo, hi = (a, b) if sign > 0 else (b, a)
    n = sum(1 for k in range(1, (hi - lo).days + 1) if is_workday(lo + timedelta(days=k)))
    return sign * n
