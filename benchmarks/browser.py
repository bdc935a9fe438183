"""Browser timings in Debian Chromium: navigation → complete overview (cold/warm), and N concurrent
kiosk sessions (p50/p95 time to a complete refresh, server RSS)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from .common import PERIOD, ROOT, percentile, rss_mb

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
# The concurrency runs leave out WebGL: 30 software-rendered maps on the same 2 cores would measure
# the benchmark's own browser, not the server; the server does the same work either way.
TILES_DONE = """() => document.querySelectorAll('[data-kpi] .kpi-value').length >= 12
  && document.querySelectorAll('[data-gauge] img').length >= 4
  && !document.querySelector('[data-testid="stSpinner"]')"""
COMPLETE = """() => document.querySelectorAll('[data-kpi] .kpi-value').length >= 12
  && document.querySelectorAll('[data-gauge] img').length >= 4 && !!document.querySelector('canvas')
  && !document.querySelector('[data-testid="stSpinner"]')"""


def start_server(url: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "AUTH_DISABLED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
                             str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    return proc, base


def _load(page, url: str) -> float:
    t = time.perf_counter()
    page.goto(url)
    page.wait_for_function(COMPLETE, timeout=120_000, polling=50)
    return (time.perf_counter() - t) * 1000


def run(url: str, log=print, sessions=(1, 10, 30)) -> dict:
    from playwright.sync_api import sync_playwright

    proc, base = start_server(url)
    out: dict = {}
    target = f"{base}/?kiosk=1&period={PERIOD}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            out["overview_browser_cold_ms"] = round(_load(page, target), 0)
            warm = [_load(page, target) for _ in range(3)]
            out["overview_browser_warm_ms"] = round(sorted(warm)[1], 0)
            log(f"  overview cold {out['overview_browser_cold_ms']} ms, warm {out['overview_browser_warm_ms']} ms")
            page.close()
            browser.close()
        for n in sessions:
            times, rss = _concurrent(target, n, proc.pid)
            out[f"sessions{n}_p50_ms"] = round(percentile(times, 0.5), 0)
            out[f"sessions{n}_p95_ms"] = round(percentile(times, 0.95), 0)
            out[f"server_rss_mb_{n}"] = round(rss, 0)
            log(f"  {n:2d} sessions: p50 {out[f'sessions{n}_p50_ms']} ms, p95 {out[f'sessions{n}_p95_ms']} ms, "
                f"server RSS {out[f'server_rss_mb_{n}']} MB")
    finally:
        proc.terminate()
        proc.wait(10)
    return out


def _concurrent(target: str, n: int, pid: int, rounds: int = 3) -> tuple[list[float], float]:
    """``n`` browser sessions (one Chromium, n contexts) each loading the wall ``rounds`` times at once."""
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    peak = [0.0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.2)

    w = threading.Thread(target=watch, daemon=True)
    w.start()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS[:4] + ["--disable-webgl", "--disable-3d-apis"])
        pages = [browser.new_context(viewport={"width": 1920, "height": 1080}).new_page() for _ in range(n)]
        for pg in pages:
            pg.set_default_timeout(300_000)
        for _ in range(rounds):
            starts = {}
            for pg in pages:
                starts[pg] = time.perf_counter()
                pg.goto(target, wait_until="commit")
            for pg in pages:
                pg.wait_for_function(TILES_DONE, timeout=300_000, polling=100)
                times.append((time.perf_counter() - starts[pg]) * 1000)
        browser.close()
    stop.set()
    w.join()
    return times, peak[0]
