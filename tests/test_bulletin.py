"""Tests for the monthly 通报 run, its schedule, the archive and the alerts (issue 19).

The bulletin CLI runs as a subprocess on a copy of the tiny demo (data up to 2026-10-31); the
schedule's timing is tested through the functions that take ``as_of``; the webhook is posted to a
local ``http.server`` in a thread.
"""

from __future__ import annotations

import http.server
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from data_access import alerts
from data_access.db import schema
from data_access.db.engine import get_engine
from data_access.errors import DataAccessError
from data_access.filters import Scope, month_period, parse_period
from data_access.queries import bulletins
from data_access.queries import units as un
from reports import bulletin, schedule

from .conftest import ROOT, login_state

POPPLER = shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def db(sqlite_tiny, tmp_path_factory) -> str:
    """A private copy of the tiny demo: these tests write bulletins and alerts into it."""
    path = tmp_path_factory.mktemp("bulletin") / "tiny.db"
    src, dst = sqlite3.connect(sqlite_tiny.removeprefix("sqlite:///")), sqlite3.connect(path)
    src.backup(dst)  # the backup API: a file copy would miss what is still in the write-ahead log
    src.close()
    # An empty archive: another test file on this worker may have archived rows in the shared demo
    # (tests/test_scope.py does), and these tests count what the generator adds.
    dst.execute("DELETE FROM bulletins")
    dst.commit()
    dst.close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def september(db, tmp_path_factory):
    """``python -m reports bulletin --period 2026-09`` run once: (completed process, output folder)."""
    out = tmp_path_factory.mktemp("bulletins") / "2026-09"
    return _cli("bulletin", "--period", "2026-09", "--db", db, "--out", str(out)), out


@needs_poppler
def test_bulletin_cli_writes_every_unit(db, september):
    proc, out = september
    assert proc.returncode == 0, proc.stderr
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    engine = get_engine(db)
    units = bulletin.bulletin_units(engine)
    root = un.home_unit(engine, Scope.all())
    assert [u.code for u in units][0] == root.code and len(units) == 1 + len(un.children(engine, Scope.all(), root))
    assert last["files"] == 2 * len(units) + 2 == len(list(out.iterdir())) and last["seconds"] > 0
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert [r["unit_code"] for r in index["units"]] == [u.code for u in units]
    assert (out / "index.csv").read_text(encoding="utf-8-sig").splitlines()[0].startswith("unit_code,unit_name")
    sub = index["units"][1]
    text = _text(out / sub["pdf"])
    assert sub["unit_name"] in text and "2026年9月" in text and "数据不完整" not in text  # September is complete
    wb = load_workbook(out / sub["xlsx"])
    assert sub["unit_name"] in str(wb["说明"]["B2"].value)
    assert sub["reported"] > 0 and 0 <= sub["closure_rate"] <= 1


def test_bulletin_cli_bad_arguments_say_why(db, tmp_path):
    for args in (["--period", "2026-13"], ["--period", "2026-Q3"], ["--period", "1999-01"]):
        proc = _cli("bulletin", *args, "--db", db, "--out", str(tmp_path / "x"))
        assert proc.returncode == 2 and "error" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    proc = _cli("bulletin", "--db", db, "--out", str(tmp_path / "x"))  # no period
    assert proc.returncode == 2 and "--period" in proc.stderr and "Traceback" not in proc.stderr
    proc = _cli("bulletin", "--period", "2026-09", "--db", "postgresql://nobody@127.0.0.1:1/none", "--out",
                str(tmp_path / "x"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


@needs_poppler
def test_incomplete_month_is_marked_on_the_cover(db, tmp_path):
    engine = get_engine(db)
    oct_, nov = parse_period("2026-10"), parse_period("2026-11")
    assert bulletins.month_completeness(engine, oct_, as_of=datetime(2026, 11, 1, 6)) is None
    assert "尚未结束" in bulletins.month_completeness(engine, oct_, as_of=datetime(2026, 10, 20, 9))
    late = bulletins.month_completeness(engine, nov, as_of=datetime(2026, 12, 1, 6))  # no data after 10-31
    assert "迟报" in late and "2026-10-31" in late
    index = bulletin.generate(engine, "2026-11", tmp_path, as_of=datetime(2026, 12, 1, 6), generated_by="test")
    assert index["incomplete"] == late
    text = _text(tmp_path / index["units"][0]["pdf"])
    assert "数据不完整" in text and "迟报" in text.split("本期要点")[0]  # on the cover, above the highlights
    wb = load_workbook(tmp_path / index["units"][0]["xlsx"])
    assert any("数据不完整" in str(c.value) for row in wb["说明"].iter_rows() for c in row)


@pytest.mark.parametrize(("as_of", "run_at", "month"), [
    (datetime(2027, 1, 31, 23, 59), datetime(2027, 2, 1, 6), "2027-01"),
    (datetime(2027, 2, 1, 6, 0), datetime(2027, 2, 1, 6), "2027-01"),  # exactly at the hour: due now
    (datetime(2027, 2, 1, 6, 0, 1), datetime(2027, 3, 1, 6), "2027-02"),
    (datetime(2026, 12, 15, 12), datetime(2027, 1, 1, 6), "2026-12"),  # over the year end
    (datetime(2027, 3, 1, 5, 59), datetime(2027, 3, 1, 6), "2027-02"),  # February of a common year
])
def test_next_run_at_month_boundaries(as_of, run_at, month):
    assert schedule.next_run(as_of, 6) == run_at
    assert schedule.period_for(run_at) == month
    assert schedule.last_run(run_at, 6) == run_at


def test_plan_and_print(monkeypatch, capsys, tmp_path):
    assert schedule.plan(datetime(2027, 11, 20), 7, 3) == [
        (datetime(2027, 12, 1, 7), "2027-11"), (datetime(2028, 1, 1, 7), "2027-12"),
        (datetime(2028, 2, 1, 7), "2028-01")]
    monkeypatch.setenv("BULLETIN_HOUR", "7")
    from reports.__main__ import main

    assert main(["schedule", "--print", "--out", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "每月 1 日 07:00" in shown and "2027-03-01 07:00  →  2027-02 通报" in shown  # clock: 2027-02-10
    monkeypatch.setenv("BULLETIN_HOUR", "24")
    assert main(["schedule", "--print"]) == 2
    assert "BULLETIN_HOUR" in capsys.readouterr().err


def test_scheduler_tick_catches_up_a_missed_month_once(db, september, tmp_path):
    engine = get_engine(db)
    assert schedule.due(engine, datetime(2026, 10, 5, 12), 6) is None  # September was archived by the CLI
    assert schedule.due(engine, datetime(2026, 11, 1, 5, 59), 6) is None  # October's run is not due yet
    assert schedule.due(engine, datetime(2026, 11, 3, 12), 6) == "2026-10"  # missed on the 1st: caught up
    lines = []
    schedule._tick(engine, 6, str(tmp_path), datetime(2026, 11, 3, 12), lines.append)
    assert json.loads(lines[0])["bulletin"] == "2026-10" and (tmp_path / "2026-10" / "index.json").exists()
    schedule._tick(engine, 6, str(tmp_path), datetime(2026, 11, 3, 12, 5), lines.append)
    assert not any('"bulletin"' in line for line in lines[1:])  # not again
    arch = bulletins.archive(engine, Scope.all())
    assert set(arch.loc[arch["period"] == "2026-10", "generated_by"]) == {"schedule"}


def test_archive_is_scoped(db, september):
    engine = get_engine(db)
    everything = bulletins.archive(engine, Scope.all())
    sept = everything[everything["period"] == "2026-09"]
    root = un.home_unit(engine, Scope.all())
    sub = un.get_unit(engine, un.children(engine, Scope.all(), root)["code"].iloc[0])
    staff = Scope(sub.code, sub.level)
    mine = bulletins.archive(engine, staff)
    assert len(sept) == len(bulletin.bulletin_units(engine)) and set(mine["unit_code"]) == {sub.code}
    foreign = int(sept.loc[sept["unit_code"] == root.code, "id"].iloc[0])
    with pytest.raises(DataAccessError):
        bulletins.read_file(engine, staff, foreign, "pdf")
    own = int(mine["id"].iloc[0])
    name, data = bulletins.read_file(engine, staff, own, "pdf")
    assert data[:4] == b"%PDF" and sub.code in name
    with engine.connect() as conn:  # every generation audited
        audited = conn.execute(select(schema.audit_log.c.detail).where(
            schema.audit_log.c.action == "bulletin")).scalars().all()
    assert {json.loads(d)["id"] for d in audited} >= set(everything["id"])


def test_archive_on_the_report_page_staff_vs_leader(db, september, monkeypatch):
    from streamlit.testing.v1 import AppTest

    engine = get_engine(db)
    root = un.home_unit(engine, Scope.all())
    bulletins.record(engine, root, parse_period("2026-08"), generated_at=datetime(2026, 9, 1, 6),
                     generated_by="schedule", pdf_path=None, xlsx_path=None, incomplete="数据来源迟报（测试）")
    monkeypatch.setenv("DATABASE_URL", db)
    monkeypatch.chdir(ROOT)
    shown = {}
    for user in ("leader", "staff"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in login_state(db, user).items():
            at.session_state[k] = v
        at.switch_page("pages/report.py")
        at.run()
        assert not at.exception, at.exception
        shown[user] = at.dataframe[-1].value  # the archive table, last on the page
        assert "通报存档" in " ".join(m.value for m in at.markdown)
    staff_unit = login_state(db, "staff")["scope"].unit_code
    names = set(bulletins.archive(engine, Scope.all())["unit_name"])
    assert "不完整：数据来源迟报（测试）" in set(shown["leader"]["数据完整性"])  # mixed complete/incomplete rows
    assert "定时生成" in set(shown["leader"]["生成方式"]) and "完整" in set(shown["leader"]["数据完整性"])
    assert set(shown["leader"]["单位"]) == names and len(names) > 1
    assert set(shown["staff"]["单位"]) == {un.get_unit(engine, staff_unit).name}

    from components.bulletin_archive import _downloaded  # the download button's callback

    _downloaded("staff", 1, "pdf", "x.pdf")
    with engine.connect() as conn:
        row = conn.execute(select(schema.audit_log).where(schema.audit_log.c.action == "bulletin_download")
                           .order_by(schema.audit_log.c.id.desc())).mappings().first()
    assert row["username"] == "staff" and json.loads(row["detail"])["id"] == 1


# --- alerts --------------------------------------------------------------------------------------

def test_alert_raised_once_until_cleared(db):
    engine = get_engine(db)
    t0 = datetime(2026, 10, 20, 9)
    first = alerts.evaluate(engine, as_of=t0)
    kinds = {(a["kind"], a["level"]) for a in first}
    assert ("warning", "red") in kinds or ("warning", "orange") in kinds
    open_ = alerts.recent(engine, Scope.all(), open_only=True)  # (the scheduler test may have raised these)
    assert "key_overdue" in set(open_["kind"])
    assert alerts.evaluate(engine, as_of=t0.replace(minute=5)) == []  # still holds: not again
    # November has no events: warnings from October's event figures clear; 三零 non-compliance holds (a
    # running month reads the last judged month, see the catalogue) and overdue 重点哨 events stay open
    assert alerts.evaluate(engine, as_of=datetime(2026, 11, 2, 9)) == []
    rows = alerts.recent(engine, Scope.all())
    warn = rows[rows["kind"] == "warning"]
    sanling = warn["message"].str.contains("三零")
    assert warn.loc[~sanling, "cleared_at"].notna().all() and (~sanling).any()
    assert warn.loc[sanling, "cleared_at"].isna().all()
    assert rows.loc[rows["kind"] == "key_overdue", "cleared_at"].isna().all()
    again = alerts.evaluate(engine, as_of=t0.replace(hour=10))  # the condition is back: alerted again
    assert {a["key"] for a in again} == set(warn.loc[~sanling, "key"])


def test_alerts_are_scoped_and_listed(db, capsys):
    engine = get_engine(db)
    alerts.evaluate(engine, as_of=datetime(2026, 10, 20, 9))
    everything = alerts.recent(engine, Scope.all(), open_only=True)
    root = un.home_unit(engine, Scope.all())
    for code in un.children(engine, Scope.all(), root)["code"]:
        sub = un.get_unit(engine, code)
        mine = alerts.unit_alerts(engine, Scope(code, 1), sub)
        assert set(mine["id"]) == set(everything.loc[everything["unit_code"].str.startswith(code), "id"])
    from data_access.cli import main

    assert main(["alerts", "--db", db, "--since", "2026-10-01"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1])["alerts"] == len(out) - 1 >= len(everything)
    assert main(["alerts", "--db", db, "--since", "yesterday"]) == 2


class _Hook(http.server.BaseHTTPRequestHandler):
    fail_first = 0
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        cls.received.append(body)
        ok = len(cls.received) > cls.fail_first
        self.send_response(200 if ok else 500)
        self.end_headers()
        self.wfile.write(b'{"errcode":0}')

    def log_message(self, *_):
        pass


@pytest.fixture
def hook():
    handler = type("Hook", (_Hook,), {"received": [], "fail_first": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/robot"
    server.shutdown()


def test_webhook_retries_then_dead_letters(db, hook, monkeypatch):
    handler, url = hook
    engine = get_engine(db)
    alerts.evaluate(engine, as_of=datetime(2026, 10, 20, 9))
    pending = alerts.recent(engine, Scope.all())
    n = int((pending["posted"] == "no").sum())
    assert n > 0
    handler.fail_first = 2  # the robot answers 500 twice, then accepts
    waits = []
    monkeypatch.setenv("ALERT_WEBHOOK_URL", url)
    assert alerts.deliver(engine, retries=3, sleep=waits.append) == {"sent": n, "dead": 0}
    assert len(handler.received) == n + 2 and waits == [1.0, 2.0]
    assert "告警" in handler.received[-1]["text"]["content"] and handler.received[-1]["alert"]["id"]
    assert alerts.deliver(engine, retries=3, sleep=waits.append) == {"sent": 0, "dead": 0}  # nothing posted twice
    # a robot that never answers well: every try fails, the alert goes to the dead letters
    alerts.evaluate(engine, as_of=datetime(2026, 11, 2, 9))
    alerts.evaluate(engine, as_of=datetime(2026, 10, 20, 11))  # raised anew after clearing
    handler.fail_first = 10**6
    got = alerts.deliver(engine, retries=2, sleep=lambda s: None)
    assert got["sent"] == 0 and got["dead"] > 0 and len(alerts.dead_letters(engine)) == got["dead"]
    handler.fail_first = 0
    assert alerts.requeue(engine) == got["dead"]
    assert alerts.deliver(engine, retries=1, sleep=lambda s: None) == {"sent": got["dead"], "dead": 0}
    assert alerts.dead_letters(engine).empty
    # no robot listening at all: a refused connection is a failure too
    alerts.evaluate(engine, as_of=datetime(2026, 11, 2, 9))
    alerts.evaluate(engine, as_of=datetime(2026, 10, 20, 12))
    assert alerts.deliver(engine, "http://127.0.0.1:9/none", retries=2, sleep=lambda s: None)["dead"] > 0


def test_alert_on_the_wall_and_on_my_page(db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    engine = get_engine(db)
    alerts.evaluate(engine, as_of=datetime(2026, 10, 20, 9))
    open_ = alerts.recent(engine, Scope.all(), open_only=True)
    monkeypatch.setenv("DATABASE_URL", db)
    monkeypatch.chdir(ROOT)
    bodies = {}
    for page, user in (("overview", "leader"), ("my", "staff")):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in login_state(db, user).items():
            at.session_state[k] = v
        at.switch_page(f"pages/{page}.py")
        at.query_params["period"] = "2026-10"
        at.run()
        assert not at.exception, at.exception
        bodies[page] = "\n".join(str(h.proto.body) for h in at.get("html"))
    assert "告警·重点哨" in bodies["overview"] and open_["message"].iloc[0][:20] in bodies["overview"]
    staff_unit = login_state(db, "staff")["scope"].unit_code
    mine = open_[open_["unit_code"].str.startswith(staff_unit)]
    theirs = open_[~open_["unit_code"].str.startswith(staff_unit)]
    assert len(mine) and 'data-testid="alerts"' in bodies["my"]
    assert all(m[:15] in bodies["my"] for m in mine["message"])
    assert not any(m[:15] in bodies["my"] for m in theirs["message"])


def test_month_completeness_of_a_running_month_uses_as_of(db):
    p = month_period(datetime(2026, 10, 1).date())
    assert "尚未结束" in bulletins.month_completeness(get_engine(db), p, as_of=datetime(2026, 10, 31, 23, 59))
