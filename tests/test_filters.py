"""Tests for periods, unit-code validation and working days."""

from datetime import date, datetime

import pytest

from data_access.errors import InvalidParameterError
from data_access.filters import EventFilter, month_period, parse_period, validate_code
from data_access.workdays import add_workdays, is_workday, workdays_between

from .conftest import DATA_AS_OF


@pytest.mark.parametrize("token,start,end,kind", [
    ("2026-10", date(2026, 10, 1), date(2026, 11, 1), "month"),
    ("2026-12", date(2026, 12, 1), date(2027, 1, 1), "month"),
    ("2026-Q3", date(2026, 7, 1), date(2026, 10, 1), "quarter"),
    ("2026", date(2026, 1, 1), date(2027, 1, 1), "year"),
    ("2026-10-01..2026-10-07", date(2026, 10, 1), date(2026, 10, 8), "custom"),
])
def test_parse_period(token, start, end, kind):
    p = parse_period(token)
    assert (p.start, p.end, p.kind) == (start, end, kind)
    assert parse_period(p.token) == p


@pytest.mark.parametrize("bad", ["", "2026-13", "2026-00", "abc", "2026-10-01..2026-09-01", "'; DROP TABLE events;--",
                                 "2026-02-30..2026-03-01"])
def test_parse_period_rejects(bad):
    with pytest.raises(InvalidParameterError):
        parse_period(bad)


def test_previous_and_year_ago():
    p = month_period(date(2026, 1, 15))
    assert p.previous() == month_period(date(2025, 12, 1))
    assert p.year_ago().start == date(2025, 1, 1)
    assert parse_period("2026-Q1").previous().start == date(2025, 10, 1)
    assert p.label == "2026年1月"


@pytest.mark.parametrize("bad", ["", "1 OR 1=1", "411602'--", "x" * 41, None, 3])
def test_validate_code_rejects(bad):
    with pytest.raises(InvalidParameterError):
        validate_code(bad)


def test_event_filter_rejects_unknown_values():
    with pytest.raises(InvalidParameterError):
        EventFilter(categories=("dispute", "'; delete from events"))
    assert EventFilter(sources=("grid",)).sources == ("grid",)


def test_workdays_national_day_2026():
    """National Day 2026: Oct 1–7 off; the next working day after Sep 30 is Oct 8."""
    assert not is_workday(date(2026, 10, 1))
    assert not is_workday(date(2026, 10, 7))
    assert is_workday(date(2026, 10, 8))
    # Sep 30 (Wed) + 1 working day skips the holiday week to Oct 8 (Thu).
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert workdays_between(date(2026, 10, 8), date(2026, 9, 30)) == -1


def test_workdays_makeup_saturday():
    """Saturday 2026-10-10 is a make-up working day; the next Saturday is not."""
    assert is_workday(date(2026, 10, 10))
    assert not is_workday(date(2026, 10, 17))
    # Thu Oct 8 + 2 working days: Fri Oct 9, then the make-up Saturday Oct 10.
    assert add_workdays(date(2026, 10, 8), 2) == date(2026, 10, 10)
    assert workdays_between(date(2026, 10, 9), date(2026, 10, 12)) == 2


def test_workdays_fallback_for_unknown_year():
    """A year chinese-calendar does not know falls back to Monday–Friday."""
    assert is_workday(date(2030, 1, 7))  # Monday
    assert not is_workday(date(2030, 1, 5))  # Saturday


def test_month_end_year_ago_keeps_the_day():
    """31 October a year back is 31 October: a running October on its 29th–31st compares with as many
    days of October a year before (the old hand-written month step clamped every day after the 28th)."""
    oct_ = parse_period("2026-10")
    assert oct_.year_ago().token == "2025-10"
    assert oct_.comparable_year_ago(date(2026, 10, 29)).token == "2025-10-01..2025-10-29"
    assert oct_.comparable_year_ago(date(2026, 10, 30)).token == "2025-10-01..2025-10-30"
    assert oct_.comparable_year_ago(date(2026, 10, 31)).token == "2025-10"
    assert parse_period("2026-10-01..2026-10-31").year_ago().token == "2025-10-01..2025-10-31"
    assert parse_period("2026-10-05..2026-10-30").year_ago().token == "2025-10-05..2025-10-30"
    assert parse_period("2026-12-29..2027-01-02").year_ago().token == "2025-12-29..2026-01-02"


def test_month_end_one_month_back():
    """31 March − 1 month: a running March compares with as much of February as there is."""
    mar = parse_period("2027-03")
    assert mar.previous().token == "2027-02"
    assert mar.comparable_previous(date(2027, 3, 31)).token == "2027-02"
    assert mar.comparable_previous(date(2027, 3, 29)).token == "2027-02"
    assert mar.comparable_previous(date(2027, 3, 27)).token == "2027-02-01..2027-02-27"
    may = parse_period("2026-05")  # 31 days after 30
    assert may.comparable_previous(date(2026, 5, 31)).token == "2026-04"
    assert may.comparable_previous(date(2026, 5, 29)).token == "2026-04-01..2026-04-29"
    assert parse_period("2027-01").previous().token == "2026-12"


def test_29_february_2028():
    """The leap day: February 2028 has 29 days; a year back it maps to 28 February 2027."""
    feb = parse_period("2028-02")
    assert (feb.start, feb.end, feb.days) == (date(2028, 2, 1), date(2028, 3, 1), 29)
    assert feb.year_ago().token == "2027-02"
    assert feb.comparable_year_ago(date(2028, 2, 29)).token == "2027-02"
    assert feb.comparable_year_ago(date(2028, 2, 28)).token == "2027-02"
    assert feb.comparable_year_ago(date(2028, 2, 27)).token == "2027-02-01..2027-02-27"
    custom = parse_period("2028-02-01..2028-02-29")
    assert custom.kind == "custom" and custom.year_ago().token == "2027-02-01..2027-02-28"
    assert parse_period("2028-02-10..2028-02-29").year_ago().token == "2027-02-10..2027-02-28"
    assert parse_period("2028-02-29..2028-03-10").year_ago().token == "2027-02-28..2027-03-10"
    assert parse_period("2029-02").year_ago() == feb  # and forwards into the leap year: all 29 days
    assert parse_period("2028-03").comparable_previous(date(2028, 3, 29)).token == "2028-02"
    assert parse_period("2028-03").comparable_previous(date(2028, 3, 28)).token == "2028-02-01..2028-02-28"


def test_quarters_years_and_custom_ranges_while_running():
    q1 = parse_period("2027-Q1")
    assert (q1.previous().token, q1.year_ago().token) == ("2026-Q4", "2026-Q1")
    assert q1.comparable_previous(date(2027, 3, 31)).token == "2026-Q4"
    assert q1.comparable_previous(date(2027, 2, 28)).token == "2026-10-01..2026-11-28"
    assert parse_period("2027-Q2").comparable_previous(date(2027, 5, 31)).token == "2027-01-01..2027-02-28"
    assert parse_period("2028-Q1").comparable_year_ago(date(2028, 2, 29)).token == "2027-01-01..2027-02-28"
    y = parse_period("2028")
    assert (y.previous().token, y.year_ago().token) == ("2027", "2027")
    assert y.comparable_previous(date(2028, 2, 29)).token == "2027-01-01..2027-02-28"
    assert y.comparable_year_ago(date(2028, 12, 31)).token == "2027"
    r = parse_period("2027-01-25..2027-02-03")  # ten days
    assert r.previous().token == "2027-01-15..2027-01-24"
    assert r.comparable_previous(date(2027, 1, 27)).token == "2027-01-15..2027-01-17"
    assert r.comparable_previous(date(2027, 2, 4)).token == "2027-01-15..2027-01-24"


def test_rollup_months_of_a_period():
    from data_access.db.rollups import _month_start, period_months

    assert period_months(parse_period("2027-12-01..2028-02-29")) == ["2027-12", "2028-01", "2028-02"]
    assert period_months(parse_period("2028-02-01..2028-02-28")) is None
    assert period_months(parse_period("2026-Q4")) == ["2026-10", "2026-11", "2026-12"]
    assert (_month_start("2026-12", 1), _month_start("2026-01", -1)) == (datetime(2027, 1, 1), datetime(2025, 12, 1))


def test_comparable_previous_while_the_period_runs():
    """Mid-month the change compares the same elapsed days; a finished period compares whole periods."""
    from datetime import date

    from data_access.filters import parse_period

    nov = parse_period("2026-11")
    assert nov.comparable_previous(date(2026, 11, 24)).token == "2026-10-01..2026-10-24"
    assert nov.comparable_previous(date(2026, 12, 3)).token == "2026-10"
    assert parse_period("2026-03").comparable_previous(date(2026, 3, 31)).token == "2026-02"  # all of February
    assert nov.comparable_year_ago(date(2026, 11, 24)).token == "2025-11-01..2025-11-24"
    assert parse_period("2026-Q4").comparable_previous(date(2026, 11, 24)).token == "2026-07-01..2026-08-24"
    assert nov.comparable_year_ago(date(2027, 1, 5)).token == "2025-11"


def test_trend_stops_today(tiny_engine):
    """Days still to come are not drawn as zeros."""
    from datetime import datetime

    from data_access.filters import Scope, parse_period
    from data_access.queries.events import event_trend
    from data_access.queries.units import home_unit

    root = home_unit(tiny_engine, Scope.all())
    t = event_trend(tiny_engine, Scope.all(), root, parse_period("2026-09"), as_of=datetime(2026, 9, 10, 15))
    assert len(t) == 10 and str(t["day"].max().date()) == "2026-09-10"
    assert len(event_trend(tiny_engine, Scope.all(), root, parse_period("2026-09"), as_of=DATA_AS_OF)) == 30
    # on its first morning a month has one day drawn
    oct_1 = datetime(2026, 10, 1, 8)
    assert len(event_trend(tiny_engine, Scope.all(), root, parse_period("2026-10"), as_of=oct_1)) == 1
