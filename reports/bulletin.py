"""The monthly 通报 of a whole district in one run: the district and every subdistrict, PDF and Excel.

:func:`generate` is shared by ``python -m reports bulletin`` and the scheduler
(:mod:`reports.schedule`). Each unit's figures are gathered once (:func:`reports.gather`) and
rendered twice; a month whose data was incomplete at ``as_of`` (see
:func:`data_access.queries.bulletins.month_completeness`) says so on the PDF cover and in the
workbook's 说明 sheet. Every bulletin is recorded in the archive (table ``bulletins``) and in the
audit log (action ``bulletin``). The run writes ``index.json`` and ``index.csv`` beside the files:
file names, units and headline figures.
"""

from __future__ import annotations

import csv
import json
import re
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from common.spreadsheet import csv_cell
from data_access.accounts import audit
from data_access.errors import InvalidParameterError
from data_access.filters import Period, Scope, parse_period
from data_access.queries import bulletins as archive
from data_access.queries import units as un

from . import gather, leader
from .excel import render_excel
from .pdf import render_pdf

INDEX_FIELDS = ["unit_code", "unit_name", "level", "period", "pdf", "xlsx", "reported", "closed", "closure_rate",
                "overdue_open", "warning", "incomplete"]


def month(token: str) -> Period:
    """The month ``YYYY-MM`` (InvalidParameterError for anything else)."""
    period = parse_period(token)
    if period.kind != "month":
        raise InvalidParameterError(f"通报按月生成，时段须为 YYYY-MM / a bulletin period is a month YYYY-MM: {token!r}")
    return period


def bulletin_units(engine: Engine) -> list:
    """The units a district bulletin run covers: each district, then its subdistricts (by code)."""
    out = []
    for root in un.root_units(engine, Scope.all()):
        out.append(root)
        out += [un.get_unit(engine, c) for c in un.children(engine, Scope.all(), root)["code"]]
    return out


def _stem(period: Period, unit) -> str:
    safe = re.sub(r"[^\w]+", "", unit.name)[:30]  # unit names are data: nothing that means a path
    return f"通报_{period.token}_{unit.code}_{safe}"


def _num(v):
    return None if v is None or v != v else (round(float(v), 4) if isinstance(v, float) else int(v))


def generate(engine: Engine, period_token: str, out_dir: str | Path, *, as_of: datetime,
             generated_by: str = "cli", progress=None) -> dict:
    """Write the bulletins of ``period_token`` into ``out_dir`` at ``as_of``; returns the index.

    ``{"period": token, "incomplete": reason or None, "units": [row per unit, keys INDEX_FIELDS],
    "files": [every file written, index files included]}``.
    """
    period = month(period_token)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    incomplete = archive.month_completeness(engine, period, as_of=as_of)
    who = replace(leader(), username=generated_by, author="“一月一通报”定时生成" if generated_by == "schedule"
                  else leader().author)
    rows, files = [], []
    for unit in bulletin_units(engine):
        snap = gather(engine, who, unit.code, period.token, as_of=as_of)
        snap.incomplete = incomplete
        stem = _stem(period, unit)
        pdf_path, xlsx_path = out / f"{stem}.pdf", out / f"{stem}.xlsx"
        pdf_path.write_bytes(render_pdf(snap))
        xlsx_path.write_bytes(render_excel(snap))
        files += [pdf_path, xlsx_path]
        bid = archive.record(engine, unit, period, generated_at=as_of, generated_by=generated_by,
                             pdf_path=str(pdf_path.resolve()), xlsx_path=str(xlsx_path.resolve()),
                             incomplete=incomplete)
        audit.record(engine, generated_by, "bulletin", {"id": bid, "unit": unit.code, "unit_name": unit.name,
                                                         "period": period.token, "incomplete": bool(incomplete)})
        k = snap.headline
        rows.append({"unit_code": unit.code, "unit_name": unit.name, "level": unit.level, "period": period.token,
                     "pdf": pdf_path.name, "xlsx": xlsx_path.name, "reported": _num(k["reported"]),
                     "closed": _num(k["closed"]), "closure_rate": _num(k["closure_rate"]),
                     "overdue_open": _num(k["overdue_open"]),
                     "warning": snap.own_warning.get("color_label", ""), "incomplete": incomplete or ""})
        if progress:
            progress(unit)
    index = {"period": period.token, "period_label": period.label, "generated_at": as_of.isoformat(timespec="seconds"),
             "generated_by": generated_by, "incomplete": incomplete, "units": rows}
    (out / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1), encoding="utf-8")
    with open(out / "index.csv", "w", newline="", encoding="utf-8-sig") as fh:  # BOM: Excel opens it as UTF-8
        w = csv.DictWriter(fh, fieldnames=INDEX_FIELDS)
        w.writeheader()
        w.writerows({k: csv_cell(v) for k, v in r.items()} for r in rows)
    files += [out / "index.json", out / "index.csv"]
    index["files"] = [str(f) for f in files]
    return index


def run(engine: Engine, period_token: str, out_dir: str | Path, *, as_of: datetime, generated_by: str) -> dict:
    """:func:`generate`, timed: ``{"files": N, "seconds": S, "period": ..., "incomplete": ...}``."""
    t0 = time.perf_counter()
    index = generate(engine, period_token, out_dir, as_of=as_of, generated_by=generated_by)
    return {"files": len(index["files"]), "seconds": round(time.perf_counter() - t0, 2), "period": index["period"],
            "units": len(index["units"]), "incomplete": index["incomplete"]}
