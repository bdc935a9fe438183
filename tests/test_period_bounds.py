"""Tests for period bounds: years outside 2000–2100 are refused with a clear message, every derived
period of an accepted one is a valid date, and no page shows an exception for absurd ``?period=``."""

from __future__ import annotations

from datetime import date

import pytest

from data_access.errors import InvalidParameterError
from data_access.filters import MAX_YEAR, MIN_YEAR, parse_period

from .test_pages import PAGES, app  # noqa: F401 - the AppTest fixture

ABSURD = ["0001-01", "0001-01-01..9999-12-31", "9999", "9999-Q4", "1999-12-31..2000-01-31", "2101-01"]


@pytest.mark.parametrize("token", ABSURD)
def test_out_of_range_years_are_refused(token):
    with pytest.raises(InvalidParameterError, match="2000–2100"):
        parse_period(token)


@pytest.mark.parametrize("token", [f"{MIN_YEAR}-01", f"{MIN_YEAR}", f"{MAX_YEAR}-12", f"{MAX_YEAR}-Q4", f"{MAX_YEAR}",
                                   f"{MIN_YEAR}-01-01..{MAX_YEAR}-12-31"])
def test_derived_periods_of_the_extremes_are_valid(token):
    p = parse_period(token)
    for q in (p, p.previous(), p.year_ago(), p.comparable_previous(p.start), p.comparable_year_ago(p.start)):
        assert q.start < q.end and q.days > 0
    assert parse_period(p.token) == p


@pytest.mark.parametrize("token", ["0001-01", "0001-01-01..9999-12-31"])
@pytest.mark.parametrize("page", PAGES)
def test_pages_warn_and_fall_back(app, page, token):  # noqa: F811
    at = app(page, user={"my": "staff", "data": "admin"}.get(page, "leader"), period=token)
    assert not at.exception, at.exception
    if page != "data":  # the data page has no period
        assert any("2000–2100" in w.value for w in at.warning), [w.value for w in at.warning]


def test_date_widget_is_bounded(app):  # noqa: F811
    at = app("events", period=f"{MIN_YEAR}-01-01..{MIN_YEAR}-01-31")
    assert not at.exception
    widget = at.date_input(key="events_range")
    assert widget.min == date(MIN_YEAR, 1, 1) and widget.max == date(MAX_YEAR, 12, 31)
