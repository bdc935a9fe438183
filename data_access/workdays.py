"""Working days (工作日) with Chinese public holidays and make-up workdays (调休上班).

Two sources, asked in this order:

1. ``config/holidays.toml``: the State Council schedule (国务院办公厅关于某年部分节假日安排的通知)
   for the years the office has entered — each year's holidays with their names and its make-up
   working days; the file's header explains the format. A year in the file is decided by the
   file alone (used before the library), so the office can add next year as soon as it is published.
2. ``chinese-calendar``, which ships the schedules published before its release (1.11.0: 2004–2026).

A year that neither knows is counted Monday–Friday, and every figure that counts working days must
say so: :func:`unknown_years` / :func:`calendar_note` tell which years that is, and
``python -m data_access check`` reports them as ``calendar_years_missing``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar

CALENDAR_PATH = Path(__file__).resolve().parents[1] / "config" / "holidays.toml"


@dataclass(frozen=True, eq=False)  # hashed by identity: a calendar is read once and used as a cache key
class HolidayCalendar:
    """The years of ``config/holidays.toml``: holiday date → name, make-up workday → name, years covered."""

    holidays: dict[date, str] = field(default_factory=dict)
    workdays: dict[date, str] = field(default_factory=dict)
    years: frozenset[int] = frozenset()
    sources: dict[int, str] = field(default_factory=dict)


def _as_date(value, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{where}: 日期应写作 2027-01-01 / a date like 2027-01-01, not {value!r}")


def parse_calendar(data: dict, name: str = "holidays.toml") -> HolidayCalendar:
    """Check and index a parsed holidays file (see the header of ``config/holidays.toml``).

    Raises ValueError with a Chinese/English message that names the year and entry at fault.
    """
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    sources: dict[int, str] = {}
    for key, spec in data.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) == 4 and isinstance(spec, dict)):
            raise ValueError(f"节假日配置错误 / bad holiday calendar {name}: [{key}] 应为年份表，如 [2027]")
        year = int(key)
        where = f"节假日配置错误 / bad holiday calendar {name} [{year}]"
        unknown = set(spec) - {"source", "holidays", "workdays"}
        if unknown:
            raise ValueError(f"{where}: 未知字段 / unknown keys {sorted(unknown)}")
        sources[year] = str(spec.get("source", ""))
        for i, h in enumerate(spec.get("holidays", [])):
            at = f"{where} holidays[{i}]"
            if not isinstance(h, dict) or not h.get("name"):
                raise ValueError(f"{at}: 需要 name、start、end / needs name, start, end")
            start = _as_date(h.get("start"), at)
            end = _as_date(h.get("end", h.get("start")), at)
            if end < start or (end - start).days > 15:
                raise ValueError(f"{at}: 起止日期无效 / bad range {start} – {end}")
            if abs(start.year - year) > 1 or abs(end.year - year) > 1:
                raise ValueError(f"{at}: {start} 不在 {year} 年前后 / not around {year}")
            d = start
            while d <= end:
                holidays[d] = str(h["name"])
                d += timedelta(days=1)
        for i, w in enumerate(spec.get("workdays", [])):
            at = f"{where} workdays[{i}]"
            if not isinstance(w, dict) or not w.get("name"):
                raise ValueError(f"{at}: 需要 name、date / needs name, date")
            d = _as_date(w.get("date"), at)
            if d.weekday() < 5:
                raise ValueError(f"{at}: 调休上班日 {d} 不是周六或周日 / a make-up workday is a Saturday or Sunday")
            if abs(d.year - year) > 1:
                raise ValueError(f"{at}: {d} 不在 {year} 年前后 / not around {year}")
            workdays[d] = str(w["name"])
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise ValueError(f"节假日配置错误 / bad holiday calendar {name}: {both[0]} 既是假日又是上班日 / both")
    return HolidayCalendar(holidays, workdays, frozenset(sources), sources)


def load_calendar(path: str | Path | None = None) -> HolidayCalendar:
    """Read ``config/holidays.toml`` (or ``path``); a missing file is an empty calendar."""
    p = Path(path or CALENDAR_PATH)
    if not p.exists():
        return HolidayCalendar()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"节假日配置错误 / bad holiday calendar {p.name}: {exc}") from exc
    return parse_calendar(data, p.name)


@lru_cache(maxsize=1)
def _default() -> HolidayCalendar:
    return load_calendar()


def default_calendar() -> HolidayCalendar:
    """The office's calendar, read once per process (restart the app after editing the file)."""
    return _default()


@lru_cache(maxsize=256)
def library_knows(year: int) -> bool:
    """True when ``chinese-calendar`` has the State Council schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 7, 1))
    except NotImplementedError:
        return False
    return True


def year_known(year: int, calendar: HolidayCalendar | None = None) -> bool:
    """True when the config or the library has ``year``'s holidays and make-up workdays."""
    cal = calendar or default_calendar()
    return year in cal.years or library_knows(year)


def unknown_years(years: Iterable[int], calendar: HolidayCalendar | None = None) -> list[int]:
    """The years among ``years`` whose holidays no calendar knows, sorted."""
    return sorted({int(y) for y in years if not year_known(int(y), calendar)})


def years_spanned(*moments: date | datetime | None) -> range:
    """Every calendar year from the earliest to the latest of ``moments`` (Nones and NaT ignored)."""
    ys = [m.year for m in moments if m is not None and m == m]
    return range(min(ys), max(ys) + 1) if ys else range(0)


def calendar_note(years: Iterable[int], calendar: HolidayCalendar | None = None, short: bool = False) -> str | None:
    """The sentence a page, the wall (``short``) or the PDF shows beside working-day figures when a year
    they cover is unknown; None when every year is known."""
    missing = unknown_years(years, calendar)
    if not missing:
        return None
    ys = "、".join(f"{y}年" for y in missing)
    if short:
        return f"{ys}节假日安排未录入，工作日暂按周一至周五计"
    return (f"{ys}法定节假日安排尚未录入（config/holidays.toml），该年工作日暂按周一至周五计算，"
            f"春节等假期会被计为工作日，办结时限、剩余/超期工作日可能不准。")


def is_workday(d: date, calendar: HolidayCalendar | None = None) -> bool:
    """True for a working day: a weekday that is no holiday, or a make-up Saturday/Sunday.

    The office's calendar decides the years it has, then ``chinese-calendar``; a year neither
    knows is counted Monday–Friday (see :func:`calendar_note`).
    """
    return _is_workday(d, calendar or default_calendar())


@lru_cache(maxsize=16384)
def _is_workday(d: date, cal: HolidayCalendar) -> bool:
    if d in cal.holidays:
        return False
    if d in cal.workdays:
        return True
    if d.year in cal.years or not library_knows(d.year):
        return d.weekday() < 5
    return chinese_calendar.is_workday(d)


def add_workdays(start: date | datetime, n: int, calendar: HolidayCalendar | None = None) -> date:
    """The date ``n`` working days after ``start`` (``n`` ≥ 0; 0 = next working day on or after)."""
    d = start.date() if isinstance(start, datetime) else start
    while not is_workday(d, calendar):
        d += timedelta(days=1)
    while n > 0:
        d += timedelta(days=1)
        if is_workday(d, calendar):
            n -= 1
    return d


def workdays_between(a: date | datetime, b: date | datetime, calendar: HolidayCalendar | None = None) -> int:
    """Working days in ``(a, b]`` — positive when ``b`` is after ``a``, negative before."""
    a = a.date() if isinstance(a, datetime) else a
    b = b.date() if isinstance(b, datetime) else b
    if a == b:
        return 0
    sign = 1 if b > a else -1
    lo, hi = (a, b) if sign > 0 else (b, a)
    cal = calendar or default_calendar()
    n = _through(hi, cal) - _through(lo, cal) + sum(_year_counts(y, cal)[-1] for y in range(lo.year, hi.year))
    return sign * n


@lru_cache(maxsize=256)
def _year_counts(year: int, cal: HolidayCalendar) -> tuple[int, ...]:
    """Working days of ``year`` from 1 January through each of its days (index: day of the year − 1)."""
    out, n, d = [], 0, date(year, 1, 1)
    while d.year == year:
        n += _is_workday(d, cal)
        out.append(n)
        d += timedelta(days=1)
    return tuple(out)


def _through(d: date, cal: HolidayCalendar) -> int:
    """Working days from 1 January of ``d``'s year through ``d``."""
    return _year_counts(d.year, cal)[d.timetuple().tm_yday - 1]
