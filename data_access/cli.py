"""Command line: ``python -m data_access {init,demo,check,export-grids,...} --db URL``.

Every sub-command takes ``--db`` (default: ``DATABASE_URL``, then ``.streamlit/secrets.toml``, then
the embedded ``data/demo.db`` — as the app resolves it). Commands that report print a JSON object as
their last line; an error ends as one line on stderr (:mod:`data_access.cli_errors`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime

from common import settings
from data_access.cli_errors import run
from data_access.db.connection import begin, connect
from data_access.db.engine import default_url


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=None, help="database URL or SQLite path (default: DATABASE_URL, then "
                   ".streamlit/secrets.toml, then data/demo.db)")


def cmd_init(args) -> int:
    from data_access.db.migrate import upgrade

    upgrade(args.db)
    print(json.dumps({"ok": True, "db": _safe(args.db)}))
    return 0


def cmd_demo(args) -> int:
    from data_access.demo import build_demo

    until = date.fromisoformat(args.until) if args.until else None
    counts = build_demo(args.db, scale=args.scale, seed=args.seed, until=until, demo_password=args.demo_password,
                        log=lambda m: print(m, file=sys.stderr), now=datetime.now())
    print(json.dumps(counts, ensure_ascii=False))
    return 0


def cmd_check(args) -> int:
    from data_access.db.check import check
    from data_access.db.engine import get_engine

    result = check(get_engine(args.db), as_of=datetime.now())
    if result["calendar_years_missing"]:
        years = "、".join(str(y) for y in result["calendar_years_missing"])
        print(f"警告 / warning: {years} 年的法定节假日安排未录入 config/holidays.toml，chinese-calendar 也不知道；"
              f"这些年份的工作日按周一至周五计算 / public holidays unknown for {years}: working days there are "
              f"counted Monday–Friday until the State Council schedule is added to config/holidays.toml",
              file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    bad = (result["orphans"] + result["invalid_geometries"] + result["bad_parents"] + result["bad_ancestors"]
           + result["not_nested"])
    return 1 if bad or not result["units"] else 0


def cmd_export_grids(args) -> int:
    from data_access.db.engine import get_engine
    from data_access.filters import Scope
    from data_access.queries.units import geometries

    gdf = geometries(get_engine(args.db), Scope.all(), level=args.level)
    gdf = gdf[["code", "name", "level", "parent_code", "kind", "population", "geometry"]]  # what import-grids reads
    gdf.to_file(args.out, driver="GeoJSON")
    print(json.dumps({"features": len(gdf), "out": args.out}, ensure_ascii=False))
    return 0


def cmd_simulate(args) -> int:
    from data_access.db.engine import get_engine
    from data_access.demo.simulate import run

    try:
        if args.api and not args.key:
            print("错误 / error: --api needs --key (a source API key)", file=sys.stderr)
            return 2
        run(get_engine(args.db), args.rate, args.minutes, args.interval, args.seed,
            api=args.api, key=args.key)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_sync(args) -> int:
    """sync --config FILE [--once] [--source NAME]: last line JSON {"sources": [...]}; exit 1 when a
    source failed (--once) or is unknown."""
    from data_access.db.engine import get_engine
    from data_access.sync import load_config, sync

    sources = load_config(args.config)
    if args.source:
        sources = [s for s in sources if s.name in args.source]
        if not sources:
            print(f"错误 / error: no source named {', '.join(args.source)} in {args.config}", file=sys.stderr)
            return 2
    out: list[dict] = []
    try:
        out = sync(get_engine(args.db), sources, once=args.once, log=lambda m: print(m, file=sys.stderr))
    except KeyboardInterrupt:
        pass
    print(json.dumps({"sources": out}, ensure_ascii=False, default=str))
    return 1 if any("error" in s for s in out) else 0


def cmd_users(args) -> int:
    """users add|list|set-password|disable|enable|display-token|revoke-tokens."""
    import getpass

    from sqlalchemy import insert, select, update

    from data_access import accounts
    from data_access.accounts.audit import record
    from data_access.db.engine import get_engine
    from data_access.db.schema import users

    eng = get_engine(args.db)
    actor = args.actor

    def password() -> str:
        if args.password_stdin:
            return sys.stdin.readline().rstrip("\n")
        pw = getpass.getpass("新密码 / new password: ")
        if pw != getpass.getpass("再次输入 / repeat: "):
            raise SystemExit("两次输入不一致 / passwords differ")
        return pw

    if args.action in ("api-key", "revoke-api-key"):
        return _api_key(eng, args, actor)
    if args.action == "list":
        with connect(eng) as conn:
            rows = conn.execute(select(users.c.username, users.c.role, users.c.unit_code, users.c.display_name,
                                       users.c.disabled).order_by(users.c.username)).all()
        for r in rows:
            print(f"{r.username}\t{r.role}\t{r.unit_code or '-'}\t{r.display_name or ''}\t"
                  f"{'停用' if r.disabled else '启用'}")
        print(json.dumps({"users": len(rows)}))
        return 0
    if not args.username:
        print("错误 / error: username required", file=sys.stderr)
        return 2
    args.role = args.role or "staff"
    if args.action == "add":
        if args.role not in ("leader", "staff", "display", "admin"):
            print("错误 / error: --role must be leader|staff|display|admin", file=sys.stderr)
            return 2
        if args.role == "staff" and not args.unit:
            print("错误 / error: a staff account needs --unit CODE", file=sys.stderr)
            return 2
        if accounts.get_user(eng, args.username) is not None:
            print(f"错误 / error: 用户已存在 / user {args.username!r} already exists", file=sys.stderr)
            return 2
        if args.unit:
            accounts.scope_for(eng, args.role, args.unit)  # validates the unit code
        row = accounts.user_row(args.username, password(), args.role, args.unit, args.display_name)
        with begin(eng) as conn:
            conn.execute(insert(users), row)
            record(conn, actor, "user_change", {"add": args.username, "role": args.role, "unit": args.unit})
    elif args.action in ("set-password", "disable", "enable"):
        if accounts.get_user(eng, args.username) is None:
            print(f"错误 / error: no user {args.username!r}", file=sys.stderr)
            return 2
        values = {"password_hash": accounts.hash_password(password()), "failed_logins": 0, "locked_until": None} \
            if args.action == "set-password" else {"disabled": args.action == "disable"}
        with begin(eng) as conn:
            conn.execute(update(users).where(users.c.username == args.username).values(**values))
            record(conn, actor, "user_change", {args.action: args.username})
        if args.action != "enable":
            accounts.revoke_user_sessions(eng, args.username)
    elif args.action == "display-token":
        user = accounts.get_user(eng, args.username)
        if user is None or user["role"] != "display":
            print("错误 / error: display tokens are for display accounts", file=sys.stderr)
            return 2
        token = accounts.create_session(eng, args.username, "display", hours=args.days * 24, note=args.note)
        record(eng, actor, "token", {"display_token_for": args.username, "days": args.days})
        print(f"/?kiosk=1&token={token}")
    elif args.action == "revoke-tokens":
        n = accounts.revoke_user_sessions(eng, args.username)
        record(eng, actor, "token", {"revoked_all_for": args.username, "count": n})
        print(json.dumps({"revoked": n}))
        return 0
    print(json.dumps({"ok": True, "action": args.action, "username": args.username}, ensure_ascii=False))
    return 0


def _api_key(eng, args, actor: str) -> int:
    """users api-key NAME --unit CODE [--role source|reader] [--note T] / users revoke-api-key NAME."""
    from data_access.accounts import api_keys

    if not args.username:
        print("错误 / error: key name required", file=sys.stderr)
        return 2
    if args.action == "revoke-api-key":
        ok = api_keys.revoke_key(eng, args.username, actor)
        print(json.dumps({"revoked": ok, "name": args.username}, ensure_ascii=False))
        return 0 if ok else 1
    if not args.unit:
        print("错误 / error: an API key needs --unit CODE", file=sys.stderr)
        return 2
    role = args.role or "source"
    if role not in api_keys.API_ROLES:
        print("错误 / error: an API key's --role is source or reader", file=sys.stderr)
        return 2
    key = api_keys.create_key(eng, args.username, args.unit, role, args.note, actor)
    print(json.dumps({"name": args.username, "role": role, "unit": args.unit, "key": key}, ensure_ascii=False))
    return 0


def cmd_import(args) -> int:
    """import-grids / import-events: last output line is the JSON summary; exit 1 if unreadable."""
    from data_access.db.engine import get_engine
    from data_access.importers import import_events, import_grids
    from data_access.importers.common import ImportFileError

    eng = get_engine(args.db)
    nice = settings.get("IMPORT_NICE")
    if nice and hasattr(os, "nice"):  # the page's background import yields to the server
        os.nice(nice)
    try:
        if args.command == "import-grids":
            out = import_grids(eng, args.file, crs=args.crs, rejects=args.rejects, actor=args.actor,
                               progress=_progress_writer(args.progress))
        else:
            out = import_events(eng, args.file, encoding=args.encoding, rejects=args.rejects, actor=args.actor)
    except ImportFileError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        print(json.dumps({"read": 0, "imported": 0, "rejected": 0, "error": str(exc)}, ensure_ascii=False))
        return 1
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _progress_writer(path: str | None):
    """A progress callback that keeps ``path`` holding the latest {"done", "total", "stage"} (JSON,
    replaced atomically so a reader never sees half a file), or None without a path."""
    if not path:
        return None

    def write(done: int, total: int, stage: str) -> None:
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"done": done, "total": total, "stage": stage}, fh, ensure_ascii=False)
        os.replace(tmp, path)

    return write


def _safe(url: str | None) -> str:
    """The URL without a password, for messages."""
    from sqlalchemy.engine import make_url

    from data_access.db.engine import normalize_url

    return make_url(normalize_url(url)).render_as_string(hide_password=True)


def cmd_alerts(args) -> int:
    from data_access import alerts
    from data_access.db.engine import get_engine
    from data_access.filters import Scope

    try:
        since = datetime.fromisoformat(args.since) if args.since else None
    except ValueError:
        print(f"错误 / error: --since must be YYYY-MM-DD or YYYY-MM-DDTHH:MM, not {args.since!r}", file=sys.stderr)
        return 2
    engine = get_engine(args.db)
    raised = len(alerts.evaluate(engine, as_of=datetime.now())) if args.evaluate else 0
    requeued = alerts.requeue(engine) if args.requeue else 0
    df = alerts.dead_letters(engine) if args.dead else alerts.recent(engine, Scope.all(), since=since,
                                                                      open_only=args.open, limit=10_000)
    for r in df.itertuples():
        state = "已解除" if r.cleared_at is not None and r.cleared_at == r.cleared_at else "未解除"
        print(f"{r.raised_at:%Y-%m-%d %H:%M}\t{r.level}\t{state}\t{r.unit_code}\t{r.message}")
    print(json.dumps({"alerts": len(df), "raised": raised, "requeued": requeued}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data_access", description="三零创建指挥中心 data tools")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create or migrate the schema (Alembic), empty")
    _db(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="build the deterministic demo database")
    _db(p)
    p.add_argument("--scale", choices=["district", "city", "province", "tiny"], default="district",
                   help="province: 100 districts, ≈ 12 M events, built district by district (use PostgreSQL)")
    p.add_argument("--seed", type=int, default=20241)
    p.add_argument("--until", help="last day of the year of data, YYYY-MM-DD (default today)")
    p.add_argument("--demo-password", default=None, help="password for all demo accounts (default <username>123)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("check", help="integrity check; last line JSON, exit 1 on problems")
    _db(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("export-grids", help="write units as WGS84 GeoJSON")
    p.add_argument("out")
    _db(p)
    p.add_argument("--level", type=int, choices=range(5), default=None)
    p.set_defaults(func=cmd_export_grids)
    p = sub.add_parser("users", help="accounts: add|list|set-password|disable|enable|display-token|revoke-tokens"
                                     "|api-key|revoke-api-key")
    _db(p)
    p.add_argument("action", choices=["add", "list", "set-password", "disable", "enable", "display-token",
                                      "revoke-tokens", "api-key", "revoke-api-key"])
    p.add_argument("username", nargs="?", help="the account, or the API key's name")
    p.add_argument("--role", choices=["leader", "staff", "display", "admin", "source", "reader"], default=None,
                   help="account: leader|staff|display|admin (default staff); API key: source|reader (default source)")
    p.add_argument("--unit", default=None, help="scope root unit code (staff: required; display: optional)")
    p.add_argument("--display-name", default=None)
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.add_argument("--days", type=int, default=365, help="display token lifetime")
    p.add_argument("--note", default=None, help="what the display token is for (e.g. 指挥中心大屏1)")
    p.add_argument("--actor", default="cli", help="who is making the change (audit)")
    p.set_defaults(func=cmd_users)

    for name, helptext in (("import-grids", "import grid boundaries (GeoJSON, zipped Shapefile, GeoPackage, KML)"),
                           ("import-events", "import events (CSV UTF-8/GBK, XLSX)")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("file")
        _db(p)
        p.add_argument("--rejects", default=None, help="where to write rejected rows (CSV)")
        p.add_argument("--actor", default="cli", help="who imports (audit)")
        if name == "import-grids":
            p.add_argument("--crs", default=None, help="wgs84 | cgcs2000 | gcj02 | EPSG:N (default: from the file)")
            p.add_argument("--progress", default=None, help="keep this file holding the latest progress (JSON)")
        else:
            p.add_argument("--encoding", default="auto", help="auto | utf-8 | gbk")
        p.set_defaults(func=cmd_import)

    p = sub.add_parser("sync", help="pull events from front-end databases (TOML config, see config/sync.example.toml)")
    _db(p)
    p.add_argument("--config", required=True, help="the sources (TOML, [[source]] tables)")
    p.add_argument("--once", action="store_true", help="read every source up to date once, then stop")
    p.add_argument("--source", action="append", default=None, help="only this source (repeatable)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("alerts", help="list alerts (red/orange units, overdue 重点哨); --evaluate first")
    _db(p)
    p.add_argument("--since", default=None, help="raised at or after this date/time (YYYY-MM-DD[THH:MM])")
    p.add_argument("--open", action="store_true", help="only alerts not cleared")
    p.add_argument("--evaluate", action="store_true", help="evaluate alerts now before listing")
    p.add_argument("--dead", action="store_true", help="list the webhook dead letters instead")
    p.add_argument("--requeue", action="store_true", help="send the dead letters again on the next delivery")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("simulate", help="insert and close events live (demo of a moving wall)")
    _db(p)
    p.add_argument("--rate", type=float, default=30.0, help="new events per minute")
    p.add_argument("--minutes", type=float, default=None, help="stop after this many minutes (default: never)")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between ticks")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--api", default=None, help="post to this running app (e.g. http://127.0.0.1:8501); "
                                               "default: the API's ingest function in this process")
    p.add_argument("--key", default=None, help="a source API key for --api")
    p.set_defaults(func=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "db", None) is None:
        args.db = default_url()
    return run(lambda: args.func(args))
