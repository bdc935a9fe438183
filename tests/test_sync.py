"""Tests for ``sync`` against real front-end databases: MariaDB (127.0.0.1:3306) and PostgreSQL as
sources, a tiny demo as the target. The cursor moves only with committed batches, changed rows update
events, a source that goes down mid-run is retried and loses nothing, a dead source is recorded while
the others go on, and a restart neither loses nor duplicates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from data_access.db.engine import get_engine
from data_access.db.schema import event_rollup, events, ingest_feeds, units
from data_access.demo import build_demo
from data_access.sync import Source, load_config, stored_cursor, sync

from .conftest import ROOT, TEST_UNTIL

# the connection MariaDB kills mid-stream leaves a pymysql result whose finaliser complains at collection
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
MARIADB_ADMIN = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")
T0 = datetime(2027, 2, 10, 6, 0)
MAPPING = {"id": "event_no", "grid_code": "wg_code", "category": "lb", "source": "ly", "status": "zt",
           "reported_at": "sbsj", "deadline": "clsx", "closed_at": "bjsj", "dispatched_at": "pdsj", "title": "bt"}
DDL = """CREATE TABLE front_events (event_no VARCHAR(40) PRIMARY KEY, wg_code VARCHAR(40), lb VARCHAR(40),
         ly VARCHAR(40), zt VARCHAR(20), sbsj TIMESTAMP NULL, clsx TIMESTAMP NULL, bjsj TIMESTAMP NULL,
         pdsj TIMESTAMP NULL, bt VARCHAR(200), updated_at TIMESTAMP NULL)"""
QUERY = ("SELECT * FROM front_events WHERE {c} IS NULL OR updated_at > {c} "
         "ORDER BY updated_at, event_no")


def _query(url: str) -> str:
    """PostgreSQL needs the parameter's type spelled out (NULL on the first run has none)."""
    return QUERY.format(c="CAST(:cursor AS TIMESTAMP)" if url.startswith("postgresql") else ":cursor")


def _mariadb_engine(db: str = ""):
    return create_engine(MARIADB_ADMIN + db, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="module")
def mariadb():
    """A scratch MariaDB database (dropped afterwards); yields its URL."""
    try:
        with _mariadb_engine().connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("REQUIRE_MARIADB") == "1":
            pytest.fail(f"REQUIRE_MARIADB=1 but MariaDB is not reachable: {type(exc).__name__}")
        pytest.skip(f"MariaDB not reachable at {MARIADB_ADMIN}: {type(exc).__name__}")
    name = f"sanling_front_{uuid.uuid4().hex[:10]}"
    with _mariadb_engine().connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    yield MARIADB_ADMIN + name
    with _mariadb_engine().connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))


@pytest.fixture(params=["mariadb", pytest.param("postgres", marks=pytest.mark.postgres)])
def front(request):
    """An empty front-end table on each source engine; yields its SQLAlchemy URL."""
    if request.param == "mariadb":
        url = request.getfixturevalue("mariadb")
    else:
        url = request.getfixturevalue("pg_scratch")().replace("postgresql://", "postgresql+psycopg://", 1)
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("DROP TABLE IF EXISTS front_events"))
        conn.execute(text(DDL))
    eng.dispose()
    return url


@pytest.fixture
def target(tmp_path):
    url = f"sqlite:///{tmp_path / 'target.db'}"
    build_demo(url, scale="tiny", seed=5, until=TEST_UNTIL, log=lambda m: None)
    return url


def _leaves(url) -> list[str]:
    with get_engine(url).connect() as conn:
        return [r[0] for r in conn.execute(select(units.c.code).where(units.c.level == 4).order_by(units.c.code))]


def _put(front_url: str, rows: list[dict]) -> None:
    """Insert or replace rows in the source table."""
    eng = create_engine(front_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        for r in rows:
            conn.execute(text("DELETE FROM front_events WHERE event_no = :event_no"), r)
            conn.execute(text("INSERT INTO front_events VALUES (:event_no, :wg_code, :lb, :ly, :zt, :sbsj, :clsx, "
                              ":bjsj, :pdsj, :bt, :updated_at)"), r)
    eng.dispose()


def _row(i: int, grid: str, updated: datetime, **kw) -> dict:
    rep = T0 + timedelta(minutes=i)
    return {"event_no": f"FE-{i:05d}", "wg_code": grid, "lb": "环境卫生", "ly": "12345", "zt": "已受理",
            "sbsj": rep, "clsx": rep + timedelta(days=2), "bjsj": None, "pdsj": None, "bt": f"事件{i}",
            "updated_at": updated, **kw}


def _source(url: str, name: str = "hotline", batch: int = 7) -> Source:
    return Source(name, url, _query(url), "updated_at", 1.0, MAPPING, None, batch)


def _count(url, prefix="FE-") -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(events).where(events.c.id.like(f"{prefix}%"))).scalar()


def _quiet(_m):
    pass


def test_first_run_then_only_changes(front, target):
    """All rows on the first run (cursor NULL); then only changed rows; a changed row updates its event."""
    leaves = _leaves(target)
    # several rows share an update time across the batch size (7): none may be skipped
    rows = [_row(i, leaves[i % len(leaves)], T0 + timedelta(seconds=i // 4)) for i in range(30)]
    _put(front, rows)
    eng = get_engine(target)
    out = sync(eng, [_source(front)], log=_quiet)
    assert "error" not in out[0], out[0]
    assert out[0]["read"] == 30 and out[0]["imported"] == 30 and "error" not in out[0]
    assert _count(target) == 30
    assert stored_cursor(eng, "hotline") == T0 + timedelta(seconds=29 // 4)
    out = sync(eng, [_source(front)], log=_quiet)  # a restart with nothing new
    assert out[0]["read"] == 0 and _count(target) == 30
    later = T0 + timedelta(minutes=5)
    _put(front, [_row(3, leaves[3 % len(leaves)], later, zt="已办结", bjsj=T0 + timedelta(hours=1),
                      pdsj=T0 + timedelta(minutes=10)),
                 _row(30, leaves[0], later), _row(31, leaves[1], later + timedelta(seconds=1))])
    out = sync(eng, [_source(front)], log=_quiet)
    assert (out[0]["read"], out[0]["imported"]) == (3, 3)
    assert _count(target) == 32
    with eng.connect() as conn:
        ev = conn.execute(select(events).where(events.c.id == "FE-00003")).mappings().one()
        rolled = conn.execute(select(func.sum(event_rollup.c.closed)).where(
            event_rollup.c.level == 0, event_rollup.c.month == "2027-02")).scalar()
        raw = conn.execute(select(func.count(events.c.closed_at)).where(
            events.c.reported_at >= datetime(2027, 2, 1))).scalar()
    assert ev["status"] == "closed" and ev["closed_at"] == T0 + timedelta(hours=1)
    assert ev["dispatched_at"] == T0 + timedelta(minutes=10)
    assert rolled == raw >= 1


def test_late_commit_below_the_cursor_needs_lookback(front, target):
    """A row stamped before the last read but committed after it sorts below the stored cursor: plain
    ``> :cursor`` never returns it; with ``lookback`` the window is read again, the row arrives, rows
    read again change nothing and the stored cursor does not move back."""
    leaves = _leaves(target)
    _put(front, [_row(i, leaves[i % len(leaves)], T0 + timedelta(seconds=i)) for i in range(10)])
    eng = get_engine(target)
    plain, behind = _source(front), _source(front)
    behind.lookback = 30
    assert sync(eng, [plain], log=_quiet)[0]["imported"] == 10
    top = stored_cursor(eng, "hotline")
    assert top == T0 + timedelta(seconds=9)
    _put(front, [_row(10, leaves[0], T0 + timedelta(seconds=5))])  # stamped 06:00:05, committed now
    assert sync(eng, [plain], log=_quiet)[0]["read"] == 0 and _count(target) == 10  # what lookback is for
    out = sync(eng, [behind], log=_quiet)[0]
    assert out["read"] == 11 and _count(target) == 11 and "error" not in out  # 06:00:00–09 again, and the late one
    assert stored_cursor(eng, "hotline") == top
    with eng.connect() as conn:
        late = conn.execute(select(events.c.title).where(events.c.id == "FE-00010")).scalar()
        rolled = conn.execute(select(func.sum(event_rollup.c.reported)).where(
            event_rollup.c.month == "2027-02", event_rollup.c.level == 0)).scalar()
        raw = conn.execute(select(func.count()).select_from(events).where(
            events.c.reported_at >= datetime(2027, 2, 1), events.c.reported_at < datetime(2027, 3, 1))).scalar()
    assert late == "事件10" and rolled == raw == 11  # the rows read again are not counted twice


def test_source_down_mid_run_is_retried_and_loses_nothing(mariadb, target, monkeypatch):
    """MariaDB kills the reading connection after the first committed batch: the error is recorded,
    the source is tried again from the committed cursor, and every row arrives exactly once."""
    monkeypatch.setenv("SYNC_RETRY_S", "0.1")
    front = mariadb
    eng_src = create_engine(front, isolation_level="AUTOCOMMIT")
    with eng_src.connect() as conn:
        conn.execute(text("DROP TABLE IF EXISTS front_events"))
        conn.execute(text(DDL.replace("bt VARCHAR(200)", "bt VARCHAR(2000)")))
    leaves = _leaves(target)
    n = 3000  # ≈ 6 MB of rows: far more than the socket buffers, so the kill lands mid-stream
    _put(front, [_row(i, leaves[i % len(leaves)], T0 + timedelta(seconds=i), bt="长" * 600) for i in range(n)])
    killed = []

    def kill_after_first(src, out):
        if killed:
            return
        with eng_src.connect() as conn:
            ids = [r[0] for r in conn.execute(text(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()"))]
            for i in ids:
                conn.execute(text(f"KILL {int(i)}"))
        killed.append(ids)

    eng = get_engine(target)
    out = sync(eng, [_source(front, "front_maria", batch=500)], log=_quiet, on_batch=kill_after_first)
    assert killed and killed[0], "no source connection to kill"
    assert out[0]["imported"] == n and _count(target) == n and "error" not in out[0]
    with eng.connect() as conn:
        feed = conn.execute(select(ingest_feeds).where(ingest_feeds.c.name == "front_maria")).mappings().one()
    assert feed["last_error"] and feed["last_error_at"] is not None  # the outage is on record
    assert feed["imported"] == n and feed["last_success_at"] >= feed["last_error_at"]
    eng_src.dispose()


def test_dead_source_recorded_others_go_on_cli(front, target, tmp_path):
    """`sync --config --once`: a refused source fails with its error recorded and exit 1; the live one
    is read; the last line is the JSON summary; --source runs one source only."""
    _put(front, [_row(i, _leaves(target)[0], T0 + timedelta(seconds=i)) for i in range(5)])
    cfg = tmp_path / "sync.toml"
    mapping = "\n".join(f'{k} = "{v}"' for k, v in MAPPING.items())
    cfg.write_text(f'''
[[source]]
name = "dead"
url = "mysql+pymysql://root@127.0.0.1:1/none"
query = "SELECT 1"
cursor = "updated_at"
every = 1

[[source]]
name = "live"
url = "{front}"
query = "{_query(front)}"
cursor = "updated_at"
every = 1
[source.mapping]
{mapping}
''', encoding="utf-8")
    assert [s.name for s in load_config(cfg)] == ["dead", "live"]
    env = {**os.environ, "SYNC_RETRY_S": "0.1", "SYNC_RETRIES": "1"}
    run = subprocess.run([sys.executable, "-m", "data_access", "sync", "--config", str(cfg), "--once", "--db", target],
                         cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 1, run.stderr
    summary = {s["name"]: s for s in json.loads(run.stdout.strip().splitlines()[-1])["sources"]}
    assert "error" in summary["dead"] and summary["dead"]["read"] == 0
    assert summary["live"]["imported"] == 5 and "error" not in summary["live"]
    assert set(summary["live"]) >= {"name", "read", "imported", "rejected", "warnings", "cursor"}
    with get_engine(target).connect() as conn:
        dead = conn.execute(select(ingest_feeds).where(ingest_feeds.c.name == "dead")).mappings().one()
    assert dead["last_error"] and dead["last_success_at"] is None
    run = subprocess.run([sys.executable, "-m", "data_access", "sync", "--config", str(cfg), "--once",
                          "--source", "live", "--db", target], cwd=ROOT, capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])["sources"]
    assert [s["name"] for s in out] == ["live"] and out[0]["read"] == 0 and _count(target) == 5


def test_lookback_moves_the_cursor_back_by_its_type():
    from datetime import date
    from decimal import Decimal

    from data_access.errors import InvalidParameterError
    from data_access.sync import behind

    assert behind(datetime(2027, 2, 10, 6, 0, 30), 30) == datetime(2027, 2, 10, 6)
    assert behind(date(2027, 2, 10), 3600) == date(2027, 2, 9)
    assert behind(1000, 2.5) == 997 and behind(Decimal("10.5"), 0.5) == Decimal("10.0") and behind(7.5, 1) == 6.5
    assert behind(None, 30) is None and behind("2027-02-10", 0) == "2027-02-10"
    with pytest.raises(InvalidParameterError):
        behind("2027-02-10 06:00", 30)


def test_shipped_example_config_loads(tmp_path):
    sources = load_config(ROOT / "config" / "sync.example.toml")
    assert [s.name for s in sources] == ["12345热线", "视频巡查"] and [s.lookback for s in sources] == [300, 0]
    bad = tmp_path / "neg.toml"
    bad.write_text('[[source]]\nname = "x"\nurl = "sqlite://"\nquery = "SELECT 1"\ncursor = "c"\nlookback = -5\n',
                   encoding="utf-8")
    from data_access.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="lookback"):
        load_config(bad)


def test_bad_config_is_a_clear_error(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[source]]\nname = "x"\nurl = "sqlite://"\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "data_access", "sync", "--config", str(cfg), "--once"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "query" in run.stderr and "Traceback" not in run.stderr
