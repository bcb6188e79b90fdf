"""Turning an exception into one bilingual line and an exit status, for the command line and platforms.

:func:`describe_failure` is public as ``fupin.describe_failure``; the storage
helpers it uses (the SQLite state, hiding passwords) stay internal behind it.
"""

from __future__ import annotations

import errno
import sqlite3
import sys

import sqlalchemy.exc

from fupin.errors import FupinError

__all__ = ["INTERNAL_ERROR", "describe_failure", "describe_os_error"]

#: Exit status of an internal error (a bug in fupin or a plugin): sysexits.h's EX_SOFTWARE. Not 1-4,
#: which each tell the user what to fix (data, command, permission, environment): there is nothing to fix but the code.
INTERNAL_ERROR = 70

#: What an operating-system error means to a user, by errno.
_OS_REASONS = {
    errno.ENOSPC: "磁盘已满 / disk full",
    errno.EDQUOT: "磁盘配额已满 / disk quota exceeded",
    errno.EFBIG: "文件超过允许的大小 / file too large for this system or its limits",
    errno.EACCES: "没有权限 / permission denied",
    errno.EPERM: "不允许的操作 / operation not permitted",
    errno.EROFS: "只读文件系统 / read-only file system",
    errno.ENOENT: "文件或目录不存在 / no such file or directory",
    errno.ENOTDIR: "路径中有不是目录的部分 / a part of the path is not a directory",
    errno.EISDIR: "是目录 / is a directory",
    errno.EIO: "磁盘读写错误 / input/output error",
}


def describe_failure(exc: BaseException, url: str | None = None) -> tuple[str, int]:
    """The one line (中文 / english) and the exit status the command line gives for ``exc``.

    ``FupinError``: its message and ``exit_code``. The environment, exit 4: a
    database error (SQLAlchemy's, or the driver's own: unreachable, corrupt,
    full, a session ended; PostgreSQL's "permission denied", SQLSTATE 42501,
    is exit 3), a database URL SQLAlchemy refuses, an operating-system error
    (disk full, permission denied, no such file ...), memory exhausted.
    Anything else is a bug: "内部错误 / internal error", exit
    :data:`INTERNAL_ERROR` (70). ``url`` is the database URL, shown with its
    password hidden. A platform may log the line and map the status to its own
    (e.g. HTTP): 1 refused data, 2 usage, 3 permission, 4 environment, 70 a bug.
    """
    if isinstance(exc, FupinError):
        return _one_line(exc), exc.exit_code
    where = _safe(url) if url else "the database"
    driver = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None else exc
    if isinstance(exc, sqlalchemy.exc.DBAPIError) or _is_driver_error(driver):
        from fupin.storage.engine import sqlite_state

        state = sqlite_state(driver)
        if state is not None:
            return f"{state} ({where}: {_one_line(driver)})", 4
        sqlstate = str(getattr(driver, "sqlstate", "") or "")
        if sqlstate == "42501":
            return f"数据库拒绝: 没有权限 / the database refused: permission denied ({where}): {_one_line(driver)}", 3
        if sqlstate.startswith("53"):  # insufficient resources: disk full, out of memory, too many connections
            return f"数据库服务器资源不足 / the database server ran out of resources ({where}): {_one_line(driver)}", 4
        # Unreachable, refused the URL's settings or the statement, the session ended: say which (password hidden) and why.
        return f"数据库错误 / database error ({where}): {_one_line(driver)}", 4
    if isinstance(exc, sqlalchemy.exc.ArgumentError):  # NoSuchModuleError too: a driver that is not installed
        return f"数据库地址无效 / invalid database URL ({where}): {_one_line(exc)}", 4
    if isinstance(exc, OSError):
        name = f": {exc.filename}" if exc.filename is not None else ""
        return f"{describe_os_error(exc)}{name}", 4
    if isinstance(exc, MemoryError):
        return "内存不足 / out of memory", 4
    return (f"内部错误 / internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(please report; FUPIN_DEBUG=1 shows the traceback)", INTERNAL_ERROR)


def describe_os_error(exc: OSError) -> str:
    """What an operating-system error means to a user, in one bilingual phrase (by its errno: disk full, ...)."""
    return _OS_REASONS.get(exc.errno or 0) or f"操作系统错误 / system error: {exc.strerror or _one_line(exc)}"


def _is_driver_error(exc: BaseException) -> bool:
    # Errors raised by the drivers themselves, not wrapped by SQLAlchemy: alembic's
    # and COPY's (run on the psycopg cursor) come so.
    if isinstance(exc, sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")  # loaded if PostgreSQL was used: never imported just to ask
    return psycopg is not None and isinstance(exc, psycopg.Error)


def _one_line(exc: BaseException) -> str:
    from fupin.storage.engine import hide_secrets

    # A driver's message may quote the connection settings: never their password.
    return " ".join(hide_secrets(str(exc)).split())


def _safe(url: str) -> str:
    from fupin.storage.engine import safe_url

    try:
        return safe_url(url)
    except Exception:  # not even a URL: show nothing of it
        return "the database"
