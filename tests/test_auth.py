"""Tests for accounts: login success/failure/lockout, sessions and display tokens, CLI, audit, the gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from data_access import accounts
from data_access.db.engine import get_engine
from data_access.db.schema import audit_log, users
from data_access.demo import build_demo

from .conftest import ROOT, TEST_UNTIL, faked_clock_env


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def eng(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_scratch")()
    build_demo(url, scale="tiny", seed=2, until=TEST_UNTIL, log=lambda m: None)
    return get_engine(url)


def _audit(eng, action):
    with eng.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_log).where(audit_log.c.action == action)).scalar()


def test_demo_accounts_and_hashes(eng):
    """Demo accounts exist per role with argon2 hashes (never the password)."""
    with eng.connect() as conn:
        rows = {r.username: r for r in conn.execute(select(users))}
    assert {u: r.role for u, r in rows.items()} == {"leader": "leader", "staff": "staff", "display": "display",
                                                   "admin": "admin"}
    assert all(r.password_hash.startswith("$argon2id$") and "123" not in r.password_hash for r in rows.values())
    assert rows["staff"].unit_code.endswith("001") and len(rows["staff"].unit_code) == 9


NOW = datetime(2026, 11, 2, 9, 0)


def _bad_password_rows(eng, username):
    with eng.connect() as conn:
        rows = conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "login_fail",
                                                             audit_log.c.username == username)).scalars().all()
    return sum(json.loads(d).get("reason") == "bad password" for d in rows)


def _failed_logins(eng, username):
    with eng.connect() as conn:
        return conn.execute(select(users.c.failed_logins).where(users.c.username == username)).scalar()


def test_login_success_and_one_message_for_every_failure(eng):
    """Unknown name, wrong password and disabled account all get the same message."""
    res = accounts.authenticate(eng, "staff", "staff123", now=NOW)
    assert res.user["role"] == "staff" and res.message == ""
    with eng.begin() as conn:
        conn.execute(users.update().where(users.c.username == "admin").values(disabled=True))
    answers = {accounts.authenticate(eng, name, pw, client=f"10.0.0.{i}", now=NOW).message
               for i, (name, pw) in enumerate([("staff", "wrong"), ("nobody", "x"), ("admin", "admin123"),
                                               ("", ""), ("x" * 500, "y")])}
    assert answers == {accounts.FAILED}
    assert _audit(eng, "login_ok") == 1 and _audit(eng, "login_fail") == 5


def test_parallel_wrong_passwords_are_all_counted(eng):
    """40 parallel wrong passwords: every checked attempt is counted (no read-modify-write), and the
    throttle stops most of them before the password is even checked."""
    with ThreadPoolExecutor(40) as pool:
        list(pool.map(lambda i: accounts.authenticate(eng, "leader", f"wrong-{i}", now=NOW), range(40)))
    checked = _bad_password_rows(eng, "leader")
    assert _failed_logins(eng, "leader") == checked  # each check added one: none lost in the race
    assert 1 <= checked <= 10  # the throttle engaged: not 40 argon2 checks
    assert _audit(eng, "login_fail") == 40


def test_attempt_counter_is_atomic(eng):
    """The throttle counter takes 40 parallel attempts without losing one (a free rule lets all pass)."""
    from data_access.accounts import throttle

    free = throttle.Rule("test", free=1000, base_s=1, cap_s=60, window_s=3600)
    with ThreadPoolExecutor(40) as pool:
        waits = list(pool.map(lambda _: throttle.take(eng, free, "k", NOW), range(40)))
    assert waits == [0.0] * 40 and throttle.attempts(eng, free, "k") == 40
    strict = throttle.Rule("strict", free=3, base_s=5, cap_s=60, window_s=3600)
    with ThreadPoolExecutor(40) as pool:
        waits = list(pool.map(lambda _: throttle.take(eng, strict, "k", NOW), range(40)))
    assert waits.count(0.0) == 3 and throttle.attempts(eng, strict, "k") == 3
    assert sorted(waits)[-1] == 5  # the rest are told when to come back


def _attack(eng, name, t, checked, client=None):
    """Guess ``name``'s password until ``checked`` guesses got through, coming back exactly when told
    to (from a new client each time unless ``client``); returns the time then and the waits."""
    waits, n, i = [], 0, 0
    while n < checked:
        res = accounts.authenticate(eng, name, "guess", client=client or f"203.0.113.{i % 250}", now=t)
        assert res.user is None
        i += 1
        if res.retry_after:
            waits.append(res.retry_after)
            t += timedelta(seconds=res.retry_after)
        else:
            n += 1
    return t, waits


def test_progressive_delay_and_owner_not_locked_out(eng):
    """Guessing leader's password is slowed ever more; the owner still logs in at once from the
    client they used before, and from a new client once the delay has passed."""
    from data_access.accounts import throttle

    desk = "10.0.0.5"
    assert accounts.authenticate(eng, "leader", "leader123", client=desk, now=NOW - timedelta(days=3)).user
    t, waits = _attack(eng, "leader", NOW, checked=12)
    assert waits == sorted(waits) and waits[-1] >= 60  # a progressive delay, not a lock
    elsewhere = accounts.authenticate(eng, "leader", "leader123", client="10.9.9.9", now=t)
    assert elsewhere.user is None and 0 < elsewhere.retry_after <= throttle.ACCOUNT.cap_s
    assert accounts.authenticate(eng, "leader", "leader123", client=desk, now=t).user  # own desk: no wait
    t, _ = _attack(eng, "leader", t, checked=8)
    later = t + timedelta(seconds=throttle.ACCOUNT.cap_s)
    assert accounts.authenticate(eng, "leader", "leader123", client="10.9.9.9", now=later).user  # after the delay


def test_one_client_is_slowed_across_names(eng):
    """One client trying many names is slowed by its own key; a throttled name that does not exist
    gets the same message as one that does (nothing is disclosed)."""
    from data_access.accounts import throttle

    t, waits = NOW, []
    for i in range(40):
        res = accounts.authenticate(eng, f"user{i}", "x", client="198.51.100.7", now=t)
        if res.retry_after:
            waits.append(res.retry_after)
    assert len(waits) == 40 - throttle.CLIENT.free and _audit(eng, "login_fail") == 40
    for name in ("leader", "no-such-user"):
        for _ in range(throttle.ACCOUNT.free + 1):
            res = accounts.authenticate(eng, name, "x", client=f"192.0.2.{len(name)}", now=NOW)
        assert res.retry_after and res.message == accounts.THROTTLED.format(s=int(res.retry_after))


def test_good_logins_from_one_office_are_not_slowed(eng):
    """Colleagues behind one address log in one after another: good logins never add up to a delay."""
    from data_access.accounts import throttle

    for _ in range(throttle.CLIENT.free + 3):
        assert accounts.authenticate(eng, "staff", "staff123", client="10.1.1.1", now=NOW).user is not None
    assert throttle.attempts(eng, throttle.CLIENT, "10.1.1.1") == 0


def test_unknown_user_takes_as_long_as_a_known_one(eng):
    """A wrong password for an existing account and any password for a missing one take about the
    same time (the missing one is checked against a dummy hash)."""
    accounts.authenticate(eng, "warm-up", "x", now=NOW)
    known, unknown = [], []
    for i in range(7):
        at = NOW + timedelta(hours=2 * (i + 1))  # past every throttle window: each attempt is checked
        for name, out in (("leader", known), (f"ghost{i}", unknown)):
            t0 = time.perf_counter()
            accounts.authenticate(eng, name, "wrong", now=at)
            out.append(time.perf_counter() - t0)
    # The fastest of each: the other test workers' load only ever adds time. Without the dummy hash
    # the ratio is about 0.002 (0.3 ms against 200 ms), so the bounds leave room for noise alone.
    ratio = min(unknown) / min(known)
    assert 1 / 3 < ratio < 3, (known, unknown)


_PEAK_RSS = """
import resource, sys, threading
from data_access.accounts import users
h = users.hash_password("pw")
users.verify_password(h, "x")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
threads = [threading.Thread(target=users.verify_password, args=(h, "x")) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_parallel_password_checks_are_bounded():
    """16 parallel argon2 checks (64 MiB each) stay within a few checks' worth of memory."""
    out = subprocess.run([sys.executable, "-c", _PEAK_RSS], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HASH_CONCURRENCY": "2"})
    assert out.returncode == 0, out.stderr[-2000:]
    grown_mib = int(out.stdout.split()[-1])
    assert grown_mib < 4 * 64, f"peak RSS grew by {grown_mib} MiB"


def test_sessions_expire_and_revoke(eng):
    token = accounts.create_session(eng, "leader", "login", hours=1)
    assert accounts.session_user(eng, token)["username"] == "leader"
    assert accounts.session_user(eng, token, now=datetime.now() + timedelta(hours=2)) is None
    assert accounts.session_user(eng, token, kind="display") is None
    assert accounts.revoke_session(eng, token)
    assert accounts.session_user(eng, token) is None
    assert accounts.session_user(eng, "forged-token") is None


def test_cli_users(eng):
    url = eng.url.render_as_string(hide_password=False)

    def cli(*args, stdin=None):
        out = subprocess.run([sys.executable, "-m", "data_access", "users", *args, "--db", url], input=stdin,
                             capture_output=True, text=True, cwd=ROOT, env=faked_clock_env(required=False))
        return out.returncode, out.stdout, out.stderr

    code, out, _ = cli("add", "wang", "--role", "staff", "--unit", "411602002", "--password-stdin", stdin="pw-1\n")
    assert code == 0 and json.loads(out.splitlines()[-1])["ok"]
    assert accounts.authenticate(eng, "wang", "pw-1", now=NOW).user["unit_code"] == "411602002"
    code, _, err = cli("add", "li", "--role", "staff", "--password-stdin", stdin="x\n")
    assert code == 2 and "--unit" in err
    assert cli("set-password", "wang", "--password-stdin", stdin="pw-2\n")[0] == 0
    assert accounts.authenticate(eng, "wang", "pw-2", now=NOW).user is not None
    assert cli("disable", "wang")[0] == 0
    assert accounts.authenticate(eng, "wang", "pw-2", now=NOW).user is None
    code, out, _ = cli("display-token", "display", "--days", "365")  # valid at the suite's clock either way
    token = out.splitlines()[0].split("token=")[1]
    assert accounts.session_user(eng, token, "display")["role"] == "display"
    assert cli("revoke-tokens", "display")[0] == 0
    assert accounts.session_user(eng, token, "display") is None
    assert "wang" in cli("list")[1]
    assert _audit(eng, "user_change") >= 3 and "pw-" not in str(_all_audit(eng))


def _all_audit(eng):
    with eng.connect() as conn:
        return conn.execute(select(audit_log)).all()


def test_gate_shows_login_form(district_url, monkeypatch):
    """Without a session the app shows only the login form (用户名 / 密码 / 登录)."""
    monkeypatch.setenv("DATABASE_URL", district_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert at.button[0].label == "登录"
    assert not at.get("html") or all("data-kpi" not in str(h.proto.body) for h in at.get("html"))
    at.text_input[0].input("leader")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert at.error and "用户名或密码错误" in at.error[0].value
    at.text_input[1].input("leader123")
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["user"]["role"] == "leader"


def test_no_page_and_no_stand_in_identity_before_login(district_url, monkeypatch):
    """A page file run on its own (Streamlit's legacy pages/ mode, or as the main script) shows no data
    and never exports as a made-up leader, even when an earlier run of app.py left state behind."""
    monkeypatch.setenv("DATABASE_URL", district_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "pages" / "report.py"), default_timeout=60)
    at.session_state["_via_app"] = True  # what app.py used to set before its gate
    at.run()
    assert not at.exception
    assert not at.get("download_button") and not at.selectbox
    assert all("编制" not in c.value for c in at.caption)
    assert at.error  # a clear message instead


@pytest.mark.parametrize("page", ["map", "my", "report", "data"])
def test_deep_link_before_login_shows_only_the_login_form(district_url, monkeypatch, page):
    """AppTest starts every run in Streamlit's legacy pages/ mode, as the first session after a plain
    ``streamlit run app.py`` does: a deep link still gets only the login form."""
    monkeypatch.setenv("DATABASE_URL", district_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert "user" not in at.session_state and "scope" not in at.session_state
    assert not at.get("html") or all("data-kpi" not in str(h.proto.body) for h in at.get("html"))
