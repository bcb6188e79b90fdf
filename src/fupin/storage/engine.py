"""Engines from URLs: SQLite by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
import re
import sqlite3
from urllib.parse import quote, unquote

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from fupin.errors import StorageError

DEFAULT_URL = "sqlite:///fupin.db"
#: Seconds a SQLite connection waits for another writer before giving up.
DEFAULT_SQLITE_TIMEOUT = 30.0
_WRITE_OPTION = "fupin_write"
#: Execution options of a connection whose transactions will write:
#: ``engine.connect().execution_options(**WRITE)``. On SQLite they take the
#: write lock at BEGIN; other backends ignore them.
WRITE = {_WRITE_OPTION: True}


def database_url(url: str | None = None) -> str:
    """The URL to use: ``url``, else ``FUPIN_DATABASE_URL``, else ``sqlite:///fupin.db``.

    ``postgresql://`` URLs are given the psycopg 3 driver.
    """
    url = url or os.environ.get("FUPIN_DATABASE_URL") or DEFAULT_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_timeout() -> float:
    """Seconds to wait for SQLite's write lock: ``FUPIN_SQLITE_TIMEOUT``, else 30."""
    text = os.environ.get("FUPIN_SQLITE_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_SQLITE_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise StorageError(f"FUPIN_SQLITE_TIMEOUT 应为秒数 / must be a number of seconds, not {text!r}")
    return seconds


def make_engine(url: str | None = None) -> sa.Engine:
    """Create an engine for ``url`` (see :func:`database_url`).

    SQLite allows one writer at a time. A transaction that will write says so
    with the execution option ``fupin_write=True`` (see :data:`WRITE`); on
    SQLite it then takes the write lock when it begins (``BEGIN IMMEDIATE``),
    waiting up to ``FUPIN_SQLITE_TIMEOUT`` seconds (30 by default) for another
    writer to finish. Other transactions begin deferred and take the lock at
    their first write. Whenever the wait runs out, the error is a
    :class:`StorageError` saying the database is busy. SQLite connections
    also enforce foreign keys.
    """
    url = database_url(url)
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise StorageError(f"不是数据库地址 / not a database URL: {safe_url(url)!r}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.get_backend_name() == "postgresql":
        # A password given in the query string goes where SQLAlchemy hides it
        # (the engine's repr, render_as_string) and passes it to libpq all the same.
        password = parsed.query.get("password")
        if password is not None and parsed.password is None:
            parsed = parsed.difference_update_query(["password"]).set(password=password if isinstance(password, str) else password[-1])
        return sa.create_engine(parsed, pool_pre_ping=True)
    raise StorageError(f"不支持的数据库 / unsupported database: {parsed.get_backend_name()} (sqlite or postgresql)")


def _sqlite_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"timeout": sqlite_timeout()})

    # SQLAlchemy's recipe for real transactions on pysqlite (see "Transactions
    # with SQLite and the sqlite3 driver" in its SQLite dialect docs): the driver
    # stops opening transactions itself (it would only do so before INSERT/
    # UPDATE/DELETE, leaving earlier reads outside the transaction and
    # savepoints and DDL half-transactional), and SQLAlchemy emits BEGIN.
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # noqa: ANN001 - DBAPI types
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    # A writing transaction takes the write lock at the start, waiting for it
    # with the busy timeout: with a deferred BEGIN it would take it at its first
    # write, and SQLite refuses at once, without waiting, to upgrade a
    # transaction that has already read while another one writes, so
    # read-then-write code (an import comparing rows) would fail at random.
    # Reading transactions stay deferred: they must not wait for a writer, nor
    # for one open in the same thread (code that reads on a second connection
    # inside a write transaction would wait on itself).
    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @sa.event.listens_for(engine, "handle_error")
    def _busy(context: sa.engine.ExceptionContext) -> None:
        if _is_busy(context.original_exception):
            where = safe_url(context.engine.url) if context.engine else "SQLite"
            raise StorageError(
                f"数据库正忙 / the database is busy: another import or edit is writing; try again ({where})"
            ) from None

    return engine


def _is_busy(exc: BaseException) -> bool:
    """Whether a DBAPI error is SQLite's SQLITE_BUSY ("database is locked")."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_BUSY
    return isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc)


#: Names of query parameters (or libpq ``key=value`` settings) whose value is a secret.
_SECRET_NAME = r"(?:[a-z_]*pass(?:word|wd)?|pwd|secret|token|api_?key)"
_SECRET_SETTING = re.compile(rf"(?i)(\b{_SECRET_NAME}\s*=\s*)('(?:[^'\\]|\\.)*'|\"[^\"]*\"|[^\s&;,'\")]+)")
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@")
HIDDEN = "***"


def hide_secrets(text: str) -> str:
    """``text`` (a message, a URL that does not parse, a libpq conninfo) with every password hidden.

    Hides the password of ``scheme://user:password@``, and the value of
    ``password=``, ``pass=``, ``pwd=``, ``sslpassword=`` ... settings, quoted or
    not, also when the text is percent-encoded (``pass%77ord=``).
    """
    text = str(text)
    if "%" in text:
        decoded = unquote(text)
        if decoded != text and (_SECRET_SETTING.search(decoded) or _USERINFO.search(decoded)):
            text = decoded  # shown decoded: hiding the encoded form would miss it
    text = _USERINFO.sub(rf"\g<1>{HIDDEN}@", text)
    return _SECRET_SETTING.sub(rf"\g<1>{HIDDEN}", text)


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden (userinfo, query parameters, libpq settings in them), for messages and logs.

    The one place URLs are made fit to print: :attr:`fupin.Store.url`, errors
    and the CLI's messages all go through it.
    """
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except Exception:  # not a URL at all (a conninfo string, garbage): hide what looks secret
        return hide_secrets(str(url))
    query = []
    for key, values in parsed.query.items():
        for value in (values,) if isinstance(values, str) else values:
            shown = HIDDEN if re.fullmatch(_SECRET_NAME, key, re.I) else hide_secrets(value)
            query.append(f"{quote(key, safe='')}={shown if shown == HIDDEN else quote(shown, safe='*=: ')}")
    text = parsed.set(query={}).render_as_string(hide_password=True)
    return hide_secrets(text + ("?" + "&".join(query) if query else ""))
