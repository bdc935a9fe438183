"""Tests for running two app processes behind nginx (deploy/nginx.conf) on one PostgreSQL: a login
made on one replica is valid on the other, a write is seen by walls on both, and a wall whose replica
is killed carries on through the other within a refresh."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from data_access.demo.build import build_demo
from data_access.demo.simulate import tick

from .conftest import FROZEN_NOW, ROOT, TEST_UNTIL, faked_clock_env, get_engine
from .test_browser import open_page, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMPLATE = ROOT / "deploy" / "nginx.conf"
REFRESH_S = 5
MONTH = FROZEN_NOW.strftime("%Y-%m")  # the simulator reports events at the suite's "now" (the servers' too)
WALL = f"/?kiosk=1&refresh={REFRESH_S}&period={MONTH}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout_s: float = 60) -> None:
    import urllib.request

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


class Replica:
    """One app process (``python serve.py``) on its own port."""

    def __init__(self, db_url: str, log: Path):
        self.db_url, self.log = db_url, log
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        env = {**faked_clock_env(required=False), "DATABASE_URL": self.db_url, "PYTHONPATH": str(ROOT)}
        with open(self.log, "a") as fh:
            self.proc = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--server.port", str(self.port),
                                          "--server.address", "127.0.0.1", "--server.headless", "true"],
                                         cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
        _wait_http(f"{self.base}/_stcore/health", 120)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def render_nginx_conf(listen: int, app1: str, app2: str, prefix: Path) -> str:
    """deploy/nginx.conf with its placeholders filled in."""
    text = TEMPLATE.read_text()
    for key, value in {"LISTEN": str(listen), "APP1": app1, "APP2": app2, "PREFIX": str(prefix)}.items():
        text = text.replace(f"@{key}@", value)
    left = re.findall(r"@[A-Z0-9]+@", text.split("worker_processes", 1)[1])
    assert not left, f"placeholders left: {left}"
    return text


@contextlib.contextmanager
def nginx(tmp: Path, a: Replica, b: Replica):
    """nginx in front of the two replicas, as deploy/nginx.conf configures it; yields (base URL, process)."""
    prefix = tmp / "nginx"
    prefix.mkdir()
    listen = _free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(render_nginx_conf(listen, f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}", prefix))
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf),
                             "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_http(f"http://127.0.0.1:{listen}/_stcore/health", 30)
        yield f"http://127.0.0.1:{listen}", proc
    finally:
        proc.terminate()
        proc.wait(10)


def _open_to(port: int) -> int:
    """Established TCP connections to ``port`` (``ss``): between requests only a websocket stays open."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"], capture_output=True,
                         text=True, check=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


def _serving(replicas: list[Replica]) -> Replica:
    """The replica holding the wall's websocket (the only browser session is the wall's, through nginx)."""
    deadline = time.time() + 15
    while time.time() < deadline:
        found = [r for r in replicas if r.proc.poll() is None and _open_to(r.port)]
        if len(found) == 1:
            return found[0]
        time.sleep(0.5)
    raise AssertionError("cannot tell which replica serves the wall")


def _reported(page) -> int:
    return int(page.locator('[data-kpi="reported"] .kpi-value').inner_text().replace(",", "").rstrip("件"))


def _wait_reported(page, value: int, timeout_s: float) -> float:
    """Seconds until the wall shows ``value`` as 事件上报 (fails after ``timeout_s``)."""
    t0 = time.monotonic()
    shown = None
    while time.monotonic() - t0 < timeout_s:
        with contextlib.suppress(Exception):
            shown = _reported(page)
            if shown == value:
                return time.monotonic() - t0
        time.sleep(0.25)
    raise AssertionError(f"the wall shows {shown}, not {value}, {timeout_s} s later")


@pytest.fixture(scope="module")
def pg_replicas(pg_scratch, tmp_path_factory):
    if not Path(NGINX).exists():
        pytest.skip("nginx not installed (Debian package nginx; .ci/run installs it)")
    url = pg_scratch()
    build_demo(url, scale="tiny", seed=7, until=TEST_UNTIL, log=lambda m: None)
    logs = tmp_path_factory.mktemp("replicas")
    a, b = Replica(url, logs / "a.log").start(), Replica(url, logs / "b.log").start()
    try:
        yield url, a, b, logs
    finally:
        a.kill()
        b.kill()


def _login(ctx, base: str) -> None:
    """Log in as the leader through the login form's HTTP endpoint of ``base`` (the browser keeps the cookie)."""
    r = ctx.request.post(f"{base}/auth/login", form={"username": "leader", "password": "leader123", "next": "/"},
                         max_redirects=0)
    assert r.status == 303 and "login=" not in (r.headers.get("location") or ""), r.headers


def test_login_on_one_replica_is_valid_on_the_other(browser, pg_replicas):
    """Logged in on replica A, the browser opens the wall on replica B without logging in again."""
    _url, a, b, _ = pg_replicas
    ctx, page, _ = open_page(browser, "about:blank")
    try:
        _login(ctx, a.base)
        page.goto(f"{b.base}{WALL}")
        wait_rendered(page, selector='[data-kpi="reported"]', timeout_s=120)
        assert page.locator('input[type="password"]').count() == 0, "B asked for a login again"
    finally:
        ctx.close()


def test_a_write_reaches_walls_on_both_replicas(browser, pg_replicas):
    """New events written once show on a wall served by A and on one served by B at their next refresh."""
    url, a, b, _ = pg_replicas
    walls = []
    try:
        for rep in (a, b):
            ctx, page, _ = open_page(browser, "about:blank")
            _login(ctx, rep.base)
            page.goto(f"{rep.base}{WALL}")
            wait_rendered(page, selector='[data-kpi="reported"]', timeout_s=120)
            walls.append((ctx, page))
        before = [_reported(p) for _, p in walls]
        assert before[0] == before[1]
        tick(get_engine(url), np.random.default_rng(11), 7, 0, now=FROZEN_NOW)
        took = [_wait_reported(p, before[0] + 7, 3 * REFRESH_S) for _, p in walls]
        assert max(took) <= 2 * REFRESH_S, took
    finally:
        for ctx, _ in walls:
            ctx.close()


def test_a_wall_whose_replica_dies_carries_on_through_the_other(browser, pg_replicas, tmp_path):
    """Behind nginx: kill the wall's replica; the wall reconnects to the other one (no reload, no login)
    and shows a write made after the kill within about one refresh."""
    url, a, b, logs = pg_replicas
    with nginx(tmp_path, a, b) as (base, _proc):
        ctx, page, outside = open_page(browser, "about:blank")
        try:
            _login(ctx, base)
            page.goto(f"{base}{WALL}")
            wait_rendered(page, selector='[data-kpi="reported"]', timeout_s=120)
            page.evaluate("window.__marker = 42")
            victim = _serving([a, b])
            before = _reported(page)
            victim.kill()
            t0 = time.monotonic()
            tick(get_engine(url), np.random.default_rng(12), 4, 0, now=FROZEN_NOW)
            _wait_reported(page, before + 4, 6 * REFRESH_S)
            took = time.monotonic() - t0
            survivor = b if victim is a else a
            assert _serving([a, b]) is survivor
            assert page.evaluate("window.__marker") == 42, "the page was reloaded"
            assert page.locator('input[type="password"]').count() == 0, "asked for a login again"
            assert page.locator('[data-testid="stException"]').count() == 0
            print(f"replica killed → new figure on the wall after {took:.1f} s (refresh {REFRESH_S} s)")
            assert took <= 2 * REFRESH_S + 3, f"took {took:.1f} s"
            assert outside == []
        finally:
            ctx.close()
            victim_restart = [r for r in (a, b) if r.proc.poll() is not None]
            for r in victim_restart:  # later tests of the module get both replicas back
                r.start()
