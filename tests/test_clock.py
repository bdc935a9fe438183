"""Tests that "now" is a parameter: data functions take ``as_of`` and never read the clock, only the
outermost layer does (once per page run, per wall refresh, per command), and the suite runs in 2027."""

from __future__ import annotations

import ast
import inspect
import time
from datetime import date, datetime
from pathlib import Path

import pytest

import data_access

from .conftest import DATA_AS_OF, FROZEN_NOW, ROOT


def _query_functions() -> list[tuple[str, object, list[str]]]:
    """Every public function of data_access taking (engine, scope, unit, …): name, function, parameters."""
    import importlib
    import pkgutil

    out = []
    for mod in pkgutil.walk_packages(data_access.__path__, "data_access."):
        if mod.ispkg or ".demo" in mod.name or ".migrations" in mod.name or mod.name.endswith("__main__"):
            continue
        m = importlib.import_module(mod.name)
        for name, fn in inspect.getmembers(m, inspect.isfunction):
            params = list(inspect.signature(fn).parameters)
            if not name.startswith("_") and fn.__module__ == m.__name__ and params[:3] == ["engine", "scope", "unit"]:
                out.append((f"{mod.name.rsplit('.', 1)[-1]}.{name}", fn, params))
    return out


FUNCTIONS = _query_functions()

# (file, function) that may read the clock: the edges, and timestamps of what happens now (audit
# rows, logins and lockouts — the accounts' functions take ``now`` for their tests).
EDGES = {
    ("components/data.py", "run_as_of"),  # the page run's as_of
    ("pages/overview.py", "wall_body"),  # the wall's refresh (a fragment does not rerun page_context)
    ("data_access/cli.py", "cmd_demo"), ("data_access/cli.py", "cmd_check"),
    ("reports/__main__.py", "main"), ("reports/__main__.py", "_export"),
    # the commands: alerts listing/evaluation, bulletin generation, the bulletin scheduler's loop and log
    ("data_access/cli.py", "cmd_alerts"), ("reports/schedule.py", "_bulletin_cli"),
    ("reports/schedule.py", "_schedule_cli"), ("reports/schedule.py", "log"),
    ("data_access/demo/simulate.py", "run"),  # the simulator command's loop
    ("components/live.py", "last_good"),  # when the last good copy was loaded (the stale marker)
    ("components/live.py", "waiting_message"),  # "最近一次尝试 HH:MM:SS" on the 等待数据连接 screen
    ("components/auth.py", "_start"), ("components/auth.py", "gate"),
    ("data_access/accounts/users.py", "user_row"), ("data_access/accounts/users.py", "authenticate"),
    ("data_access/accounts/users.py", "create_session"), ("data_access/accounts/users.py", "session_user"),
    ("data_access/accounts/audit.py", "record"),
    # when a key was made or revoked, when a batch arrived (all take ``now`` for their tests)
    ("data_access/accounts/api_keys.py", "create_key"), ("data_access/accounts/api_keys.py", "revoke_key"),
    ("data_access/ingest.py", "ingest_records"),
}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def _clock_reads(path: Path) -> list[tuple[str, int]]:
    """(enclosing function, line) of every datetime.now()/date.today()/time.time() call in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []

    def visit(node, fn):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else fn
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and \
                    isinstance(child.func.value, ast.Name) and (child.func.value.id, child.func.attr) in CLOCK_CALLS:
                out.append((fn, child.lineno))
            visit(child, name)

    visit(tree, "<module>")
    return out


def test_clock_is_read_only_at_the_edges():
    """No query, report or component function reads the clock; the few edges are listed above."""
    found = []
    for folder in ("data_access", "reports", "components", "pages", "common"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            found += [f"{rel}:{line} in {fn}()" for fn, line in _clock_reads(path) if (rel, fn) not in EDGES]
    assert not found, "read the clock at the edge and pass as_of down: " + "; ".join(found)


def test_the_scan_sees_a_clock_read(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("from datetime import datetime\ndef f(as_of=None):\n    return as_of or datetime.now()\n")
    assert _clock_reads(p) == [("f", 3)]


@pytest.mark.parametrize("name,fn,params", [f for f in FUNCTIONS if "as_of" in f[2]],
                         ids=[f[0] for f in FUNCTIONS if "as_of" in f[2]])
def test_as_of_is_required(name, fn, params):
    """A query that depends on now has no default for it (a default would be the wall clock)."""
    assert inspect.signature(fn).parameters["as_of"].default is inspect.Parameter.empty, name


def test_enough_queries_take_as_of():
    names = {n for n, _, p in FUNCTIONS if "as_of" in p}
    assert {"events.event_kpis", "todo.due_soon", "todo.overdue", "indicators.petition_stats", "ranking.ranking",
            "indicators.event_monthly", "warnings.unit_warning", "safety.case_stats"} <= names


def test_results_do_not_depend_on_the_clock(tiny_engine):
    """The same as_of gives the same figures whatever the clock says (here: 2026 and 2031)."""
    import time_machine

    from data_access.filters import Scope, parse_period
    from data_access.queries import indicators, ranking, todo
    from data_access.queries.units import home_unit

    root = home_unit(tiny_engine, Scope.all())
    p = parse_period("2026-10")
    runs = []
    for clock in (datetime(2026, 10, 20, 12), datetime(2031, 6, 1, 12)):
        with time_machine.travel(clock.astimezone(), tick=False):
            runs.append((indicators.petition_stats(tiny_engine, Scope.all(), root, p, as_of=DATA_AS_OF),
                         ranking.ranking(tiny_engine, Scope.all(), root, p, as_of=DATA_AS_OF)["code"].tolist(),
                         len(todo.due_soon(tiny_engine, Scope.all(), root, as_of=datetime(2026, 10, 28, 9)))))
    assert runs[0] == runs[1]


def test_the_suite_runs_in_spring_festival_2027():
    """conftest freezes the clock (time-machine) at FROZEN_NOW, ticking: the day is fixed."""
    assert date.today() == FROZEN_NOW.date() == date(2027, 2, 10)
    assert abs(datetime.now() - FROZEN_NOW).total_seconds() < 6 * 3600
    assert datetime.fromtimestamp(time.time()).date() == FROZEN_NOW.date()


@pytest.mark.browser
def test_app_server_runs_on_the_suite_clock(browser, app_server, district_url):
    """The server the browser tests use runs at FROZEN_NOW too (libfaketime): in February 2027 the
    events page's overdue list counts working days through 2027, and so says whether 2027 is known."""
    from data_access.workdays import calendar_note

    from .conftest import faked_clock_env, session_cookie
    from .test_browser import open_page, wait_rendered

    faked_clock_env()  # skips without libfaketime: then the server runs on the real clock
    expected = calendar_note([2027])  # the server reads the same config/holidays.toml
    ctx, page, _ = open_page(browser, "about:blank", cookies=[session_cookie(district_url, app_server, "leader")])
    try:
        page.goto(f"{app_server}/events?period=2026-09")
        wait_rendered(page, text="超期未办结")
        body = page.inner_text("body")
        if expected:
            page.get_by_text("法定节假日安排尚未录入").first.wait_for(timeout=30_000)
            assert "2027年法定节假日安排尚未录入" in page.inner_text("body")
        else:
            assert "法定节假日安排尚未录入" not in body
    finally:
        ctx.close()
