"""The project's own errors; database errors are raised again as these."""

from __future__ import annotations


class DataAccessError(Exception):
    """Base class: something the caller should show as a clear message."""


class UnknownUnitError(DataAccessError):
    """A unit code that is malformed or not in the database."""

    def __init__(self, code: object):
        super().__init__(f"未知的网格单位 / unknown unit: {code!r}")
        self.code = code


class OutOfScopeError(DataAccessError):
    """The caller's scope does not include the requested unit."""

    def __init__(self, code: str):
        super().__init__(f"无权查看该单位 / unit outside your scope: {code}")
        self.code = code


class InvalidParameterError(DataAccessError):
    """A filter or period value that fails validation."""


class DatabaseUnavailableError(DataAccessError):
    """The database cannot be reached (restart, network blip)."""


class DatabaseError(DataAccessError):
    """Any other database failure, with its first line only (never the statement's parameters)."""


class DataConflictError(DatabaseError):
    """A write broke a uniqueness or other constraint (e.g. a user name that already exists)."""
