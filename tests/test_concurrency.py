"""Tests for concurrent writers: two event imports of the same month and the live simulator at once, on
SQLite and PostgreSQL — nobody dies of a lock or a rollup key clash, and the rollups equal the raw events."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

import data_access.importers.events as imp
from data_access.db.engine import get_engine
from data_access.db.schema import event_rollup, events, units
from data_access.demo import build_demo
from data_access.demo.simulate import tick
from data_access.filters import Scope, parse_period

from .conftest import TEST_UNTIL
from .test_rollups import _assert_paths_equal, _units_at_levels

ROWS = 1500
CHUNK = 250  # six chunks per file
HOLD_S = 1.0  # per chunk: an import holds its transaction ≈ 6 s, longer than SQLite's 5 s busy timeout


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh(request, tmp_path):
    """A private tiny demo (this test writes to it)."""
    url = f"sqlite:///{tmp_path / 'c.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_scratch")()
    build_demo(url, scale="tiny", seed=13, until=TEST_UNTIL, log=lambda m: None)
    return get_engine(url)


def _month_file(eng, path, prefix: str, seed: int) -> None:
    """``ROWS`` events of October 2026 on random buildings, half of them closed."""
    with eng.connect() as conn:
        leaves = [r[0] for r in conn.execute(select(units.c.code).where(units.c.level == 4))]
    rng = np.random.default_rng(seed)
    rep = [datetime(2026, 10, 1) + timedelta(minutes=int(m)) for m in rng.integers(0, 29 * 24 * 60, ROWS)]
    closed = rng.random(ROWS) < 0.5
    pd.DataFrame({
        "事件编号": [f"{prefix}{i:05d}" for i in range(ROWS)],
        "网格编码": rng.choice(leaves, ROWS),
        "类别": rng.choice(["矛盾纠纷", "安全隐患", "违法建设", "治安防范"], ROWS),
        "来源": rng.choice(["网格员上报", "12345热线"], ROWS),
        "上报时间": [f"{r:%Y-%m-%d %H:%M}" for r in rep],
        "办结时限": [f"{r + timedelta(days=5):%Y-%m-%d %H:%M}" for r in rep],
        "办结时间": [f"{r + timedelta(days=2):%Y-%m-%d %H:%M}" if c else "" for r, c in zip(rep, closed)],
        "状态": ["已办结" if c else "处置中" for c in closed],
    }).to_csv(path, index=False)


def test_two_imports_and_simulator_at_once(fresh, tmp_path, monkeypatch):
    """Two imports of the same month and the simulator run together; all finish, rollup == raw."""
    eng = fresh
    monkeypatch.setattr(imp, "CHUNK", CHUNK)
    files = []
    for k in range(2):
        files.append(tmp_path / f"m{k}.csv")
        _month_file(eng, files[-1], f"C{k}-", seed=k)
    errors: list[BaseException] = []
    results: list[dict] = []
    done = threading.Event()

    def importer(path, hold_s):
        try:
            # a slow reader (a large file, a progress bar): the transaction stays open for a while
            results.append(imp.import_events(eng, str(path), progress=lambda n: time.sleep(hold_s)))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def simulator():
        rng = np.random.default_rng(5)
        k = 0
        try:
            while not done.is_set() or k < 5:
                tick(eng, rng, 5, 5, now=datetime(2026, 10, 30, 9, 0) + timedelta(seconds=k))
                k += 1
                time.sleep(0.05)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    sim = threading.Thread(target=simulator)
    # PostgreSQL runs both imports side by side (both slow: their rollup refreshes meet at the end);
    # SQLite runs one writer at a time, so the second import only has to outlast the first one's lock
    holds = [HOLD_S, HOLD_S if eng.dialect.name == "postgresql" else 0.0]
    workers = [threading.Thread(target=importer, args=(f, h)) for f, h in zip(files, holds)]
    sim.start()
    for w in workers:
        w.start()
    for w in workers:
        w.join(180)
    done.set()
    sim.join(60)
    assert not errors, [f"{type(e).__name__}: {e}"[:300] for e in errors]
    assert sorted(r["imported"] for r in results) == [ROWS, ROWS]
    with eng.connect() as conn:
        n_events = conn.execute(select(func.count()).select_from(events)).scalar()
        rolled = conn.execute(select(func.sum(event_rollup.c.reported)).where(event_rollup.c.level == 0)).scalar()
        ours = conn.execute(select(func.count()).select_from(events).where(events.c.id.like("C%"))).scalar()
    assert ours == 2 * ROWS and rolled == n_events
    for unit in _units_at_levels(eng):
        _assert_paths_equal(eng, Scope.all(), unit, parse_period("2026-10"))


def test_sqlite_writers_of_one_process_take_turns(tmp_path):
    """A second writer waits for the first on this process's queue (not in SQLite's polling busy
    handler), a writer may nest, and the queue is per database."""
    from data_access.db.retry import _turn

    eng = get_engine(f"sqlite:///{tmp_path / 'q.db'}")
    other = get_engine(f"sqlite:///{tmp_path / 'other.db'}")
    inside, order = threading.Event(), []
    release = threading.Event()

    def first():
        with _turn(eng):
            order.append("first in")
            inside.set()
            release.wait(10)
            with _turn(eng):  # reentrant: a writer inside a writer's thread
                order.append("first nested")
            order.append("first out")

    def second():
        with _turn(eng):
            order.append("second in")

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(10)
    b = threading.Thread(target=second)
    b.start()
    with _turn(other):  # another database's writer does not wait
        order.append("other")
    time.sleep(0.2)
    assert "second in" not in order
    release.set()
    a.join(10)
    b.join(10)
    assert order == ["first in", "other", "first nested", "first out", "second in"]
