"""Shared fixtures: a frozen clock, demo databases on SQLite and a scratch PostgreSQL, a live app server.

The clock: every in-process test runs at :data:`FROZEN_NOW` (time-machine), and the app servers and
commands the tests start get the same clock through libfaketime when it is installed (Debian
``faketime``; ``.ci/run`` installs it). It is a day of Spring Festival 2027, a year chinese-calendar
does not know, so the suite proves that dates and working days hold past 2026. The clock ticks from
there (timeouts and polling loops keep working); the day stays the same for the whole run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data_access.db.engine import get_engine  # noqa: E402
from data_access.demo import build_demo  # noqa: E402

from .apptest_nav import navigation_only  # noqa: E402

navigation_only()

# Fixed so that tests are deterministic whatever day they run.
TEST_UNTIL = date(2026, 10, 31)
# "Now" for tests that ask about the demo data as it stands: the moment its year of data ends.
DATA_AS_OF = datetime.combine(TEST_UNTIL + timedelta(days=1), datetime.min.time())
# The clock of the whole run (local time): the Wednesday of Spring Festival week 2027.
FROZEN_NOW = datetime(2027, 2, 10, 9, 0)
FAKETIME_LIBS = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1")
PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _quiet(_msg: str) -> None:
    pass


@pytest.fixture(scope="session", autouse=True)
def frozen_clock():
    """Run every test at FROZEN_NOW (ticking from there)."""
    with time_machine.travel(FROZEN_NOW.astimezone(), tick=True):
        yield


def _faketime_lib() -> str | None:
    return next((p for p in FAKETIME_LIBS if Path(p).exists()), None)


def faked_clock_env(at: datetime | None = None, required: bool = True) -> dict[str, str]:
    """The environment for a child process whose clock starts at ``at`` (default: this run's clock) and
    ticks: libfaketime preloaded. Without libfaketime: skip the test (``required``) or the plain environment."""
    lib = _faketime_lib()
    if lib is None:
        if required:
            pytest.skip("libfaketime not installed (Debian package faketime; .ci/run installs it)")
        return dict(os.environ)
    at = at or datetime.now()  # the frozen clock of this run, not the wall clock
    preload = " ".join(p for p in (lib, os.environ.get("LD_PRELOAD")) if p)
    return {**os.environ, "LD_PRELOAD": preload, "FAKETIME": f"@{at:%Y-%m-%d %H:%M:%S}"}


def _pg_admin_engine():
    url = PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _pg_available() -> str | None:
    """None if PostgreSQL answers, else the reason it does not."""
    try:
        with _pg_admin_engine().connect() as conn:
            conn.execute(text("select 1"))
        return None
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"


@pytest.fixture(scope="session")
def pg_scratch():
    """A fresh PostgreSQL database for this run, dropped afterwards; yields a URL maker."""
    reason = _pg_available()
    if reason:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    admin = _pg_admin_engine()
    created = []

    def make() -> str:
        name = f"sanling_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    yield make
    for eng in list(get_engine.cache_info() and []):  # pragma: no cover
        eng.dispose()
    get_engine.cache_clear()
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_tiny(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'tiny.db'}"
    build_demo(url, scale="tiny", seed=7, until=TEST_UNTIL, log=_quiet)
    return url


@pytest.fixture(scope="session")
def pg_tiny(pg_scratch) -> str:
    url = pg_scratch()
    build_demo(url, scale="tiny", seed=7, until=TEST_UNTIL, log=_quiet)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tiny_url(request) -> str:
    """The tiny demo database on each engine (same seed → same content)."""
    return request.getfixturevalue("sqlite_tiny" if request.param == "sqlite" else "pg_tiny")


@pytest.fixture
def tiny_engine(tiny_url):
    return get_engine(tiny_url)


@pytest.fixture(scope="session")
def district_url(tmp_path_factory) -> str:
    """The full district-scale demo on SQLite, built once per run (the data users see)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('district') / 'demo.db'}"
    build_demo(url, scale="district", seed=20241, until=TEST_UNTIL, log=_quiet)
    return url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# How the app can be started: the ASGI app by serve.py (what `make run` does) or by uvicorn, and the
# plain `streamlit run app.py` everyone types (no routes of ours: session-only login).
START_MODES = ("serve", "uvicorn", "plain")


def _start_command(mode: str, port: int) -> list[str]:
    if mode == "serve":
        return [sys.executable, str(ROOT / "serve.py"), "--server.port", str(port), "--server.address", "127.0.0.1",
                "--server.headless", "true"]
    if mode == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "asgi:app", "--host", "127.0.0.1", "--port", str(port)]
    if mode == "plain":
        return [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
                "--server.address", "127.0.0.1", "--server.headless", "true"]
    raise ValueError(f"unknown start mode {mode!r}")


@contextlib.contextmanager
def serve_app(db_url: str, log: Path, mode: str = "serve", **env_extra: str):
    """Start the app on ``db_url`` the way ``mode`` names (see START_MODES; extra environment
    variables allowed) with this run's clock (libfaketime, when installed); yields its base URL once
    it answers its health check."""
    port = _free_port()
    env = {**faked_clock_env(required=False), "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT), **env_extra}
    with open(log, "w") as fh:
        proc = subprocess.Popen(_start_command(mode, port), cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    import urllib.request

    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"the app did not start ({mode}); log: {log.read_text()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def app_server(district_url, tmp_path_factory):
    """The app started as ``make run`` does (``serve.py``: the ASGI app) on the district demo; yields its
    base URL."""
    with serve_app(district_url, tmp_path_factory.mktemp("server") / "streamlit.log") as base:
        yield base


def login_state(url: str, username: str) -> dict:
    """The session state the login gate sets for ``username``, backed by a real session (for AppTest)."""
    from data_access.accounts import create_session, get_user, public_user, scope_for

    user = public_user(get_user(get_engine(url), username))
    return {"user": user, "scope": scope_for(get_engine(url), user["role"], user["unit_code"]),
            "auth_token": create_session(get_engine(url), username, "login"), "auth_kind": "login"}


def session_cookie(url: str, base: str, username: str) -> dict:
    """A real login session for ``username`` as a Playwright cookie for the app at ``base``."""
    from urllib.parse import urlparse

    from components.auth import COOKIE
    from data_access.accounts import create_session

    token = create_session(get_engine(url), username, "login")
    return {"name": COOKIE, "value": token, "domain": urlparse(base).hostname, "path": "/"}


def display_token(url: str) -> str:
    from data_access.accounts import create_session

    return create_session(get_engine(url), "display", "display", hours=24)


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Playwright driving Debian Chromium (no downloaded browser)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--no-first-run", "--use-gl=angle", "--use-angle=swiftshader",
            "--enable-unsafe-swiftshader"])
        yield b
        b.close()


ARTIFACTS = ROOT / "artifacts"
