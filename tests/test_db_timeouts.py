"""Tests for the engine's timeouts and for telling a database outage from a bug.

PostgreSQL is reached through :mod:`tests.stall_proxy`, which can hold every byte: a server that
is up but does not answer. Each call runs in a thread with a join deadline, so code without
timeouts fails here instead of hanging the run.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text

from data_access import DatabaseUnavailableError, ping, unavailable
from data_access.db.engine import get_engine, lift_timeouts, timeout_s

from .conftest import PG_ADMIN_URL
from .stall_proxy import stall_proxy


def _timed(fn, limit_s: float) -> tuple[float, BaseException | None]:
    """Run ``fn`` in a thread: (seconds it took, what it raised); fails if it runs past ``limit_s``."""
    out: dict = {}

    def run():
        t0 = time.monotonic()
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["exc"] = exc
        out["took"] = time.monotonic() - t0

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit_s)
    assert not worker.is_alive(), f"still waiting for the database after {limit_s} s"
    return out["took"], out.get("exc")


def _select(engine, sql: str = "SELECT 1"):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


@pytest.fixture
def fast_timeouts(monkeypatch):
    monkeypatch.setenv("DB_CONNECT_TIMEOUT_S", "2")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_S", "1")
    monkeypatch.setenv("DB_POOL_TIMEOUT_S", "1")


@pytest.mark.postgres
def test_stalled_postgres_fails_fast_and_recovers(pg_scratch, fast_timeouts):
    """A stalled server: pooled, in-use and new connections all give up within their timeouts."""
    with stall_proxy(PG_ADMIN_URL) as proxy:
        engine = get_engine(proxy.url(PG_ADMIN_URL))  # a fresh port: a fresh engine with these settings
        assert _select(engine) == 1

        proxy.stall()
        # a pooled connection: the pre-ping (connect timeout 2 s), then a new connection (2 s)
        took, exc = _timed(lambda: _select(engine), 15)
        assert took < 2 + 2 + 1.5, took
        assert isinstance(unavailable(exc), DatabaseUnavailableError), exc
        # a new connection: the connect timeout
        took, exc = _timed(lambda: ping(engine), 15)
        assert took < 2 + 1, took
        assert isinstance(exc, DatabaseUnavailableError), exc

        proxy.forward()
        assert _select(engine) == 1

        def stall_mid_session():
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                proxy.stall()
                conn.execute(text("SELECT 2"))

        # a connection in use: the client deadline, one second after the statement timeout
        took, exc = _timed(stall_mid_session, 15)
        assert took < 1 + 1 + 1, took
        assert isinstance(unavailable(exc), DatabaseUnavailableError), exc
        assert "no answer from the database within 2 s" in str(exc)

        proxy.forward()
        assert _select(engine) == 1, "recovers by itself once the server answers again"


@pytest.mark.postgres
def test_statement_timeout_on_the_server(pg_scratch, fast_timeouts):
    """A query the server runs too long is cancelled by the server's statement_timeout."""
    with stall_proxy(PG_ADMIN_URL) as proxy:  # only for an engine of its own (a fresh URL)
        engine = get_engine(proxy.url(PG_ADMIN_URL))
        assert _select(engine, "SHOW statement_timeout") == "1s"
        took, exc = _timed(lambda: _select(engine, "SELECT pg_sleep(5)"), 15)
        assert took < 1.8, took
        assert "statement timeout" in str(exc)
        assert isinstance(unavailable(exc), DatabaseUnavailableError)
        assert _select(engine) == 1


@pytest.mark.postgres
def test_a_long_writer_lifts_the_timeouts_for_its_transaction(pg_scratch, fast_timeouts):
    """lift_timeouts: no server or client timeout in that transaction; back for the pool's next user."""
    with stall_proxy(PG_ADMIN_URL) as proxy:
        engine = get_engine(proxy.url(PG_ADMIN_URL))
        with engine.begin() as conn:
            lift_timeouts(conn)
            conn.exec_driver_sql("SELECT pg_sleep(2.5)")  # past the statement timeout and the client deadline
        took, exc = _timed(lambda: _select(engine, "SELECT pg_sleep(5)"), 15)
        assert took < 1.8 and "statement timeout" in str(exc), (took, exc)

        def stall_mid_session():
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                proxy.stall()
                conn.execute(text("SELECT 2"))

        assert engine.pool.checkedin() == 1  # the connection that ran the lifted transaction
        took, exc = _timed(stall_mid_session, 15)
        assert took < 3 and "no answer from the database" in str(exc), (took, exc)


def test_sqlite_busy_timeout_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DB_BUSY_TIMEOUT_S", "2.5")
    engine = get_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    assert _select(engine, "PRAGMA busy_timeout") == 2500


def test_bad_timeout_setting_is_a_clear_message(monkeypatch):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_S", "thirty")
    with pytest.raises(ValueError, match="DB_STATEMENT_TIMEOUT_S.*seconds"):
        timeout_s("DB_STATEMENT_TIMEOUT_S")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_S", "")
    assert timeout_s("DB_STATEMENT_TIMEOUT_S") == 30


def test_outage_or_bug(tmp_path):
    """Refused connections and locks are an outage; a missing table or a plain bug is not."""
    refused = create_engine("postgresql+psycopg://postgres@127.0.0.1:9/none")  # port 9: nothing listens
    _, exc = _timed(lambda: _select(refused), 15)
    assert isinstance(unavailable(exc), DatabaseUnavailableError), exc
    assert isinstance(exc, Exception) and "database unavailable" in str(unavailable(exc))

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(Exception) as missing:
        _select(engine, "SELECT * FROM no_such_table")
    assert unavailable(missing.value) is None
    assert unavailable(ValueError("bug")) is None
