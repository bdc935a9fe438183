"""Tests for the slow-query log of data_access.db.connection: duration and first line, never parameters."""

from __future__ import annotations

import logging

from sqlalchemy import text

from data_access.db.connection import begin, connect
from data_access.db.engine import get_engine

SLOW = text("""
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000)
    SELECT count(*) FROM c WHERE :secret IS NOT NULL""")


def _slow_records(caplog):
    return [r for r in caplog.records if r.name == "data_access.db.slow"]


def test_slow_statement_is_logged_without_parameters(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("DB_SLOW_QUERY_MS", "1")
    engine = get_engine(f"sqlite:///{tmp_path / 'slow.db'}")
    with caplog.at_level(logging.WARNING, logger="data_access.db.slow"), connect(engine) as conn:
        assert conn.execute(SLOW, {"secret": "hunter2-token"}).scalar() == 400000
    (rec,) = _slow_records(caplog)
    msg = rec.getMessage()
    assert msg.startswith("slow query ") and " ms: WITH RECURSIVE c(x) AS" in msg
    assert "hunter2" not in msg and "count(*)" not in msg  # parameters never, only the first line


def test_fast_statements_and_off(tmp_path, monkeypatch, caplog):
    engine = get_engine(f"sqlite:///{tmp_path / 'fast.db'}")
    with caplog.at_level(logging.WARNING, logger="data_access.db.slow"):
        monkeypatch.setenv("DB_SLOW_QUERY_MS", "60000")
        with begin(engine) as conn:
            conn.execute(SLOW, {"secret": 1})
        monkeypatch.setenv("DB_SLOW_QUERY_MS", "0")
        with connect(engine) as conn:
            conn.execute(SLOW, {"secret": 1})
    assert _slow_records(caplog) == []
    monkeypatch.setenv("DB_SLOW_QUERY_MS", "1")
    with caplog.at_level(logging.WARNING, logger="data_access.db.slow"), begin(engine) as conn:
        conn.execute(SLOW, {"secret": 1})
    assert len(_slow_records(caplog)) == 1  # the hooks stay once per engine however often it is opened
