"""Data access for the 三零 command center. Nothing in this package imports Streamlit.

Sub-packages by what the code does:

* ``db``        engine set-up, schema + Alembic migrations, engine-specific SQL, rollups, integrity check
* ``queries``   scoped read queries, one public function per figure (events, 三零, patrol, warnings, …)
* ``importers`` boundary and event files, every row accounted for
* ``accounts``  users, sessions, wall tokens, audit trail
* ``demo``      the deterministic demo generator (also the test fixture builder) and the live simulator

Beside them: ``filters`` (Scope, Unit, Period, EventFilter), ``vocab`` (codes and Chinese labels),
``workdays`` (Chinese working days), ``errors`` and the CLI (``python -m data_access``).
"""

from data_access.db.engine import default_url, get_engine, ping, unavailable
from data_access.db.version import bump_data_version, data_version
from data_access.errors import (
    DataAccessError,
    DatabaseUnavailableError,
    InvalidParameterError,
    OutOfScopeError,
    UnknownUnitError,
)
from data_access.filters import EventFilter, Period, Scope, Unit, month_period, parse_period

__all__ = [
    "DataAccessError", "DatabaseUnavailableError", "EventFilter", "InvalidParameterError", "OutOfScopeError",
    "Period", "Scope", "Unit", "UnknownUnitError", "bump_data_version", "data_version", "default_url", "get_engine",
    "month_period", "parse_period", "ping", "unavailable",
]
