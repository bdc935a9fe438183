"""Tests for accounts: login success/failure/lockout, sessions and display tokens, CLI, audit, the gate."""

from __future__ import annotations

import json
import subprocess
import sys
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


def test_login_success_failure_and_lockout(eng):
    user, msg = accounts.authenticate(eng, "staff", "staff123")
    assert user["role"] == "staff" and msg == ""
    assert accounts.authenticate(eng, "staff", "wrong")[0] is None
    assert accounts.authenticate(eng, "nobody", "x") == (None, "用户名或密码错误")
    for _ in range(accounts.MAX_FAILURES - 1):
        accounts.authenticate(eng, "staff", "wrong")
    user, msg = accounts.authenticate(eng, "staff", "staff123")
    assert user is None and "锁定" in msg  # locked even with the right password
    later = datetime.now() + timedelta(minutes=accounts.LOCK_MINUTES + 1)
    assert accounts.authenticate(eng, "staff", "staff123", now=later)[0] is not None
    assert _audit(eng, "login_ok") == 2 and _audit(eng, "login_fail") >= accounts.MAX_FAILURES + 1


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
    assert accounts.authenticate(eng, "wang", "pw-1")[0]["unit_code"] == "411602002"
    code, _, err = cli("add", "li", "--role", "staff", "--password-stdin", stdin="x\n")
    assert code == 2 and "--unit" in err
    assert cli("set-password", "wang", "--password-stdin", stdin="pw-2\n")[0] == 0
    assert accounts.authenticate(eng, "wang", "pw-2")[0] is not None
    assert cli("disable", "wang")[0] == 0
    assert accounts.authenticate(eng, "wang", "pw-2")[0] is None
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
