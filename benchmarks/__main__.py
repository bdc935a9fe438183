"""``python -m benchmarks [--scale district|city|province] [--db URL] [--out FILE.json] [--skip part,...]``

Builds (or reuses) the demo database at the given scale, runs each measurement with its
baseline in the same run, prints progress, and prints the report as JSON on the last line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from datetime import datetime

PARTS = ["queries", "page_server", "browser", "walls", "map_payload", "pdf", "import_events", "live_ingest"]
SUMMARY_KEYS = ["scale", "overview_browser_cold_ms", "overview_browser_warm_ms", "drilldown_step_ms",
                "page_server_warm_ms_max", "query_overhead_ratio_max", "kpi_query_ms_max", "payload_bytes_max_step",
                "pdf_ms", "import_rows_per_s", "import_peak_rss_mb", "sessions1_p95_ms", "sessions10_p95_ms",
                "sessions30_p95_ms", "sessions100_p95_ms", "wall_refresh_server_cpu_ms_1",
                "wall_refresh_server_cpu_ms_30", "wall_refresh_cpu_ratio_30", "server_rss_mb_30"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--scale", choices=["district", "city", "province", "tiny"], default="district")
    ap.add_argument("--db", default=None, help="database to measure (the demo is built there when missing or "
                    "stale); default data/bench_<scale>.db. --scale province needs a PostgreSQL URL")
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: " + ",".join(PARTS))
    ap.add_argument("--only", default="", help="comma-separated parts to run")
    args = ap.parse_args(argv)
    if args.scale == "province" and not (args.db or "").startswith("postgresql"):
        ap.error("--scale province needs --db postgresql+psycopg://… (a province is loaded with COPY)")
    from .common import bench_db

    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    t0 = time.perf_counter()
    url = bench_db(args.scale, log, args.db)
    report: dict = {"scale": args.scale, "machine": f"{platform.machine()} {__import__('os').cpu_count()} cores",
                    "started": datetime.now().isoformat(timespec="seconds")}
    skip = set(filter(None, args.skip.split(",")))
    only = set(filter(None, args.only.split(",")))
    for part in PARTS:
        if part in skip or (only and part not in only):
            continue
        try:
            mod = importlib.import_module(f"benchmarks.{part}")
        except ImportError:
            continue
        if not hasattr(mod, "run"):
            continue
        log(f"[{part}]")
        t = time.perf_counter()
        try:
            report.update(mod.run(url, log=log))
        except Exception as exc:  # a failing part is reported, the rest still run
            report[f"{part}_error"] = f"{type(exc).__name__}: {exc}"[:300]
            log(f"  failed: {report[f'{part}_error']}")
        log(f"  ({time.perf_counter() - t:.0f} s)")
    report["total_s"] = round(time.perf_counter() - t0, 0)
    summary = {k: report.get(k) for k in SUMMARY_KEYS} | {k: v for k, v in report.items()
                                                           if not isinstance(v, (list, dict))}
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=1)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
