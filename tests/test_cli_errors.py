"""Tests for the command-line tools' errors: every sub-command ends with one clear line and a non-zero
exit on bad input or an unreachable database — never a traceback, never a password hash."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT, faked_clock_env

# A port in this worktree's range that nothing listens on: connection refused at once.
UNREACHABLE = "postgresql://postgres@127.0.0.1:8629/nowhere"


def _run(module: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**faked_clock_env(required=False), "DB_CONNECT_TIMEOUT_S": "2"}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", module, *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


DOWN = ("--db", UNREACHABLE)
CASES = {
    # python -m data_access
    "init down": ("data_access", "init", *DOWN),
    "check down": ("data_access", "check", *DOWN),
    "export-grids down": ("data_access", "export-grids", "/tmp/x.geojson", *DOWN),
    "users list down": ("data_access", "users", "list", *DOWN),
    "users add down": ("data_access", "users", "add", "zhao", "--role", "leader", "--password-stdin", *DOWN),
    "users disable down": ("data_access", "users", "disable", "zhao", *DOWN),
    "import-grids missing file": ("data_access", "import-grids", "/nonexistent/grids.geojson", *DOWN),
    "import-events missing file": ("data_access", "import-events", "/nonexistent/events.csv", *DOWN),
    "simulate down": ("data_access", "simulate", "--minutes", "0.01", "--interval", "0.1", *DOWN),
    "demo bad until": ("data_access", "demo", "--until", "2026-02-30", "--db", "/tmp/never-built.db"),
    "bad db url": ("data_access", "check", "--db", "nosuchdriver://x/y"),
    "unknown command": ("data_access", "frobnicate"),
    "bad level": ("data_access", "export-grids", "/tmp/x.geojson", "--level", "9"),
    # python -m reports
    "pdf down": ("reports", "pdf", "--period", "2026-09", "--out", "/tmp/x.pdf", *DOWN),
    "excel down as user": ("reports", "excel", "--period", "2026-09", "--out", "/tmp/x.xlsx", "--user", "leader",
                           *DOWN),
    "pdf bad sections down": ("reports", "pdf", "--period", "2026-09", "--out", "/tmp/x.pdf", "--sections", "nope",
                              *DOWN),
    "pdf no period": ("reports", "pdf", "--out", "/tmp/x.pdf", *DOWN),
    "pdf bad format": ("reports", "docx", "--period", "2026-09", "--out", "/tmp/x.pdf"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_command_ends_with_a_message(case):
    """Each sub-command with bad input or an unreachable database: non-zero exit, a message, no traceback."""
    module, *args = CASES[case]
    out = _run(module, *args, stdin="pw-123\n")
    assert out.returncode != 0, out.stdout
    assert "Traceback" not in out.stderr, out.stderr
    assert "error" in out.stderr.lower() or "错误" in out.stderr, out.stderr
    assert out.stderr.strip().count("\n") < 6, out.stderr  # a message, not a dump


def test_unreachable_database_says_so():
    out = _run("data_access", "users", "list", *DOWN)
    assert out.returncode == 2 and "数据库暂时无法连接" in out.stderr, out.stderr


def test_bad_period_and_missing_file(sqlite_tiny, tmp_path):
    out = _run("reports", "pdf", "--db", sqlite_tiny, "--period", "2026-13", "--out", str(tmp_path / "x.pdf"))
    assert out.returncode == 2 and "Traceback" not in out.stderr and "2026-13" in out.stderr, out.stderr
    out = _run("data_access", "import-events", str(tmp_path / "none.csv"), "--db", sqlite_tiny)
    assert out.returncode != 0 and "Traceback" not in out.stderr and "none.csv" in out.stderr, out.stderr


def test_bad_setting_is_a_message(sqlite_tiny):
    env = {**faked_clock_env(required=False), "DB_BUSY_TIMEOUT_S": "soon"}
    out = subprocess.run([sys.executable, "-m", "data_access", "users", "list", "--db", sqlite_tiny],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert out.returncode == 2 and "DB_BUSY_TIMEOUT_S" in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_duplicate_user_never_prints_the_hash(tmp_path, sqlite_tiny):
    """``users add`` of a name that exists: a clear message, no IntegrityError, no argon2 hash."""
    import shutil

    db = tmp_path / "copy.db"
    shutil.copy(sqlite_tiny.removeprefix("sqlite:///"), db)
    args = ("users", "add", "wu", "--role", "leader", "--password-stdin", "--db", str(db))
    assert _run("data_access", *args, stdin="pw-1\n").returncode == 0
    out = _run("data_access", *args, stdin="pw-2\n")
    assert out.returncode == 2, out.stderr
    assert "已存在" in out.stderr and "wu" in out.stderr
    both = out.stdout + out.stderr
    assert "$argon2" not in both and "IntegrityError" not in both and "Traceback" not in both
