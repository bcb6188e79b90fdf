"""What every command shares: the context, ``pass_store``, ``echo_json`` and failure handling.

Whatever goes wrong after the options are parsed becomes one line on stderr and
an exit status (:func:`failure`; the exit codes are listed in ``fupin --help``
and the README); no error prints a traceback unless ``FUPIN_DEBUG=1``.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy.exc

from fupin.errors import FupinError, StorageError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Context:
    """What every command may need: the plugin manager, and a store opened on first use."""

    def __init__(self, pm: Any, db: str | None, actor: str | None) -> None:
        self.pm = pm
        self.db = db
        self.actor_text = actor
        self._store: Any = None

    def store(self, *, init: bool = False) -> Any:
        from fupin.store import Actor, Store

        if self._store is None:
            requested = Actor.parse(self.actor_text) if self.actor_text else None
            opened = Store.open(self.db, pm=self.pm)
            click.get_current_context().call_on_close(opened.close)
            if not init and not opened.is_initialised():
                raise StorageError(f"数据库未初始化 / database not initialised: {opened.url} (run `fupin init`)")
            # Who acts: on PostgreSQL the login decides (--as chooses among its users), on SQLite --as says.
            self._store = opened.acting_as(opened.login_actor(requested))
        return self._store


def pass_store(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for commands (plugins' too): passes the opened, initialised store first."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(click.get_current_context().find_object(Context).store(), *args, **kwargs)

    return wrapper


#: ``ctx.meta`` keys: the arguments after the group's options, and whether a JSON document was printed.
_ARGS = "fupin.args"
_JSON_PRINTED = "fupin.json_printed"


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[_JSON_PRINTED] = True  # a failure after it prints no second document


class _Failed(click.ClickException):
    """A one-line message with the exit status its cause has (``FupinError.exit_code``)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class FupinGroup(click.Group):
    """Turns every error into one line on stderr and an exit status, never a traceback.

    The status is the one :func:`failure` gives. With ``--json`` among the
    arguments, a command that failed before printing its JSON document prints
    ``{"error": ..., "exit_code": ...}`` on stdout, so stdout always parses.
    ``FUPIN_DEBUG=1`` also prints the traceback, for developers.
    """

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        ctx.meta[_ARGS] = list(args)  # the command's own arguments, for the failure's JSON document
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # a reader that went away (fupin export | head): click ends quietly
            obj = ctx.find_object(Context)
            message, code = failure(exc, obj.db if obj is not None else None)
            if debugging():
                traceback.print_exc()
            if _wants_json(ctx.meta.get(_ARGS, [])) and not ctx.meta.get(_JSON_PRINTED):
                echo_json({"error": message, "exit_code": code})
            raise _Failed(message, code) from None


def _wants_json(args: list[str]) -> bool:
    """Whether the command was asked for JSON: ``--json``, or ``--format json`` (``fupin report``)."""
    pairs = zip(args, args[1:])
    return "--json" in args or "--format=json" in args or ("--format", "json") in pairs


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


def debugging() -> bool:
    """Whether ``FUPIN_DEBUG`` asks for tracebacks (any value but empty, 0, false, no, off)."""
    return os.environ.get("FUPIN_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def failure(exc: BaseException, db: str | None = None) -> tuple[str, int]:
    """The one line and the exit status the command line gives for ``exc``.

    ``FupinError``: its message and ``exit_code``. The environment, exit 4: a
    database error (SQLAlchemy's, or the driver's own: unreachable, corrupt,
    full, a session ended; PostgreSQL's "permission denied", SQLSTATE 42501,
    is exit 3), a database URL SQLAlchemy refuses, an operating-system error
    (disk full, permission denied, no such file ...), memory exhausted.
    Anything else is a bug: "内部错误 / internal error", exit
    :data:`INTERNAL_ERROR` (70). ``db`` is the ``--db`` URL, shown with its
    password hidden.
    """
    if isinstance(exc, FupinError):
        return _one_line(exc), exc.exit_code
    where = _safe(db) if db else "the database"
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
        return f"{os_reason(exc)}{name}", 4
    if isinstance(exc, MemoryError):
        return "内存不足 / out of memory", 4
    return (f"内部错误 / internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(please report; FUPIN_DEBUG=1 shows the traceback)", INTERNAL_ERROR)


def os_reason(exc: OSError) -> str:
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
