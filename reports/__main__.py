"""``python -m reports {pdf,excel} --db URL --unit CODE --period YYYY-MM --out FILE [--user NAME]``.

``python -m reports bulletin …`` and ``python -m reports schedule …``: see :mod:`reports.schedule`.

Prints one JSON line: the file written, its size, unit, period and seconds taken. Exit 2 on a
bad argument (unknown unit, unit outside the user's scope, bad period, unknown user, unknown
sections); a refused export is audited too. The audit names who ran the command — the operating
system user, e.g. ``root@cli as staff`` for ``--user staff`` — since nobody logged in as ``staff``.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from data_access.cli_errors import run
from data_access.db.engine import get_engine
from data_access.errors import DataAccessError

from . import SECTIONS, Exporter, check_sections, export, exporter_for, leader, log_refused


def cli_username(as_user: str | None) -> str:
    """The audit name of a command-line export: ``<os user>@cli``, plus ``as <account>`` with --user."""
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in the environment or passwd: use the uid
        who = f"uid{os.getuid()}"
    return f"{who}@cli" + (f" as {as_user}" if as_user else "")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("bulletin", "schedule"):
        from .schedule import main as bulletin_main

        return bulletin_main(argv)
    p = _parser()
    args = p.parse_args(argv)
    return run(lambda: _export(args))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m reports", description="会议快照：导出单位某时段的 PDF / Excel 报告")
    p.add_argument("format", choices=("pdf", "excel"))
    p.add_argument("--db", default=None, help="database URL or SQLite path (default: DATABASE_URL, then "
                   ".streamlit/secrets.toml, then data/demo.db)")
    p.add_argument("--unit", default=None, help="unit code (default: the user's home unit)")
    p.add_argument("--period", required=True, help="YYYY-MM, YYYY-Qn, YYYY or YYYY-MM-DD..YYYY-MM-DD")
    p.add_argument("--out", required=True, help="output file (.pdf / .xlsx)")
    p.add_argument("--user", default=None, help="export as this account (its scope); default: a leader scope")
    p.add_argument("--sections", default=None,
                   help=f"comma-separated subset of: {','.join(SECTIONS)} (default: all)")
    return p


def _export(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    engine = get_engine(args.db)
    sections = tuple(s.strip() for s in args.sections.split(",") if s.strip()) if args.sections is not None else None
    name = cli_username(args.user)
    try:
        check_sections(sections)
        who = dataclasses.replace(exporter_for(engine, args.user) if args.user else leader(), username=name)
    except ValueError as exc:
        log_refused(engine, Exporter(name, leader().scope, ""), args.format, args.unit, args.period, sections, exc)
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    try:
        data, snap = export(engine, args.format, who, args.unit, args.period, sections,
                            as_of=datetime.now())
    except (DataAccessError, ValueError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(json.dumps({"out": str(out), "bytes": len(data), "unit": snap.unit.code, "unit_name": snap.unit.name,
                      "period": snap.period.token, "user": who.username,
                      "seconds": round(time.perf_counter() - t0, 2)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
