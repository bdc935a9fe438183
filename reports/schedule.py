"""``python -m reports bulletin`` (one month, now) and ``python -m reports schedule`` (every month).

The schedule: on the 1st of each month at ``BULLETIN_HOUR`` (local time) the previous month's
bulletins are written into ``BULLETIN_DIR/<YYYY-MM>``; between runs the same process evaluates alerts
every ``ALERT_INTERVAL_S`` (:mod:`data_access.alerts`). The runner is a plain loop in one process
(no scheduler library): it recomputes the next due time from the clock on every wake-up, so a
suspended machine or a clock change cannot make it skip or repeat a month, and on start it catches up a
month whose run was missed (process down on the 1st) — the archive says what was already done.
``--once`` does what is due and exits, for a systemd timer or cron instead of the loop.

All the timing logic takes ``as_of``: :func:`next_run`, :func:`period_for`, :func:`due`, :func:`plan`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine

from common import settings
from data_access.db.engine import get_engine
from data_access.errors import DataAccessError
from data_access.filters import month_period
from data_access.queries import bulletins as archive


def _first_at(d: datetime, hour: int) -> datetime:
    return datetime(d.year, d.month, 1, hour)


def next_run(as_of: datetime, hour: int) -> datetime:
    """The first scheduled run at or after ``as_of``: the 1st of a month at ``hour``:00."""
    if not 0 <= hour <= 23:
        raise ValueError(f"BULLETIN_HOUR must be 0–23, got {hour}")
    this = _first_at(as_of, hour)
    return this if as_of <= this else this + relativedelta(months=1)


def last_run(as_of: datetime, hour: int) -> datetime:
    """The latest scheduled run time at or before ``as_of``."""
    this = _first_at(as_of, hour)
    return this if this <= as_of else this - relativedelta(months=1)


def period_for(run_at: datetime) -> str:
    """The month a run at ``run_at`` reports on: the month before (token ``YYYY-MM``)."""
    return month_period((run_at.replace(day=1) - timedelta(days=1)).date()).token


def plan(as_of: datetime, hour: int, n: int = 3) -> list[tuple[datetime, str]]:
    """The next ``n`` runs after ``as_of``: (run time, month reported)."""
    out, at = [], next_run(as_of, hour)
    for _ in range(n):
        out.append((at, period_for(at)))
        at = next_run(at + timedelta(seconds=1), hour)
    return out


def due(engine: Engine, as_of: datetime, hour: int) -> str | None:
    """The month whose bulletins are due at ``as_of`` and not yet archived (a missed run is caught up), or None."""
    token = period_for(last_run(as_of, hour))
    done = archive.archive_periods(engine)
    return None if token in done else token


def describe(as_of: datetime, hour: int, out_dir: str, n: int = 3) -> list[str]:
    """The lines ``schedule --print`` shows."""
    hook = settings.get("ALERT_WEBHOOK_URL")
    lines = [f"通报定时生成：每月 1 日 {hour:02d}:00 生成上月通报（区及各街道办事处，PDF + Excel + 索引）"
             f"→ {out_dir}/<月份>/",
             f"schedule: bulletins on the 1st of each month at {hour:02d}:00 for the previous month"]
    for at, token in plan(as_of, hour, n):
        lines.append(f"  {at:%Y-%m-%d %H:%M}  →  {token} 通报")
    lines.append(f"告警研判：每 {settings.get('ALERT_INTERVAL_S'):g} 秒（红/橙预警、重点哨超期）；webhook："
                 + ("已配置" if hook else "未配置 (ALERT_WEBHOOK_URL)"))
    return lines


def _bulletin_cli(argv: list[str]) -> int:
    from .__main__ import cli_username
    from .bulletin import run

    p = argparse.ArgumentParser(prog="python -m reports bulletin",
                                description="一月一通报：生成区及各街道办事处某月的通报（PDF、Excel 与索引）")
    p.add_argument("--period", required=True, help="the month, YYYY-MM")
    p.add_argument("--db", default=None, help="database URL or SQLite path (default: DATABASE_URL or data/demo.db)")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    args = p.parse_args(argv)
    try:
        engine = get_engine(args.db)
        result = run(engine, args.period, args.out, as_of=datetime.now(), generated_by=cli_username(None))
    except (DataAccessError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"files": result["files"], "seconds": result["seconds"]}))
    return 0


def _tick(engine: Engine, hour: int, out_dir: str, now: datetime, log) -> None:
    """One wake-up: the month's bulletins when due, then the alerts."""
    from data_access import alerts

    from .bulletin import run

    token = due(engine, now, hour)
    if token:
        result = run(engine, token, Path(out_dir) / token, as_of=now, generated_by="schedule")
        log(json.dumps({"bulletin": token, **result}, ensure_ascii=False))
    raised = alerts.evaluate(engine, as_of=now)
    if raised:
        log(json.dumps({"alerts": len(raised)}))
    alerts.deliver(engine)


def _schedule_cli(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m reports schedule",
                                description="定时任务：每月 1 日生成上月通报，并定期研判告警")
    p.add_argument("--print", action="store_true", dest="show", help="show what runs when, and exit")
    p.add_argument("--once", action="store_true", help="do what is due now and exit (for a systemd timer / cron)")
    p.add_argument("--db", default=None, help="database URL or SQLite path (default: DATABASE_URL or data/demo.db)")
    p.add_argument("--out", default=None, help="bulletin folder (default: BULLETIN_DIR)")
    args = p.parse_args(argv)
    try:
        hour = settings.get("BULLETIN_HOUR")
        out_dir = args.out or settings.get("BULLETIN_DIR")
        if not 0 <= hour <= 23:
            raise ValueError(f"BULLETIN_HOUR must be 0–23, got {hour}")
        interval = settings.get("ALERT_INTERVAL_S")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.show:
        print("\n".join(describe(datetime.now(), hour, out_dir)))
        return 0

    def log(line: str) -> None:
        print(f"{datetime.now():%Y-%m-%d %H:%M:%S} {line}", flush=True)

    try:
        engine = get_engine(args.db)
        while True:
            try:
                _tick(engine, hour, out_dir, datetime.now(), log)
            except (DataAccessError, OSError) as exc:  # the database or disk may come back: keep the schedule
                log(f"error: {exc}")
                if args.once:
                    return 1
            if args.once:
                return 0
            now = datetime.now()
            wait = min(interval, max(1.0, (next_run(now, hour) - now).total_seconds()))
            time.sleep(wait)
    except KeyboardInterrupt:
        return 0


def main(argv: list[str]) -> int:
    """Dispatch ``bulletin`` / ``schedule`` (``argv[0]``)."""
    return _bulletin_cli(argv[1:]) if argv[0] == "bulletin" else _schedule_cli(argv[1:])
