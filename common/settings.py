"""Every setting of the product, declared once: name, default, help, parser.

Settings are read from the environment when they are asked for (:func:`get`), so a test can set one
with ``monkeypatch.setenv`` and a server picks it up at start. A value that does not parse raises
:class:`SettingError` with a Chinese/English message naming the setting — never a traceback deep in
the code that uses it. The README's configuration table lists exactly these settings
(``tests/test_settings.py`` checks it).

To add a setting: append a :class:`Setting` to :data:`SETTINGS` (keep the group order) and read it
with ``settings.get("NAME")``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class SettingError(ValueError):
    """A setting whose value cannot be used."""


def seconds(raw: str) -> float:
    """A number of seconds ≥ 0."""
    value = _number(raw, float, "must be a number of seconds >= 0")
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a number of seconds >= 0")
    return value


def _number(raw: str, kind: type, rule: str):
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(rule) from None


def positive_int(raw: str) -> int:
    value = _number(raw, int, "must be a whole number >= 1")
    if value < 1:
        raise ValueError("must be a whole number >= 1")
    return value


def non_negative_int(raw: str) -> int:
    value = _number(raw, int, "must be a whole number >= 0")
    if value < 0:
        raise ValueError("must be a whole number >= 0")
    return value


def positive_float(raw: str) -> float:
    value = _number(raw, float, "must be a number > 0")
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a number > 0")
    return value


def text(raw: str) -> str:
    return raw


@dataclass(frozen=True)
class Setting:
    """One setting: environment variable ``name``, its ``default`` (already parsed), a one-line
    ``help`` (English, as in the README table) and the ``parse`` function for the raw text."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = text
    group: str = "app"


SETTINGS: tuple[Setting, ...] = (
    # database
    Setting("DATABASE_URL", None, "SQLAlchemy URL of the database (a bare file path means SQLite); unset: "
            "DATABASE_URL in .streamlit/secrets.toml, else the embedded SQLite demo file data/demo.db — the same "
            "for the app and the command-line tools", text, "database"),
    Setting("DB_POOL_SIZE", 5, "pooled connections per process (PostgreSQL)", positive_int, "database"),
    Setting("DB_MAX_OVERFLOW", 10, "extra connections beyond the pool (PostgreSQL)", non_negative_int, "database"),
    Setting("DB_CONNECT_TIMEOUT_S", 5.0, "connect and start-up handshake; also the pool's pre-ping deadline "
            "(PostgreSQL)", seconds, "database"),
    Setting("DB_STATEMENT_TIMEOUT_S", 30.0, "the server's statement_timeout and, 1 s later, a client-side "
            "deadline on a connection the server does not answer; 0 = off (PostgreSQL; writers that run long "
            "lift it)", seconds, "database"),
    Setting("DB_POOL_TIMEOUT_S", 10.0, "wait for a free pooled connection", seconds, "database"),
    Setting("DB_BUSY_TIMEOUT_S", 15.0, "wait for another writer's lock (SQLite)", seconds, "database"),
    Setting("DB_SLOW_QUERY_MS", 500, "statements slower than this are logged (warning, logger "
            "data_access.db.slow) with their duration and first line, never their parameters; 0 = off",
            non_negative_int, "database"),
    Setting("DB_RETRY_S", 10.0, "how often the 等待数据连接 screen tries the database again", seconds, "database"),
    # app and wall
    Setting("CACHE_TTL_S", 60, "query cache at the component edge (seconds); answers are keyed by the data "
            "version, so this only bounds how late a change made outside the app's writers shows", non_negative_int),
    Setting("LIVE_TTL_S", 10, "the wall's query cache (seconds; keyed by the data version like CACHE_TTL_S)",
            non_negative_int),
    Setting("DATA_VERSION_POLL_S", 1.0, "how often a process reads the data version (seconds); a new event "
            "reaches the walls at their next refresh after this", seconds),
    Setting("WALL_TITLE", "{unit}“三零”创建一屏统揽", "the wall's title; {unit} is the focus unit's name"),
    Setting("HASH_CONCURRENCY", 2, "password checks running at once per process (argon2, 64 MiB each)",
            positive_int),
    Setting("FORWARDED_ALLOW_IPS", "127.0.0.1,::1", "proxies whose X-Forwarded-Proto/-For are believed (read "
            "by uvicorn itself)", text, "server"),
    # map
    Setting("BASEMAP_TILE_URL", None, "an intranet XYZ tile template, e.g. http://gis.intranet/tiles/{z}/{x}/{y}.png "
            "({-y} for TMS); unset: no basemap, nothing fetched", text, "map"),
    Setting("BASEMAP_CRS", "wgs84", "wgs84, or gcj02 when the tiles are GCJ-02 (polygons, points and tracks "
            "are shifted onto them)", text, "map"),
    Setting("BASEMAP_OPACITY", 0.8, "basemap opacity (0–1)", positive_float, "map"),
    Setting("BASEMAP_MAX_ZOOM", 18, "highest zoom level the tile server has", positive_int, "map"),
    # imports
    Setting("GRID_IMPORT_MAX_MB", 50.0, "a boundary file larger than this (a zip: unpacked) is refused before "
            "it is read", positive_float, "import"),
    Setting("GRID_IMPORT_MAX_FEATURES", 50_000, "a boundary file with more features is refused", positive_int,
            "import"),
    Setting("GRID_PREVIEW_FEATURES", 300, "features a boundary preview reads and draws", positive_int, "import"),
    Setting("IMPORT_NICE", 0, "CPU priority (nice) of a background import started by the data page",
            non_negative_int, "import"),
    Setting("VOCABULARY_FILE", None, "the label vocabulary file; unset: config/vocabulary.toml", text, "import"),
    # live data (push API, pull sources)
    Setting("API_RATE_PER_MIN", 120, "requests per minute one API key may make (bursts up to a sixth of it, "
            "at least 10); more are answered 429", positive_int, "live"),
    Setting("API_MAX_BODY_MB", 20.0, "a POST /api/v1/events body larger than this is answered 413 unread",
            positive_float, "live"),
    Setting("SYNC_RETRY_S", 2.0, "sync: first wait before a failed source is tried again (doubles, up to its "
            "`every`)", positive_float, "live"),
    Setting("SYNC_RETRIES", 3, "sync --once: failures in a row after which a source is given up for this run",
            non_negative_int, "live"),
    Setting("FRESHNESS_FILE", None, "freshness thresholds per event source; unset: config/freshness.toml", text,
            "live"),
    # bulletins and alerts
    Setting("BULLETIN_HOUR", 6, "hour (0–23, local time) on the 1st of each month at which `python -m reports "
            "schedule` writes the previous month's bulletins", non_negative_int, "bulletin"),
    Setting("BULLETIN_DIR", "data/bulletins", "where scheduled bulletins are written (one folder per month)",
            text, "bulletin"),
    Setting("ALERT_INTERVAL_S", 300.0, "how often the scheduler evaluates alerts (red/orange units, overdue "
            "重点哨)", positive_float, "bulletin"),
    Setting("ALERT_WEBHOOK_URL", None, "POST each new alert as JSON to this URL (the work-chat robot); unset: "
            "no posting", text, "bulletin"),
    Setting("ALERT_WEBHOOK_RETRIES", 3, "attempts per alert before it goes to the dead-letter list",
            positive_int, "bulletin"),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> Setting:
    """The declaration of ``name`` (KeyError for an undeclared name: declare it in :data:`SETTINGS`)."""
    return _BY_NAME[name]


def get(name: str) -> Any:
    """The value of setting ``name``: parsed from the environment, or its default when unset or empty."""
    s = _BY_NAME[name]
    raw = os.environ.get(name, "").strip()
    if not raw:
        return s.default
    try:
        return s.parse(raw)
    except (ValueError, TypeError) as exc:
        raise SettingError(f"设置 {name}={raw[:60]!r} 无效 / setting {name} is invalid: {exc}") from None
