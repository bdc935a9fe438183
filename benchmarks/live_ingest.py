"""Live data: push API throughput against the importer, POST → wall latency, sync from MariaDB.

``python -m benchmarks.live_ingest [--rows N] [--sync-rows N] [--skip wall,sync]`` (or the part
``live_ingest`` of ``python -m benchmarks``; sizes from ``BENCH_API_ROWS``, ``BENCH_API_BATCH``, ``BENCH_SYNC_ROWS``).

* **API ingest**: N generated events POSTed in batches of 500 to the real app (``serve.py``, the ASGI
  app with the API beside Streamlit) on a fresh tiny demo (SQLite): events/s and p50/p95 request
  latency. Baseline in the same run: ``import-events`` of the same N events as one CSV into another
  fresh copy (rows/s); ``api_vs_importer`` is the ratio (target ≥ 0.7). Then N more events from
  ``BENCH_API_CLIENTS`` (default 4) clients at once, as several departments post: ``…_clients4``.
* **POST → wall**: a kiosk wall (Chromium) on the same server with ``refresh=R``; one event reported now
  is POSTed and the time until the wall's 上报 tile shows the new count is measured (target ≤ R + 2 s).
  A POST that imported rows drops this process's wall cache (``LIVE_TTL_S``), so the next refresh
  reads the new figures.
* **sync**: M changed rows in a scratch MariaDB database (127.0.0.1:3306) pulled by ``sync --once``
  logic into a fresh copy: rows/s, compared with the importer's rows/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .common import BENCH_UNTIL

API_ROWS = int(os.environ.get("BENCH_API_ROWS", "50000"))
SYNC_ROWS = int(os.environ.get("BENCH_SYNC_ROWS", "100000"))
BATCH = int(os.environ.get("BENCH_API_BATCH", "500"))  # events per request (the API takes up to 5,000)
CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", "4"))  # concurrent posters in the second API run
WALL_REFRESH_S = int(os.environ.get("BENCH_WALL_REFRESH_S", "10"))
MARIADB = os.environ.get("BENCH_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")


def start_server(url: str, port: int | None = None):
    """The app as `make run` starts it (serve.py), on ``port`` (``BENCH_PORT``; default: a free one)."""
    from .browser import start_server as serve

    return serve(url, port)


PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
_PG_CREATED: list[str] = []


def _fresh_db(tmp: Path, name: str, target: str = "sqlite") -> str:
    """A tiny demo database: a SQLite file in ``tmp``, or (``target="postgres"``) a scratch PostgreSQL
    database on ``BENCH_PG_URL``'s server, dropped by :func:`_drop_scratch`."""
    from data_access.demo import build_demo

    if target == "postgres":
        from sqlalchemy import create_engine, text

        db = f"bench_live_{Path(name).stem}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        admin.dispose()
        _PG_CREATED.append(db)
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{db}"
    else:
        url = f"sqlite:///{tmp / name}"
    build_demo(url, scale="tiny", seed=3, until=BENCH_UNTIL, log=lambda m: None)
    return url


def _drop_scratch() -> None:
    from sqlalchemy import create_engine, text

    from data_access.db.engine import get_engine

    get_engine.cache_clear()
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        while _PG_CREATED:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_PG_CREATED.pop()}" WITH (FORCE)'))
    admin.dispose()


def _leaves(url: str) -> list[str]:
    from data_access.db.engine import get_engine
    from data_access.filters import Scope
    from data_access.queries.units import home_unit, units_at_level

    eng = get_engine(url)
    return units_at_level(eng, Scope.all(), home_unit(eng, Scope.all()), 4)["code"].tolist()


def events_frame(codes: list[str], n: int, prefix: str) -> pd.DataFrame:
    """N events of October 2026 with English field names (what the API and the importer both read)."""
    rng = np.random.default_rng(7)
    rep = np.datetime64("2026-10-01T00:00") + rng.integers(0, 30 * 24 * 60, n).astype("timedelta64[m]")
    return pd.DataFrame({
        "id": [f"{prefix}{i:08d}" for i in range(n)], "grid_code": rng.choice(codes, n),
        "category": rng.choice(["矛盾纠纷", "安全隐患", "环境整治"], n),
        "source": rng.choice(["网格员上报", "12345"], n),
        "whistle": "常规哨", "status": "已办结", "reported_at": pd.to_datetime(rep).strftime("%Y-%m-%d %H:%M"),
        "deadline": pd.to_datetime(rep + np.timedelta64(5, "D")).strftime("%Y-%m-%d %H:%M"),
        "closed_at": pd.to_datetime(rep + np.timedelta64(2, "D")).strftime("%Y-%m-%d %H:%M"),
        "title": "占道经营"})


_CONN = threading.local()


def _encode(batch: list[dict]) -> bytes:
    return json.dumps(batch, ensure_ascii=False).encode()


def _post(base: str, key: str, batch: list[dict] | bytes) -> dict:
    """POST ``batch`` (events, or their JSON already encoded) on this thread's kept-alive connection to
    ``base`` (as a source's HTTP client with a connection pool does; one connection per concurrent client).
    A connection the server closed while idle (uvicorn: after 5 s) is replaced once — the post is an upsert
    by id, so a resend is harmless."""
    body = batch if isinstance(batch, bytes) else _encode(batch)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for attempt in (1, 2):
        conn = getattr(_CONN, "conn", None)
        reused = conn is not None and getattr(_CONN, "base", None) == base
        if not reused:
            u = urllib.parse.urlsplit(base)
            conn = _CONN.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
            _CONN.base = base
        try:
            conn.request("POST", "/api/v1/events", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            break
        except (http.client.HTTPException, OSError):
            conn.close()
            _CONN.conn = None
            if not reused or attempt == 2:
                raise
    if resp.status != 200:
        raise RuntimeError(f"POST /api/v1/events answered {resp.status}: {data[:200]!r}")
    return json.loads(data)


def importer_baseline(tmp: Path, df: pd.DataFrame, log, target: str = "sqlite") -> dict:
    from data_access.db.engine import get_engine
    from data_access.importers import import_events

    url = _fresh_db(tmp, "imp.db", target)
    csv = tmp / "events.csv"
    df.to_csv(csv, index=False, encoding="utf-8")
    t = time.perf_counter()
    out = import_events(get_engine(url), str(csv), rejects=str(tmp / "r.csv"))
    s = time.perf_counter() - t
    log(f"  importer: {out['imported']:,} rows in {s:.1f} s = {out['imported'] / s:,.0f} rows/s")
    # The same importer given files of BATCH rows (one transaction each, as a request is): what part of
    # the API's gap is the transaction size alone. The first 10,000 rows, into a fresh database.
    url = _fresh_db(tmp, "imp_small.db", target)
    n, t = 0, time.perf_counter()
    for i in range(0, min(len(df), max(10_000, 20 * BATCH)), BATCH):
        part = tmp / "part.csv"
        df.iloc[i:i + BATCH].to_csv(part, index=False, encoding="utf-8")
        n += import_events(get_engine(url), str(part), rejects=str(tmp / "r.csv"))["imported"]
    small = n / (time.perf_counter() - t)
    log(f"  importer, files of {BATCH} rows: {n:,} rows = {small:,.0f} rows/s")
    return {"importer_rows": out["imported"], "importer_rows_per_s": round(out["imported"] / s, 0),
            "importer_batch_rows_per_s": round(small, 0)}


def api_throughput(base: str, key: str, df: pd.DataFrame, log, clients: int = 1) -> dict:
    """POST ``df`` in batches of :data:`BATCH` from ``clients`` concurrent clients (one after another
    when 1: a single source's rate; several: departments posting at once, what the server sustains).
    Keys carry a ``_clients{N}`` suffix when ``clients`` > 1. The bodies are encoded before the clock
    starts, as the importer's CSV file is written before its clock starts: both clocks time the
    receiving side (the source's own serialisation, ≈ 0.9 ms per 500 events, happens on its machine)."""
    from concurrent.futures import ThreadPoolExecutor

    records = df.to_dict("records")
    batches = [_encode(records[i:i + BATCH]) for i in range(0, len(records), BATCH)]

    def one(batch: bytes) -> tuple[float, int]:
        t = time.perf_counter()
        out = _post(base, key, batch)
        return (time.perf_counter() - t) * 1000, out["imported"]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(one, batches))
    total = time.perf_counter() - t0
    lat = sorted(ms for ms, _ in done)
    imported = sum(n for _, n in done)
    sfx = f"_clients{clients}" if clients > 1 else ""
    res = {f"api_rows{sfx}": imported, f"api_events_per_s{sfx}": round(imported / total, 0), "api_batch": BATCH,
           f"api_request_p50_ms{sfx}": round(statistics.median(lat), 0),
           f"api_request_p95_ms{sfx}": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 0)}
    log(f"  API, {clients} client(s): {imported:,} events in {total:.1f} s = {imported / total:,.0f} events/s, "
        f"p50 {res[f'api_request_p50_ms{sfx}']} ms, p95 {res[f'api_request_p95_ms{sfx}']} ms per batch of {BATCH}")
    return res


WALL_READY = "() => document.querySelectorAll('[data-kpi] .kpi-value').length >= 12"
REPORTED = "() => document.querySelector('[data-kpi=\"reported\"] .kpi-value')?.textContent"


def wall_latency(url: str, base: str, key: str, code: str, log, trials: int = 5) -> dict:
    from playwright.sync_api import sync_playwright

    from data_access.accounts import create_session
    from data_access.db.engine import get_engine

    from .browser import ARGS, CHROMIUM

    token = create_session(get_engine(url), "display", "display", hours=2, note="benchmark")
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{base}/?kiosk=1&refresh={WALL_REFRESH_S}&period={datetime.now():%Y-%m}&token={token}")
        page.wait_for_function(WALL_READY, timeout=120_000, polling=100)
        page.wait_for_timeout(WALL_REFRESH_S * 1000 + 2000)  # steady state: the first refreshes warm the caches
        for i in range(trials):
            page.wait_for_timeout(1000 + 1700 * i)  # different phases of the refresh cycle
            before = page.evaluate(REPORTED)
            now = datetime.now().replace(second=0, microsecond=0)
            t = time.perf_counter()
            _post(base, key, [{"id": f"WALL-{uuid.uuid4().hex[:10]}", "grid_code": code, "category": "安全隐患",
                               "source": "网格员上报", "status": "已受理", "reported_at": f"{now:%Y-%m-%d %H:%M}",
                               "deadline": f"{now + timedelta(days=3):%Y-%m-%d %H:%M}"}])
            page.wait_for_function(f"() => ({REPORTED})() !== {json.dumps(before)}", timeout=180_000, polling=100)
            out.append((time.perf_counter() - t) * 1000)
            log(f"  POST → wall {out[-1]:.0f} ms (tile {before} → {page.evaluate(REPORTED)})")
        browser.close()
    return {"post_to_wall_ms": [round(x) for x in out], "post_to_wall_max_ms": round(max(out)),
            "wall_refresh_s": WALL_REFRESH_S, "live_ttl_s": int(os.environ.get("LIVE_TTL_S", "10"))}


def sync_mariadb(tmp: Path, codes: list[str], n: int, log, target: str = "sqlite") -> dict:
    from sqlalchemy import create_engine, text

    from data_access.db.engine import get_engine
    from data_access.sync import Source, sync

    admin = create_engine(MARIADB, isolation_level="AUTOCOMMIT")
    name = f"sanling_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    try:
        src = create_engine(MARIADB + name)
        df = events_frame(codes, n, "SYN").rename(columns={"id": "event_no", "grid_code": "wg"})
        df["updated_at"] = pd.Timestamp("2026-11-01") + pd.to_timedelta(np.arange(n), unit="s")
        t = time.perf_counter()
        df.to_sql("front_events", src, index=False, chunksize=5000, method="multi")
        log(f"  loaded {n:,} rows into MariaDB in {time.perf_counter() - t:.0f} s")
        url = _fresh_db(tmp, "sync.db", target)
        source = Source("bench", MARIADB + name, "SELECT * FROM front_events WHERE :cursor IS NULL OR "
                        "updated_at > :cursor ORDER BY updated_at", "updated_at", 60,
                        {"id": "event_no", "grid_code": "wg"}, None, 5000)
        t = time.perf_counter()
        out = sync(get_engine(url), [source], log=lambda m: None)[0]
        s = time.perf_counter() - t
        log(f"  sync: {out['imported']:,} rows in {s:.1f} s = {out['imported'] / s:,.0f} rows/s")
        src.dispose()
        return {"sync_rows": out["imported"], "sync_s": round(s, 1), "sync_rows_per_s": round(out["imported"] / s, 0)}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))


def run(url: str | None = None, log=print, rows: int = API_ROWS, sync_rows: int = SYNC_ROWS,
        skip: set[str] = frozenset(), target: str = "sqlite") -> dict:
    """The live-data figures; ``target`` is the engine the app and the baseline importer write to
    ('sqlite' files or scratch 'postgres' databases, dropped at the end)."""
    try:
        return _run(log, rows, sync_rows, skip, target)
    finally:
        if _PG_CREATED:
            _drop_scratch()


def _run(log, rows: int, sync_rows: int, skip: set[str], target: str) -> dict:
    from data_access.accounts.api_keys import create_key
    from data_access.db.engine import get_engine
    from data_access.filters import Scope
    from data_access.queries.units import home_unit

    tmp = Path(tempfile.mkdtemp())
    api_db = _fresh_db(tmp, "api.db", target)
    codes = _leaves(api_db)
    df = events_frame(codes, rows, "API")
    report: dict = {"target": target}
    report.update(importer_baseline(tmp, df, log, target))
    root = home_unit(get_engine(api_db), Scope.all()).code
    key = create_key(get_engine(api_db), "bench", root, "source")
    os.environ.setdefault("API_RATE_PER_MIN", "100000")  # the throughput run must not be throttled
    port = os.environ.get("BENCH_PORT")
    proc, base = start_server(api_db, int(port) if port else None)
    try:
        report.update(api_throughput(base, key, df, log))
        report["api_vs_importer"] = round(report["api_events_per_s"] / report["importer_rows_per_s"], 2)
        report["api_vs_importer_same_batch"] = round(report["api_events_per_s"] / report["importer_batch_rows_per_s"],
                                                     2)
        if CLIENTS > 1:  # the same number of new events (other ids), posted by several sources at once
            report.update(api_throughput(base, key, events_frame(codes, rows, "APC"), log, CLIENTS))
            report[f"api_vs_importer_clients{CLIENTS}"] = round(
                report[f"api_events_per_s_clients{CLIENTS}"] / report["importer_rows_per_s"], 2)
        if "wall" not in skip:
            try:
                report.update(wall_latency(api_db, base, key, codes[0], log))
            except Exception as exc:  # noqa: BLE001 - reported, the rest still runs
                report["wall_error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        proc.terminate()
        proc.wait(10)
    if "sync" not in skip:
        try:
            report.update(sync_mariadb(tmp, codes, sync_rows, log, target))
            report["sync_vs_importer"] = round(report["sync_rows_per_s"] / report["importer_rows_per_s"], 2)
        except Exception as exc:  # noqa: BLE001
            report["sync_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.live_ingest")
    ap.add_argument("--rows", type=int, default=API_ROWS)
    ap.add_argument("--sync-rows", type=int, default=SYNC_ROWS)
    ap.add_argument("--skip", default="", help="wall,sync")
    ap.add_argument("--target", choices=["sqlite", "postgres"], default="sqlite",
                    help="the app's database: SQLite files, or scratch databases on BENCH_PG_URL's server")
    args = ap.parse_args(argv)
    out = run(log=lambda m: print(m, file=sys.stderr, flush=True), rows=args.rows, sync_rows=args.sync_rows,
              skip=set(filter(None, args.skip.split(","))), target=args.target)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
