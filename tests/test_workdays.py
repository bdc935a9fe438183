"""Tests for working days past the end of chinese-calendar: the office's holiday calendar in
config/holidays.toml, used before the library, and the years nobody knows (said on every surface)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from data_access import workdays as wd
from data_access.workdays import HolidayCalendar, calendar_note, load_calendar, unknown_years

from .conftest import ROOT, faked_clock_env

# A made-up schedule for a year far ahead, in the file format: test data only (never shipped).
FAKE_2031 = """
[2031]
source = "test"
holidays = [
  { name = "春节", start = 2031-01-22, end = 2031-01-28 },
  { name = "国庆节", start = 2031-10-01, end = 2031-10-07 },
]
workdays = [
  { name = "春节", date = 2031-01-19 },
  { name = "春节", date = 2031-02-08 },
]
"""


def _calendar(tmp_path, text: str) -> HolidayCalendar:
    p = tmp_path / "holidays.toml"
    p.write_text(text, encoding="utf-8")
    return load_calendar(p)


def test_shipped_2026_matches_chinese_calendar_day_by_day():
    """The worked example in config/holidays.toml is the real 2026 schedule: every day agrees with the library."""
    cal = load_calendar()
    assert 2026 in cal.years
    d = date(2026, 1, 1)
    while d.year == 2026:
        assert wd.is_workday(d, cal) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)
    assert cal.holidays[date(2026, 2, 17)] == "春节" and cal.workdays[date(2026, 2, 28)] == "春节"


def test_the_library_does_not_know_2027():
    """Why the office's calendar exists: chinese-calendar 1.11.0 raises for 2027."""
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 2, 10))
    assert not wd.library_knows(2027) and wd.library_knows(2026)


def test_office_calendar_decides_a_year_the_library_does_not_know(tmp_path):
    """A year added to the file: its holidays are rest days, its make-up Saturday/Sunday working days."""
    cal = _calendar(tmp_path, FAKE_2031)
    assert not wd.is_workday(date(2031, 1, 22), cal)  # Wednesday, holiday
    assert wd.is_workday(date(2031, 1, 19), cal)  # Sunday, make-up workday
    assert wd.is_workday(date(2031, 1, 29), cal) and not wd.is_workday(date(2031, 2, 1), cal)  # plain Wed / Sat
    # Tuesday 21 Jan + 1 working day jumps the whole holiday week to Wednesday 29 Jan
    assert wd.add_workdays(date(2031, 1, 21), 1, cal) == date(2031, 1, 29)
    assert wd.workdays_between(date(2031, 1, 21), date(2031, 1, 29), cal) == 1
    assert wd.year_known(2031, cal) and unknown_years([2026, 2031], cal) == []
    assert calendar_note([2031], cal) is None
    # without the file's entry the same days are counted Monday–Friday, and the note says so
    empty = HolidayCalendar()
    assert wd.is_workday(date(2031, 1, 22), empty)
    assert unknown_years([2026, 2031, 2030], empty) == [2030, 2031]
    assert "2030年、2031年" in calendar_note([2031, 2030, 2026], empty)


def test_office_calendar_is_used_before_the_library(tmp_path):
    """A year in the file is decided by the file alone, even one the library knows."""
    cal = _calendar(tmp_path, '[2026]\nholidays = [{ name = "调整", start = 2026-10-08, end = 2026-10-09 }]\n')
    assert chinese_calendar.is_workday(date(2026, 10, 8))
    assert not wd.is_workday(date(2026, 10, 8), cal)
    assert not wd.is_workday(date(2026, 10, 10), cal)  # the library's make-up Saturday: not in this file
    assert wd.is_workday(date(2025, 10, 9), cal)  # other years still come from the library


def test_spring_festival_2027_without_a_calendar_is_flagged(tmp_path):
    """The silent fallback of old: Spring Festival 2027 counted as working days. Now the year is named."""
    empty = HolidayCalendar()
    assert wd.workdays_between(date(2027, 2, 5), date(2027, 2, 12), empty) == 5  # Mon–Fri only, as said
    note = calendar_note(wd.years_spanned(datetime(2027, 2, 10), datetime(2026, 12, 30)), empty)
    assert note and "2027年" in note and "2026年" not in note and "周一至周五" in note


@pytest.mark.parametrize("text,needle", [
    ('[2031]\nworkdays = [{ name = "春节", date = 2031-01-21 }]\n', "周六或周日"),  # a Tuesday
    ('[2031]\nholidays = [{ name = "春节", start = "2031-13-01", end = 2031-01-28 }]\n', "2027-01-01"),
    ('[2031]\nholidays = [{ name = "春节", start = 2031-01-28, end = 2031-01-22 }]\n', "起止日期无效"),
    ('[2031]\nholidays = [{ name = "x", start = 2031-01-25, end = 2031-01-26 }]\n'
     'workdays = [{ name = "x", date = 2031-01-25 }]\n', "既是假日又是上班日"),
    ('[2031]\nholiday = []\n', "未知字段"),
    ('[twenty]\nholidays = []\n', "应为年份表"),
    ('[2031]\nholidays = [{ start = 2031-01-22 }]\n', "需要 name"),
    ('[2031]\nholidays = [{ name = "x", start = 2035-01-22 }]\n', "不在 2031 年前后"),
    ("[2031\n", "holidays.toml"),
])
def test_bad_calendar_is_refused_with_a_reason(tmp_path, text, needle):
    with pytest.raises(ValueError, match="节假日配置错误") as err:
        _calendar(tmp_path, text)
    assert needle in str(err.value)


def test_check_reports_calendar_years_missing(tiny_engine):
    """check: the years of the data's report times and deadlines plus as_of's, that no calendar knows."""
    from data_access.db.check import calendar_years_missing, check

    # the tiny demo runs 2025-10-31 … 2026-11-01 with deadlines into November 2026: all known
    assert calendar_years_missing(tiny_engine) == []
    assert calendar_years_missing(tiny_engine, as_of=datetime(2026, 12, 3)) == []
    assert calendar_years_missing(tiny_engine, as_of=datetime(2034, 1, 5)) == [2034]
    assert check(tiny_engine, as_of=datetime(2026, 12, 3))["calendar_years_missing"] == []


def test_check_cli_warns_about_the_current_year(sqlite_tiny):
    """`python -m data_access check` run in a year nobody knows: JSON lists it, stderr warns, exit stays 0.

    The command reads the clock itself (it is the edge), so its clock is moved with libfaketime."""
    out = subprocess.run([sys.executable, "-m", "data_access", "check", "--db", sqlite_tiny],
                         capture_output=True, text=True, cwd=ROOT, env=faked_clock_env(datetime(2034, 1, 5, 9)),
                         check=False)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert out.returncode == 0, out.stderr
    assert result["calendar_years_missing"] == [2034]
    assert "2034" in out.stderr and "config/holidays.toml" in out.stderr


# --- every surface says when working days are guessed ------------------------------------------

# A year-2027 schedule that is test data, NOT the State Council's (not published when this was written):
# it only lets a test show the note going away once the office has entered the year.
KNOWN_2027 = '[2027]\nsource = "test data"\nholidays = [{ name = "测试假期", start = 2027-02-08, end = 2027-02-12 }]\n'


@pytest.fixture(scope="module")
def spring_2027_url(tmp_path_factory):
    """The tiny demo plus events reported in the first days of February 2027 by the simulator, whose
    deadlines (working days) run through Spring Festival 2027."""
    import numpy as np

    from data_access.db.engine import get_engine
    from data_access.demo import build_demo
    from data_access.demo.simulate import tick

    from .conftest import TEST_UNTIL

    url = f"sqlite:///{tmp_path_factory.mktemp('spring') / 'tiny.db'}"
    build_demo(url, scale="tiny", seed=7, until=TEST_UNTIL, log=lambda m: None)
    rng = np.random.default_rng(1)
    for day in (1, 3, 5):
        tick(get_engine(url), rng, 12, 0, datetime(2027, 2, day, 10))
    return url


@pytest.fixture
def page(spring_2027_url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from .conftest import login_state

    monkeypatch.setenv("DATABASE_URL", spring_2027_url)
    monkeypatch.chdir(ROOT)

    def run(name: str, user: str = "leader", **params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for k, v in login_state(spring_2027_url, user).items():
            at.session_state[k] = v
        at.switch_page(f"pages/{name}.py")
        for k, v in params.items():
            at.query_params[k] = v
        return at.run()

    return run


def _no_calendar_for_2027(monkeypatch, tmp_path, text: str = "") -> None:
    """The office's calendar as ``text`` (empty: no year at all); the library stays as it is."""
    cal = _calendar(tmp_path, text)
    monkeypatch.setattr(wd, "default_calendar", lambda: cal)


@pytest.mark.parametrize("name,user", [("events", "leader"), ("my", "staff")])
def test_pages_with_working_days_say_when_a_year_is_unknown(page, monkeypatch, tmp_path, name, user):
    """事件办结 and 我的指标 count working days (to-do lists): run in February 2027 (the suite's clock),
    they say that 2027 is counted Monday–Friday; once the office has entered 2027 the note is gone."""
    _no_calendar_for_2027(monkeypatch, tmp_path)
    at = page(name, user, period="2027-02")
    assert not at.exception, at.exception
    notes = [w.value for w in at.warning if "节假日安排" in w.value]
    assert notes and "2027年" in notes[0] and "周一至周五" in notes[0]
    _no_calendar_for_2027(monkeypatch, tmp_path, KNOWN_2027)
    at = page(name, user, period="2027-02")
    assert not at.exception and not [w for w in at.warning if "节假日安排" in w.value]


def test_wall_says_when_a_year_of_deadlines_is_unknown(page, monkeypatch, tmp_path):
    _no_calendar_for_2027(monkeypatch, tmp_path)
    html = lambda at: "\n".join(str(h.proto.body) for h in at.get("html"))  # noqa: E731
    at = page("overview", period="2027-02")
    assert not at.exception, at.exception
    assert 'data-testid="calendar-note"' in html(at) and "2027年节假日安排未录入" in html(at)
    at = page("overview", period="2026-09")  # deadlines all in 2026, which the library knows
    assert not at.exception and 'data-testid="calendar-note"' not in html(at)
    _no_calendar_for_2027(monkeypatch, tmp_path, KNOWN_2027)
    at = page("overview", period="2027-02")
    assert 'data-testid="calendar-note"' not in html(at)


def test_pdf_says_when_a_year_of_deadlines_is_unknown(spring_2027_url, monkeypatch, tmp_path):
    """The snapshot carries the note; the PDF prints it on the cover and under the key figures."""
    import shutil

    from data_access.db.engine import get_engine
    from data_access.filters import Scope, parse_period
    from data_access.queries.units import home_unit
    from reports.pdf import render_pdf
    from reports.snapshot import build_snapshot

    _no_calendar_for_2027(monkeypatch, tmp_path)
    eng = get_engine(spring_2027_url)
    root = home_unit(eng, Scope.all())
    as_of = datetime(2027, 2, 10, 9)
    snap = build_snapshot(eng, Scope.all(), root, parse_period("2027-02"), as_of=as_of, sections=("kpis",))
    assert snap.calendar_note and "2027年" in snap.calendar_note
    assert snap.calendar_note in snap.tables["kpis"].note
    assert build_snapshot(eng, Scope.all(), root, parse_period("2026-09"), as_of=as_of,
                          sections=("kpis",)).calendar_note is None
    if shutil.which("pdftotext"):
        path = tmp_path / "r.pdf"
        path.write_bytes(render_pdf(snap))
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert text.replace("\n", "").count("2027年法定节假日安排尚未录入") >= 2  # cover and key figures
    _no_calendar_for_2027(monkeypatch, tmp_path, KNOWN_2027)
    assert build_snapshot(eng, Scope.all(), root, parse_period("2027-02"), as_of=as_of,
                          sections=("kpis",)).calendar_note is None


def test_due_soon_and_overdue_on_the_fixture_database(tiny_engine):
    """The to-do lists at a moment inside the demo data (they used to default to the wall clock and so
    found nothing on a fixture database): due within 2 working days, and overdue by working days."""
    from data_access.filters import Scope
    from data_access.queries import todo
    from data_access.queries.units import home_unit

    root = home_unit(tiny_engine, Scope.all())
    as_of = datetime(2026, 9, 29, 10)  # Tuesday before the National Day week
    soon = todo.due_soon(tiny_engine, Scope.all(), root, as_of=as_of)
    assert len(soon) > 0 and soon["workdays_left"].between(0, 2).all()
    assert (soon["deadline"] >= as_of).all()
    # Tuesday 29 Sep + 2 working days is Thursday 8 October (1–7 October are holidays)
    assert soon["deadline"].max() <= datetime(2026, 10, 8, 23, 59, 59)
    over = todo.overdue(tiny_engine, Scope.all(), root, as_of=as_of)
    assert len(over) > 0 and (over["deadline"] < as_of).all() and (over["workdays_over"] >= 1).all()


def test_todo_counts_match_the_whole_lists_and_the_lists_keep_the_most_urgent(tiny_engine):
    """todo_counts counts what the lists would hold without their limit; a limited list keeps the soonest
    deadlines (due soon) and the oldest ones (overdue)."""
    from data_access.filters import Scope
    from data_access.queries import todo
    from data_access.queries.units import home_unit

    root = home_unit(tiny_engine, Scope.all())
    as_of = datetime(2026, 10, 30, 9)  # a Friday: 2 working days reach Tuesday, 10 the 13th
    for days in (2, 10):
        counts = todo.todo_counts(tiny_engine, Scope.all(), root, days, as_of=as_of)
        soon = todo.due_soon(tiny_engine, Scope.all(), root, days, as_of=as_of, limit=100_000)
        over = todo.overdue(tiny_engine, Scope.all(), root, as_of=as_of, limit=100_000)
        assert counts == {"overdue_open": len(over), "due_soon": len(soon)} and counts["due_soon"] >= 2
    assert counts["due_soon"] > 10  # within 10 working days
    first = todo.due_soon(tiny_engine, Scope.all(), root, 10, as_of=as_of, limit=2)
    assert first["deadline"].tolist() == sorted(soon["deadline"])[:2]
    oldest = todo.overdue(tiny_engine, Scope.all(), root, as_of=as_of, limit=3)
    assert len(oldest) == 3 < counts["overdue_open"]
    assert oldest["deadline"].tolist() == sorted(over["deadline"])[:3]


@pytest.mark.parametrize("a, b", [(date(2031, 1, 21), date(2031, 1, 29)), (date(2030, 12, 20), date(2031, 2, 10)),
                                  (date(2023, 12, 31), date(2024, 12, 31)), (date(2024, 2, 28), date(2024, 3, 1)),
                                  (date(2019, 10, 1), date(2031, 10, 8)), (date(2026, 9, 29), date(2026, 9, 29))])
def test_workdays_between_counts_every_day_of_the_span(tmp_path, a, b):
    """Working days in (a, b] as a count of each day (leap years, year ends, the file's year, the library's
    years, a year nobody knows), negative the other way round."""
    cal = _calendar(tmp_path, FAKE_2031)
    for c in (cal, None):
        by_day = sum(wd.is_workday(a + timedelta(days=k), c) for k in range(1, (b - a).days + 1))
        assert wd.workdays_between(a, b, c) == by_day and wd.workdays_between(b, a, c) == -by_day
    assert wd.workdays_between(datetime.combine(a, datetime.min.time()), datetime.combine(b, datetime.max.time()),
                               cal) == wd.workdays_between(a, b, cal)
