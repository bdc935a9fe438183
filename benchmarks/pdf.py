"""Time to build a district meeting snapshot (PDF, and Excel for comparison).

* ``pdf_ms``: warm median, in one process, of gathering the figures and laying out the PDF
  (goal: under 3 s); split into ``pdf_query_ms`` (all queries) and ``pdf_render_ms``;
* ``pdf_cold_ms``: ``python -m reports pdf`` in a fresh process (imports, font load, audit);
* ``pdf_baseline_ms``: a one-page fpdf2 document with the same embedded CJK font and as many
  distinct characters, the floor any CJK PDF pays here; ``pdf_vs_baseline`` is the ratio.

``python -m benchmarks.pdf [--db URL] [--runs N]`` prints the JSON on its last line; the
benchmark runner calls :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import BENCH_AS_OF, PERIOD, ROOT, bench_db

GOAL_MS = 3000


def _baseline(text: str) -> None:
    from fpdf import FPDF

    from reports.charts import SC_COLLECTION_INDEX, font_path

    pdf = FPDF(orientation="L", format="A4")
    pdf.add_font("sc", fname=str(font_path()), collection_font_number=SC_COLLECTION_INDEX)
    for font in pdf.fonts.values():
        font.ttfont.recalcBBoxes = False
    pdf.add_page()
    pdf.set_font("sc", size=9)
    pdf.multi_cell(0, 5, text)
    pdf.output()


def run(url: str, log=print, runs: int = 5) -> dict:
    import reports
    from data_access.db.engine import get_engine
    from reports.excel import render_excel
    from reports.pdf import render_pdf

    engine = get_engine(url)
    who = reports.leader()
    q_ms, r_ms, total_ms, x_ms = [], [], [], []
    data = b""
    snap = None
    for i in range(runs + 1):  # the first run warms caches and imports; not counted
        t0 = time.perf_counter()
        snap = reports.gather(engine, who, None, PERIOD, as_of=BENCH_AS_OF)
        t1 = time.perf_counter()
        data = render_pdf(snap)
        t2 = time.perf_counter()
        render_excel(snap)
        t3 = time.perf_counter()
        if i:
            q_ms.append((t1 - t0) * 1000)
            r_ms.append((t2 - t1) * 1000)
            total_ms.append((t2 - t0) * 1000)
            x_ms.append((t3 - t2 + t1 - t0) * 1000)
    chars = "".join(sorted({ch for t in snap.tables.values() for v in t.frame().to_numpy().ravel()
                            for ch in str(v)}))
    base = []
    for i in range(runs + 1):
        t = time.perf_counter()
        _baseline(chars)
        if i:
            base.append((time.perf_counter() - t) * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cold.pdf"
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "reports", "pdf", "--db", url, "--period", PERIOD, "--out",
                               str(out)], cwd=ROOT, capture_output=True, text=True, check=False)
        cold = (time.perf_counter() - t) * 1000
        if proc.returncode:
            raise RuntimeError(proc.stderr[-500:])
    pages = data.count(b"/Type /Page\n") or data.count(b"/Type /Page ")
    pdf_ms = statistics.median(total_ms)
    result = {
        "pdf_ms": round(pdf_ms), "pdf_query_ms": round(statistics.median(q_ms)),
        "pdf_render_ms": round(statistics.median(r_ms)), "pdf_cold_ms": round(cold),
        "excel_ms": round(statistics.median(x_ms)), "pdf_baseline_ms": round(statistics.median(base)),
        "pdf_vs_baseline": round(pdf_ms / statistics.median(base), 1), "pdf_bytes": len(data),
        "pdf_pages": pages, "pdf_distinct_chars": len(chars), "pdf_goal_ms": GOAL_MS,
        "pdf_meets_goal": pdf_ms < GOAL_MS, "pdf_unit": snap.unit.name, "pdf_period": PERIOD, "pdf_runs": runs,
    }
    log(f"  pdf warm {result['pdf_ms']} ms (queries {result['pdf_query_ms']}, render {result['pdf_render_ms']}), "
        f"cold {result['pdf_cold_ms']} ms, baseline {result['pdf_baseline_ms']} ms")
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.pdf")
    ap.add_argument("--db", default=None, help="database URL (default: the district benchmark database)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    url = args.db or bench_db("district", log)
    print(json.dumps(run(url, log, args.runs), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
