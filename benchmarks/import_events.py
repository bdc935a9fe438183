"""Import throughput: a generated CSV of 1 M events (GBK, Chinese labels) into a fresh copy of the tiny
demo, in a child process so its peak memory is its own. Baseline in the same run: pandas only reading
and parsing the same file (the floor for any importer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .common import BENCH_UNTIL, ROOT

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "1000000"))


def make_csv(path: Path, codes: list[str], n: int) -> None:
    rng = np.random.default_rng(1)
    start = np.datetime64("2026-01-01T00:00")
    rep = start + rng.integers(0, 300 * 24 * 60, n).astype("timedelta64[m]")
    df = pd.DataFrame({
        "事件编号": [f"IMP{i:08d}" for i in range(n)], "网格编码": rng.choice(codes, n),
        "类别": rng.choice(["矛盾纠纷", "安全隐患", "环境整治"], n), "来源": rng.choice(["网格员上报", "群众APP"], n),
        "吹哨级别": "常规哨", "上报时间": pd.to_datetime(rep).strftime("%Y-%m-%d %H:%M"),
        "办结时限": pd.to_datetime(rep + np.timedelta64(5, "D")).strftime("%Y/%m/%d %H:%M"),
        "办结时间": pd.to_datetime(rep + np.timedelta64(2, "D")).strftime("%Y-%m-%d %H:%M"), "状态": "已办结"})
    df.to_csv(path, index=False, encoding="gbk")


CHILD = """
import json, sys, time
from data_access.db.engine import get_engine
from data_access.importers import import_events
t = time.perf_counter()
out = import_events(get_engine(sys.argv[1]), sys.argv[2], rejects=sys.argv[3])
out["seconds"] = time.perf_counter() - t
# VmHWM, not getrusage: ru_maxrss survives exec, so it would report the parent's peak (the 1 M-row
# DataFrame that wrote the CSV) when that was higher
out["peak_rss_mb"] = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps(out))
"""


def run(url: str, log=print) -> dict:
    from data_access.db.engine import get_engine
    from data_access.demo import build_demo
    from data_access.filters import Scope
    from data_access.queries.units import home_unit, units_at_level

    tmp = Path(tempfile.mkdtemp())
    db = f"sqlite:///{tmp / 'imp.db'}"
    build_demo(db, scale="tiny", seed=3, until=BENCH_UNTIL, log=lambda m: None)
    eng = get_engine(db)
    codes = units_at_level(eng, Scope.all(), home_unit(eng, Scope.all()), 4)["code"].tolist()
    csv = tmp / "events.csv"
    make_csv(csv, codes, ROWS)
    t = time.perf_counter()
    for _ in pd.read_csv(csv, encoding="gb18030", dtype=str, chunksize=5000):
        pass
    floor = time.perf_counter() - t
    proc = subprocess.run([sys.executable, "-c", CHILD, db, str(csv), str(tmp / "rej.csv")], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode:
        raise RuntimeError(proc.stderr[-500:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    res = {"import_rows": ROWS, "import_rows_per_s": round(out["imported"] / out["seconds"]),
           "import_seconds": round(out["seconds"], 1), "import_peak_rss_mb": round(out["peak_rss_mb"]),
           "import_csv_parse_floor_s": round(floor, 1), "import_vs_parse_ratio": round(out["seconds"] / floor, 1)}
    log(f"  {ROWS:,} rows: {res['import_seconds']} s ({res['import_rows_per_s']:,} rows/s), peak RSS "
        f"{res['import_peak_rss_mb']} MB; reading the CSV alone {res['import_csv_parse_floor_s']} s")
    del url
    return res
