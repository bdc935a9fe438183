"""Shared benchmark helpers: the database to measure, timing, process memory."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
BENCH_UNTIL = date(2026, 10, 31)  # fixed so runs are comparable
BENCH_AS_OF = datetime(2026, 10, 31, 12, 0)  # "now" for the queries that depend on it, fixed for the same reason
PERIOD = "2026-10"


def bench_db(scale: str, log=print, url: str | None = None) -> str:
    """URL of the demo database at ``scale``: ``url`` when given (a PostgreSQL database for the province),
    else data/bench_<scale>.db; built there once and reused while its scale, end date and schema match."""
    from data_access.db.engine import get_engine

    path = None if url else ROOT / "data" / f"bench_{scale}.db"
    url = url or f"sqlite:///{path}"
    if (path is None or path.exists()) and _is_current(url, scale):
        return url
    get_engine.cache_clear()
    if path is not None:
        for p in path.parent.glob(path.name + "*"):
            p.unlink()
    from data_access.demo import build_demo

    t = time.perf_counter()
    build_demo(url, scale=scale, until=BENCH_UNTIL, log=lambda m: None)
    log(f"built {scale} database in {time.perf_counter() - t:.0f} s")
    return url


def _is_current(url: str, scale: str) -> bool:
    """Whether ``url`` holds the benchmark demo at ``scale`` built at the newest schema."""
    from data_access.db.engine import get_engine
    from data_access.db.schema import meta

    try:
        with get_engine(url).connect() as conn:
            m = dict(conn.execute(select(meta.c.key, meta.c.value)).all())
            rev = conn.exec_driver_sql("select version_num from alembic_version").scalar()
    except Exception:  # noqa: BLE001 - empty, stale or foreign database: rebuild
        return False
    return m.get("scale") == scale and m.get("until") == BENCH_UNTIL.isoformat() and rev == _head()


def _head() -> str:
    """The newest migration revision (a database built at an older one is rebuilt)."""
    from alembic.script import ScriptDirectory

    from data_access.db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def median_ms(fn: Callable[[], object], runs: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn`` in milliseconds after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    xs = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t) * 1000)
    return statistics.median(xs)


def percentile(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (MB), from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024
