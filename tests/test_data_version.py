"""Tests for the data version: every writer bumps it, and the caches keyed by it show new data at once."""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from data_access.db import retry
from data_access.db.connection import connect
from data_access.db.retry import write_transaction
from data_access.db.schema import events
from data_access.db.version import bump_data_version, data_version
from data_access.demo import simulate
from data_access.demo.build import build_demo

from .conftest import ROOT, TEST_UNTIL, get_engine, login_state


def _latest(engine):
    with connect(engine) as conn:
        return conn.execute(select(func.max(events.c.reported_at))).scalar_one()


def test_a_write_bumps_the_version(tiny_url):
    """A simulator tick (through write_transaction) and a plain bump each give a new version."""
    eng = get_engine(tiny_url)
    v0 = data_version(eng)
    simulate.tick(eng, np.random.default_rng(1), 2, 1, _latest(eng) + timedelta(minutes=1))
    v1 = data_version(eng)
    assert v1 != v0
    write_transaction(eng, lambda conn: None)
    assert data_version(eng) == str(int(v1) + 1)


def test_concurrent_bumps_are_all_counted(tiny_url):
    """Ten writers bumping at once give ten increments (the increment happens in SQL, under the row lock)."""
    from concurrent.futures import ThreadPoolExecutor

    eng = get_engine(tiny_url)
    v0 = int(data_version(eng))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: write_transaction(eng, bump_data_version), range(5)))
    assert int(data_version(eng)) == v0 + 10  # each writer bumps twice: its work, then write_transaction


def test_fresh_databases_do_not_share_versions(tmp_path):
    """Two databases built under the same URL start at different versions (a cache never mixes them)."""
    url = f"sqlite:///{tmp_path / 'v.db'}"
    build_demo(url, scale="tiny", seed=7, until=TEST_UNTIL, log=lambda _m: None)
    first = data_version(get_engine(url))
    build_demo(url, scale="tiny", seed=7, until=TEST_UNTIL, log=lambda _m: None)
    assert data_version(get_engine(url)) != first != "0"


def _reported(at: AppTest) -> int:
    body = "\n".join(str(h.proto.body) for h in at.get("html"))
    m = re.search(r'data-kpi="reported".*?class="kpi-value">([\d,]+)', body, re.S)
    assert m, "the wall shows the 事件上报 tile"
    return int(m.group(1).replace(",", ""))


def test_wall_shows_a_new_event_at_its_next_refresh(tmp_path, monkeypatch):
    """A write that bumps the version reaches the wall at the next run, seconds later (no TTL ran out);
    a write that does not bump it is not seen (the figures really come from the version-keyed cache)."""
    url = f"sqlite:///{tmp_path / 'wall.db'}"
    build_demo(url, scale="tiny", seed=7, until=TEST_UNTIL, log=lambda _m: None)
    eng = get_engine(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_VERSION_POLL_S", "0")
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in login_state(url, "leader").items():
        at.session_state[k] = v
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception, at.exception
    before = _reported(at)
    latest = _latest(eng)

    with monkeypatch.context() as m:  # a writer that forgets the version: cached figures stay
        m.setattr(retry, "bump_data_version", lambda conn: None)
        simulate.tick(eng, np.random.default_rng(2), 3, 0, latest + timedelta(minutes=1))
    at.run()
    assert _reported(at) == before

    simulate.tick(eng, np.random.default_rng(3), 2, 0, latest + timedelta(minutes=2))
    at.run()
    assert not at.exception, at.exception
    assert _reported(at) == before + 5


def test_version_read_is_shared_within_the_poll_interval(tiny_url, monkeypatch):
    """With a poll interval the version is read once per interval; with 0 every call reads it."""
    from components import data

    calls = []
    monkeypatch.setattr(data, "data_version", lambda eng: calls.append(1) or "7")
    monkeypatch.setenv("DATA_VERSION_POLL_S", "60")
    data._versions.pop(tiny_url, None)
    assert data.current_version(tiny_url) == data.current_version(tiny_url) == "7"
    assert len(calls) == 1
    monkeypatch.setenv("DATA_VERSION_POLL_S", "0")
    data.current_version(tiny_url)
    data.current_version(tiny_url)
    assert len(calls) == 3
    data._versions.pop(tiny_url, None)
