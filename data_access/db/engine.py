"""Engine set-up: which database, and how to connect to it.

``DATABASE_URL`` (environment, else ``.streamlit/secrets.toml``) selects the database; without it
the embedded SQLite demo file ``data/demo.db`` (relative to the project root) is used. SQLite gets WAL mode so
that the importer and the live simulator can write while the app reads.

A database that is up but does not answer (a stalled server, a half-open connection, a
proxy that holds the bytes) must not hang a caller forever. Timeouts, in seconds (settings declared
in :mod:`common.settings`, read when an engine is first created):

``DB_CONNECT_TIMEOUT_S`` (5)
    PostgreSQL: TCP connect and start-up handshake (psycopg enforces at least 2 s); also the
    deadline of the pool's pre-ping, so a pooled connection the server no longer answers on is
    replaced within seconds.
``DB_STATEMENT_TIMEOUT_S`` (30)
    PostgreSQL: the server's ``statement_timeout``, and one second later a deadline on every wait
    for the server's answer in the client, which closes the connection (the pool then drops it):
    a server that cannot even receive the cancel still lets the caller go. ``0`` turns both off.
``DB_POOL_TIMEOUT_S`` (10)
    Both engines: how long to wait for a free pooled connection.
``DB_BUSY_TIMEOUT_S`` (15)
    SQLite: how long to wait for another writer's lock (``timeout`` and ``PRAGMA busy_timeout``).

Idle PostgreSQL connections also send TCP keepalives (after 30 s idle, every 10 s, 3 probes), so
a peer that vanished is noticed without a query. :func:`unavailable` turns the errors these
produce into :class:`~data_access.errors.DatabaseUnavailableError`; a long writer lifts the
statement timeouts for its transaction with :func:`lift_timeouts`.
"""

from __future__ import annotations

import functools
import math
import tomllib
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from common import settings
from data_access.errors import DatabaseUnavailableError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "demo.db"

# The project's own secrets file (what ``st.secrets`` reads when the app is started from the project root).
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
_CLIENT_GRACE_S = 1.0  # the client deadline trails the server's statement_timeout, so the server's cancel wins
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


def default_url() -> str:
    """The database URL, resolved the same way for the app and every command-line tool: the
    ``DATABASE_URL`` setting (environment), else ``DATABASE_URL`` in ``.streamlit/secrets.toml``,
    else the embedded demo file."""
    return settings.get("DATABASE_URL") or _secrets_url() or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _secrets_url() -> str | None:
    try:
        with open(SECRETS_FILE, "rb") as fh:
            value = tomllib.load(fh).get("DATABASE_URL")
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise settings.SettingError(f"无法读取 {SECRETS_FILE.name} / cannot read {SECRETS_FILE}: {exc}") from None
    return (str(value).strip() or None) if value is not None else None


def normalize_url(url: str | None) -> str:
    """Accept a bare file path for SQLite and the ``postgresql://`` scheme for psycopg 3."""
    url = url or default_url()
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def timeout_s(name: str) -> float:
    """The timeout setting ``name`` (``DB_*_TIMEOUT_S``, declared in :mod:`common.settings`) in seconds."""
    return settings.get(name)


def _sqlite_pragmas(dbapi_conn, _record, busy_ms: int) -> None:  # pragma: no cover - trivial
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


@functools.cache
def _deadline_connection_class():
    import psycopg

    class DeadlineConnection(psycopg.Connection):
        """A psycopg connection that stops waiting for a server that does not answer.

        psycopg waits for the server in :meth:`wait` (every execute, fetch, commit, ping); the
        stock connection waits forever. After ``deadline_s`` without the answer the connection is
        closed, mid-protocol as it is, so SQLAlchemy sees a disconnect and the pool drops it.
        """

        deadline_s: float | None = None

        def wait(self, gen, *args, **kwargs):
            own = self.deadline_s is not None and kwargs.get("timeout") is None and len(args) < 2
            if own:
                kwargs["timeout"] = self.deadline_s
            try:
                return super().wait(gen, *args, **kwargs)
            except psycopg.errors._WaitTimeout:
                if not own:  # psycopg's own timed waits (notifies, cancel) handle theirs
                    raise
                self.pgconn.finish()
                raise psycopg.errors.ConnectionTimeout(
                    f"no answer from the database within {self.deadline_s:g} s") from None

    return DeadlineConnection


def _postgres_engine(url: str) -> Engine:
    connect_s = timeout_s("DB_CONNECT_TIMEOUT_S")
    statement_s = timeout_s("DB_STATEMENT_TIMEOUT_S")
    connect_args: dict = {"connect_timeout": max(1, math.ceil(connect_s)), **_KEEPALIVES}
    if statement_s:
        own = make_url(url).query.get("options")
        connect_args["options"] = " ".join(
            [*([own] if isinstance(own, str) else own or []), f"-c statement_timeout={round(statement_s * 1000)}"])
    engine = create_engine(
        url,
        pool_size=settings.get("DB_POOL_SIZE"),
        max_overflow=settings.get("DB_MAX_OVERFLOW"),
        pool_timeout=timeout_s("DB_POOL_TIMEOUT_S"),
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )
    conn_class = _deadline_connection_class()
    client_s = statement_s + _CLIENT_GRACE_S if statement_s else None

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        conn = conn_class.connect(*cargs, **cparams)
        conn.deadline_s = client_s
        return conn

    @event.listens_for(engine, "checkin")
    def _restore_deadline(dbapi_conn, _record):  # undo lift_timeouts() for the pool's next user
        if dbapi_conn is not None:
            dbapi_conn.deadline_s = client_s

    # The pre-ping is a trivial query: give it the connect timeout, not the statement timeout.
    # SQLAlchemy treats a failed ping as a dead connection and reconnects (bounded by connect_timeout).
    ping = engine.dialect.do_ping

    def _ping(dbapi_conn) -> bool:
        saved = dbapi_conn.deadline_s
        dbapi_conn.deadline_s = max(2.0, connect_s)
        try:
            return ping(dbapi_conn)
        finally:
            dbapi_conn.deadline_s = saved

    engine.dialect.do_ping = _ping
    return engine


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """A pooled engine for ``url`` (default: :func:`default_url`), one per URL per process."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        busy_s = timeout_s("DB_BUSY_TIMEOUT_S")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_s},
                               pool_timeout=timeout_s("DB_POOL_TIMEOUT_S"))
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas, busy_ms=round(busy_s * 1000)))
    else:
        engine = _postgres_engine(url)
    return engine


def lift_timeouts(conn: Connection) -> None:
    """No statement timeout for the rest of ``conn``'s transaction (PostgreSQL; nothing on SQLite).

    For a writer that legitimately runs long or waits for another writer's lock (a large import in
    one transaction): the server's ``statement_timeout`` is lifted with ``SET LOCAL`` and the client
    deadline until the connection goes back to the pool. The connect timeout still applies.
    """
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
    conn.connection.dbapi_connection.deadline_s = None


# SQLite reports mistakes in the SQL as OperationalError too; those are bugs, not an outage.
_SQLITE_BUGS = ("no such table", "no such column", "syntax error")


def unavailable(exc: BaseException) -> DatabaseUnavailableError | None:
    """The :class:`DatabaseUnavailableError` that ``exc`` amounts to, or None if it is no outage.

    An outage: the database refused or dropped the connection, did not answer in time (connect,
    statement or client deadline), every pooled connection was busy, or (SQLite) the file was locked.
    """
    if isinstance(exc, DatabaseUnavailableError):
        return exc
    if isinstance(exc, sa_exc.TimeoutError):  # QueuePool: no free connection within pool_timeout
        reason = "no free database connection"
    elif isinstance(exc, sa_exc.DBAPIError) and (
            exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        if any(s in reason for s in _SQLITE_BUGS):
            return None
    elif isinstance(exc, sa_exc.DisconnectionError):
        reason = str(exc)
    else:
        return None
    err = DatabaseUnavailableError(f"数据库暂时无法连接 / database unavailable: {reason}")
    err.__cause__ = exc
    return err


def ping(engine: Engine) -> None:
    """Raise :class:`DatabaseUnavailableError` unless the database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:
        err = unavailable(exc)
        if err is None:
            raise
        raise err from exc
