"""How a command-line tool ends on an error: one Chinese/English line on stderr, a non-zero exit.

``python -m data_access`` and ``python -m reports`` run their command through :func:`run`. An
operator never sees a traceback (which would quote SQL, parameters — a password hash — and paths
deep in the code): a database error leaves as the project's error (see
:mod:`data_access.db.connection`), a bad value, a missing file or an unreachable database as one
line saying so. Exit 2: the command could not do its work (bad input, database away); exit 1: an
unexpected error (a bug; its type is named so it can be reported); 130: interrupted.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)


def message(exc: BaseException) -> tuple[str, int]:
    """The one-line message for ``exc`` and the exit code."""
    from sqlalchemy import exc as sa_exc

    from common.settings import SettingError
    from data_access.db.connection import translate
    from data_access.errors import DataAccessError

    if isinstance(exc, DataAccessError | SettingError):
        return str(exc), 2
    if isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError):
        return str(translate(exc)), 2
    if isinstance(exc, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return f"数据库地址无效 / invalid database URL: {_first_line(exc)}", 2
    if isinstance(exc, FileNotFoundError):
        return f"文件不存在 / file not found: {exc.filename or _first_line(exc)}", 2
    if isinstance(exc, IsADirectoryError | PermissionError | NotADirectoryError):
        return f"无法读写文件 / cannot use file: {exc.filename or ''} ({exc.strerror})", 2
    if isinstance(exc, EOFError):
        return "没有输入 / no input (for a password use --password-stdin)", 2
    if isinstance(exc, ValueError):
        return f"参数无效 / invalid value: {_first_line(exc)}", 2
    if isinstance(exc, OSError):
        return f"系统错误 / system error: {exc.strerror or _first_line(exc)}", 2
    return f"意外错误 / unexpected error ({type(exc).__name__}): {_first_line(exc)}", 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def run(command: Callable[[], int]) -> int:
    """``command()``'s exit code; on an error its message on stderr and a non-zero code, no traceback."""
    try:
        return command()
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the operator gets one line; the cause stays in the debug log
        text, code = message(exc)
        log.debug("command failed", exc_info=exc)
        print(f"错误 / error: {text}", file=sys.stderr)
        return code
