"""Data access for the 三零 command center: schema, engine, scoped query functions, CLI.

Pages and components call the functions re-exported here; nothing in this package
imports streamlit.
"""

from .engine import default_url, get_engine
from .errors import DataAccessError, InvalidParameterError, OutOfScopeError, UnknownUnitError
from .filters import EventFilter, Period, Scope, Unit, month_period, parse_period

__all__ = [
    "DataAccessError", "EventFilter", "InvalidParameterError", "OutOfScopeError", "Period", "Scope", "Unit",
    "UnknownUnitError", "default_url", "get_engine", "month_period", "parse_period",
]
