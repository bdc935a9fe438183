"""Browser timings in Debian Chromium with software GL (SwiftShader): navigation → complete wall
(cold/warm), drill-down click → next level on 网格地图; optionally (``BENCH_BROWSER_SESSIONS=1,10``)
N browser sessions loading the wall at once (``browser_sessions{N}_p95_ms``: page loads, queueing
included — the server's concurrency figures come from :mod:`benchmarks.walls`)."""

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
  && document.querySelectorAll('[data-gauge] img').length >= 4
  && !!document.querySelector('[data-testid="wall-map-svg"]')?.complete
  && !document.querySelector('[data-testid="stSpinner"]')"""


def start_server(url: str, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """The app as `make run` starts it (serve.py) on ``url``, on ``port`` (default: a free one); returns the
    process and its base URL once it answers its health check."""
    if port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--server.port",
                             str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"the app server exited with {proc.returncode} before answering") from None
            time.sleep(0.5)
    else:
        proc.terminate()
        raise RuntimeError("the app server did not answer its health check in 2 minutes")
    return proc, base


DOM_READY = "() => Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd)"
NO_WEBGL = ARGS[:4] + ["--disable-webgl", "--disable-3d-apis"]


def _without_webgl(p, target: str) -> dict:
    """Baseline in the same run: the same warm wall in a Chromium without SwiftShader WebGL, which
    separates this GPU-less machine's software-GL start-up from the page's own work."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=NO_WEBGL)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    _load(page, target)
    warm = sorted(_load(page, target) for _ in range(3))
    dom = page.evaluate(DOM_READY)
    browser.close()
    return {"overview_browser_warm_nowebgl_ms": round(warm[1], 0), "overview_dom_ready_nowebgl_ms": dom}


def _load(page, url: str) -> float:
    t = time.perf_counter()
    page.goto(url)
    page.wait_for_function(COMPLETE, timeout=120_000, polling=50)
    return (time.perf_counter() - t) * 1000


def run(url: str, log=print, sessions: tuple[int, ...] | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    from data_access.accounts import create_session
    from data_access.db.engine import get_engine

    sessions = sessions or tuple(int(n) for n in os.environ.get("BENCH_BROWSER_SESSIONS", "").split(",") if n)
    proc, base = start_server(url)
    out: dict = {}
    token = create_session(get_engine(url), "display", "display", hours=2, note="benchmark")
    target = f"{base}/?kiosk=1&period={PERIOD}&token={token}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            # Floor measured in the same run: Streamlit booting in this browser with nothing to draw
            # (the login form of a fresh session).
            floor = []
            for _ in range(3):
                t = time.perf_counter()
                page.goto(base)
                page.wait_for_selector("text=用户名", timeout=120_000)
                floor.append((time.perf_counter() - t) * 1000)
            out["streamlit_floor_ms"] = round(sorted(floor)[1], 0)
            out["overview_browser_cold_ms"] = round(_load(page, target), 0)
            warm = [_load(page, target) for _ in range(3)]
            out["overview_browser_warm_ms"] = round(sorted(warm)[1], 0)
            out["overview_vs_floor"] = round(out["overview_browser_warm_ms"] / out["streamlit_floor_ms"], 2)
            out["overview_dom_ready_ms"] = page.evaluate(DOM_READY)
            log(f"  overview cold {out['overview_browser_cold_ms']} ms, warm {out['overview_browser_warm_ms']} ms "
                f"(DOMContentLoaded at {out['overview_dom_ready_ms']} ms)")
            page.close()
            out |= _without_webgl(p, target)
            log(f"  same wall without software WebGL: warm {out['overview_browser_warm_nowebgl_ms']} ms "
                f"(DOMContentLoaded at {out['overview_dom_ready_nowebgl_ms']} ms)")
            try:
                out |= _drilldown(browser, base, url)
                log(f"  drill-down click → next level drawn: {out['drilldown_step_ms']} ms")
            except Exception as exc:  # noqa: BLE001 - report and go on with the other measurements
                out["drilldown_error"] = f"{type(exc).__name__}: {str(exc)[:120]}"
                log(f"  drill-down failed: {out['drilldown_error']}")
            browser.close()
        for n in sessions:
            times, rss = _concurrent(target, n, proc.pid)
            out[f"browser_sessions{n}_p50_ms"] = round(percentile(times, 0.5), 0)
            out[f"browser_sessions{n}_p95_ms"] = round(percentile(times, 0.95), 0)
            out[f"browser_server_rss_mb_{n}"] = round(rss, 0)
            log(f"  {n:2d} browser sessions: p50 {out[f'browser_sessions{n}_p50_ms']} ms, "
                f"p95 {out[f'browser_sessions{n}_p95_ms']} ms, server RSS {out[f'browser_server_rss_mb_{n}']} MB")
    finally:
        proc.terminate()
        proc.wait(10)
    return out


DRAWN = """() => { const c = document.querySelector('canvas'); if (!c || !c.width) return false;
  const o = document.createElement('canvas'); o.width = 32; o.height = 32; const g = o.getContext('2d');
  g.drawImage(c, 0, 0, 32, 32); const d = g.getImageData(0, 0, 32, 32).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) n++; return n > 20; }"""


def _drilldown(browser, base: str, url: str, rounds: int = 3) -> dict:
    """Leader on /map at a subdistrict clicks its largest child; time until the new level is drawn."""
    import math

    from components.grid_map import fit_view, map_features
    from data_access.accounts import create_session
    from data_access.db.engine import get_engine
    from data_access.filters import Scope
    from data_access.queries.units import children, get_unit, home_unit

    eng = get_engine(url)
    sub = get_unit(eng, children(eng, Scope.all(), home_unit(eng, Scope.all()))["code"].iloc[0])
    kid = children(eng, Scope.all(), sub).sort_values("area_km2", ascending=False).iloc[0]
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    ctx.add_cookies([{"name": "sanling_session", "value": create_session(eng, "leader", "login", hours=2),
                      "domain": "127.0.0.1", "path": "/"}])
    page = ctx.new_page()
    view = fit_view(map_features.__wrapped__(url, (None, 0), sub.code)["bounds"], 1100, 680)
    merc = lambda y: math.log(math.tan(math.pi / 4 + math.radians(y) / 2))  # noqa: E731
    times = []
    for _ in range(rounds):
        page.goto(f"{base}/map?unit={sub.code}&period={PERIOD}")
        page.wait_for_selector('[data-testid="unit-card"]', timeout=120_000)
        page.wait_for_selector("canvas", timeout=120_000)
        page.wait_for_function(DRAWN, timeout=120_000, polling=200)
        page.wait_for_timeout(1000)
        box = page.locator("canvas").first.bounding_box()
        world = 512 * 2 ** view.zoom
        x = box["x"] + box["width"] / 2 + (kid["center_lon"] - view.longitude) / 360 * world
        y = box["y"] + box["height"] / 2 - (merc(kid["center_lat"]) - merc(view.latitude)) / (2 * math.pi) * world
        t = time.perf_counter()
        done = f"""() => (document.querySelector('[data-testid="breadcrumb"]')?.textContent || '')
            .includes('{kid['name']}') && !document.querySelector('[data-testid="stStatusWidget"]')"""
        page.mouse.click(x, y)
        try:
            page.wait_for_function(done, timeout=20_000, polling=50)
        except Exception:  # noqa: BLE001 - the deck was not ready for input yet: one more click
            t = time.perf_counter()
            page.mouse.click(x, y)
            page.wait_for_function(done, timeout=120_000, polling=50)
        times.append((time.perf_counter() - t) * 1000)
    ctx.close()
    return {"drilldown_step_ms": round(sorted(times)[len(times) // 2])}


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
        browser = p.chromium.launch(executable_path=CHROMIUM, args=NO_WEBGL)
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
