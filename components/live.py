"""Keep the wall up through a database outage: a restart, a network blip, a stalled server.

``last_good(key, load)`` returns fresh data when ``load()`` works and remembers it; when the
database is unavailable it returns the last good copy and the time it was loaded, so the page
can show it with a stale marker and recover on the next refresh by itself. With nothing to show
yet it raises :class:`~data_access.errors.DatabaseUnavailableError`. A refresh that starts with
:func:`stale_copies` learns afterwards whether any of its parts (figures, map) fell back on a copy.

A page that cannot even start (login gate, page set-up) uses :func:`database_or_wait`: instead
of a traceback it shows the Chinese 等待数据连接 screen, which retries by itself and turns into the
page as soon as the database answers (:func:`wait_for_database`).
"""

from __future__ import annotations

import contextlib
import html
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, NoReturn

import streamlit as st

from common import settings
from data_access import DatabaseUnavailableError, ping, unavailable

from .data import db_url, engine

log = logging.getLogger(__name__)


RETRY_S = max(1.0, settings.get("DB_RETRY_S"))  # how often the waiting screen tries the database again
# After a failure, other loads of the same refresh use their last good copy at once instead of
# each waiting for a timeout of its own (a refresh is at least 5 s apart, see pages/overview.py).
_QUIET_S = 3.0


class StaleCopies:
    """The last good copies one refresh fell back on; ``since``: when the oldest was loaded (None: all fresh)."""

    def __init__(self) -> None:
        self.since: datetime | None = None

    def add(self, loaded: datetime) -> None:
        self.since = loaded if self.since is None else min(self.since, loaded)


def stale_copies() -> StaleCopies:
    """Start a refresh: every :func:`last_good` that falls back on a copy from now on is noted in the result."""
    st.session_state["_stale_copies"] = shown = StaleCopies()
    return shown


def _stale(key: str) -> tuple[Any, datetime]:
    data, loaded = st.session_state["_last_good"][key]
    shown = st.session_state.get("_stale_copies")
    if shown is not None:
        shown.add(loaded)
    return data, loaded


def last_good(key: str, load: Callable[[], Any]) -> tuple[Any, datetime | None]:
    """(data, None) when fresh; (last good data, when it was loaded) while the database is unavailable.

    Raises :class:`DatabaseUnavailableError` during an outage when there is no good copy yet;
    errors that are no outage (bugs) propagate unchanged.
    """
    store = st.session_state.setdefault("_last_good", {})
    failed_at = st.session_state.get("_db_failed_at")
    if key in store and failed_at is not None and time.monotonic() - failed_at < _QUIET_S:
        return _stale(key)
    try:
        data = load()
    except Exception as exc:
        err = unavailable(exc)
        if err is None:
            raise
        log.warning("live refresh of %s failed: %s", key, err)
        st.session_state["_db_failed_at"] = time.monotonic()
        if key in store:
            return _stale(key)
        raise err from exc
    store[key] = (data, datetime.now())
    st.session_state.pop("_db_failed_at", None)
    return data, None


# Streamlit dims the elements of a running rerun until it redraws them. A wall refresh that waits
# for a database timeout would dim the whole screen for seconds: a wall keeps its brightness (the
# stale marker or the waiting screen says what is going on).
_STEADY_CSS = """<style>
[data-stale="true"] { opacity: 1 !important; transition: none !important; }
</style>"""


def steady_screen() -> None:
    """Keep the screen at full brightness while a refresh waits (for a wall: nobody is clicking)."""
    st.html(_STEADY_CSS)


_WAIT_CSS = """<style>
.db-wait { height: 82vh; display: flex; flex-direction: column; align-items: center; justify-content: center;
           gap: 18px; text-align: center; color: #CFE3FF; }
.db-wait-app { font-size: 22px; color: #9FC3FF; letter-spacing: 0.08em; }
.db-wait-title { font-size: 56px; font-weight: 700; color: #FFFFFF; letter-spacing: 0.12em; }
.db-wait-dot { width: 18px; height: 18px; border-radius: 50%; background: #FFB300; display: inline-block;
               margin-right: 22px; vertical-align: middle; animation: db-wait-pulse 1.6s ease-in-out infinite; }
@keyframes db-wait-pulse { 0%, 100% { opacity: 1; transform: scale(1); } 50% { opacity: .25; transform: scale(.6); } }
.db-wait-note { font-size: 24px; } .db-wait-meta { font-size: 18px; color: #7FA6D9; }
</style>"""


def waiting_message(retry_s: float, app_title: str = "三零创建一屏统揽") -> None:
    """The 等待数据连接 screen's content: what happens, that it retries by itself, when it last tried."""
    st.html(f'{_WAIT_CSS}<div class="db-wait" data-testid="db-waiting">'
            f'<div class="db-wait-app">{html.escape(app_title)}</div>'
            f'<div class="db-wait-title"><span class="db-wait-dot"></span>等待数据连接</div>'
            f'<div class="db-wait-note">数据库暂时无法访问。连接恢复后自动显示，无需任何操作。</div>'
            f'<div class="db-wait-meta">每 {retry_s:g} 秒自动重试 · 最近一次尝试 {datetime.now():%H:%M:%S}</div>'
            f'</div>')


def wait_for_database(retry_s: float = RETRY_S) -> NoReturn:
    """Show the waiting screen instead of the page and stop the run.

    The screen is a fragment that pings the database every ``retry_s`` seconds and reruns the
    whole app once it answers, so a wall started during an outage turns into the wall by itself.
    """
    from .theme import wall_css

    wall_css(st.query_params.get("kiosk") == "1")
    steady_screen()
    st.session_state["_db_wait_first"] = True

    @st.fragment(run_every=retry_s)
    def _screen() -> None:
        if not st.session_state.pop("_db_wait_first", False):  # a timed run: try again
            try:
                ping(engine(db_url()))
            except DatabaseUnavailableError as exc:
                log.info("database still unavailable: %s", exc)
            else:
                st.rerun(scope="app")
        waiting_message(retry_s)

    _screen()
    st.stop()


@contextlib.contextmanager
def database_or_wait() -> Iterator[None]:
    """Run the block; if the database is unavailable, show the waiting screen and stop the run."""
    try:
        yield
    except Exception as exc:
        err = unavailable(exc)
        if err is None:
            raise
        log.warning("page waits for the database: %s", err)
        wait_for_database()
