"""Engines from URLs: SQLite by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from typing import Any
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


#: PRAGMAs fupin sets itself on every SQLite connection: FUPIN_SQLITE_PRAGMAS may not change them.
_OWN_PRAGMAS = {"foreign_keys"}
_PRAGMA = re.compile(r"\s*([A-Za-z_]+)\s*=\s*(-?[0-9]+|[A-Za-z_]+)\s*")


def sqlite_pragmas() -> list[tuple[str, str]]:
    """Extra PRAGMAs for every SQLite connection, from ``FUPIN_SQLITE_PRAGMAS``.

    ``"cache_size=-200000; max_page_count=262144"``: ``NAME=VALUE`` pairs
    separated by ``;``, a value being an integer or a word. For instance
    ``max_page_count`` caps how large the database file may grow (in pages,
    4 KiB each by default): a write beyond it fails as on a full disk.
    ``foreign_keys`` is fupin's own and cannot be changed.

    Raises:
        StorageError: the setting is not of that form.
    """
    text = os.environ.get("FUPIN_SQLITE_PRAGMAS", "")
    pragmas = []
    for item in filter(str.strip, text.split(";")):
        match = _PRAGMA.fullmatch(item)
        if match is None or match[1].lower() in _OWN_PRAGMAS:
            raise StorageError(f"FUPIN_SQLITE_PRAGMAS 应为 名称=值; ... / must be NAME=VALUE; ... "
                               f"(not {', '.join(sorted(_OWN_PRAGMAS))}), not {item.strip()!r}")
        pragmas.append((match[1], match[2]))
    return pragmas


def make_engine(url: str | None = None) -> sa.Engine:
    """Create an engine for ``url`` (see :func:`database_url`).

    SQLite allows one writer at a time. A transaction that will write says so
    with the execution option ``fupin_write=True`` (see :data:`WRITE`); on
    SQLite it then takes the write lock when it begins (``BEGIN IMMEDIATE``),
    waiting up to ``FUPIN_SQLITE_TIMEOUT`` seconds (30 by default) for another
    writer to finish; the threads of this process queue for it on a lock
    first, without polling. Other transactions begin deferred and take the lock at
    their first write. Whenever the wait runs out, the error is a
    :class:`StorageError` saying the database is busy. SQLite files are put in
    WAL mode (readers and the writer never wait for each other), connections
    enforce foreign keys, and run the PRAGMAs of ``FUPIN_SQLITE_PRAGMAS`` after
    fupin's (see :func:`sqlite_pragmas`; ``journal_mode=DELETE`` turns WAL off).

    Every connection handed back to the pool is rolled back
    (``reset_on_return``); one engine serves many threads.

    Raises:
        StorageError: the URL does not parse, names another database than
            SQLite or PostgreSQL, or a driver that is not installed.
    """
    url = database_url(url)
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise StorageError(f"不是数据库地址 / not a database URL: {safe_url(url)!r}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StorageError(f"不支持的数据库 / unsupported database: {parsed.get_backend_name()} (sqlite or postgresql)")
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        # A password given in the query string goes where SQLAlchemy hides it
        # (the engine's repr, render_as_string) and passes it to libpq all the same.
        password = parsed.query.get("password")
        if password is not None and parsed.password is None:
            parsed = parsed.difference_update_query(["password"]).set(password=password if isinstance(password, str) else password[-1])
        return sa.create_engine(parsed, pool_pre_ping=True, pool_reset_on_return="rollback")
    except sa.exc.NoSuchModuleError:
        raise StorageError(f"没有这个数据库驱动 / no such database driver: {parsed.drivername} "
                           "(sqlite:///FILE or postgresql+psycopg://...)") from None
    except (sa.exc.ArgumentError, ValueError, TypeError) as exc:  # a URL setting the driver refuses
        raise StorageError(f"数据库地址无效 / invalid database URL {safe_url(parsed)}: {hide_secrets(str(exc))}") from None


class _WriterQueue:
    """One writing transaction at a time on a SQLite file, among the threads of this process.

    SQLite lets one connection write at a time; the others wait in its busy
    handler, which polls (sleeping up to 100 ms between tries), so under load
    writers are served in no order and may time out while the file is free
    most of the time. Here a writer first takes this process's lock of the
    file (waiting its turn without polling), then SQLite's (``BEGIN
    IMMEDIATE``, which waits only for other processes). The lock is released
    when the transaction ends: after its COMMIT, at its ROLLBACK, or when its
    connection is closed.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: id() of the DBAPI connection holding the lock, and its thread.
        self.holder: int | None = None
        self.thread: int | None = None

    def acquire(self, dbapi_conn: object, timeout: float, where: str) -> None:
        if self.thread == threading.get_ident() and self.holder != id(dbapi_conn):
            # Waiting would never end: the writer that holds the lock is this thread itself.
            raise StorageError(
                f"数据库正忙 / the database is busy: this thread is already writing on another connection "
                f"(a write inside a write transaction must use the transaction's connection) ({where})"
            )
        if not self.lock.acquire(timeout=timeout):
            raise StorageError(f"数据库正忙 / the database is busy: another import or edit is writing; try again ({where})")
        self.holder, self.thread = id(dbapi_conn), threading.get_ident()

    def release(self, dbapi_conn: object) -> None:
        if self.holder is not None and self.holder == id(getattr(dbapi_conn, "dbapi_connection", dbapi_conn)):
            self.holder = self.thread = None
            self.lock.release()


_queues: dict[str, _WriterQueue] = {}
_queues_lock = threading.Lock()


def _writer_queue(database: str | None) -> _WriterQueue | None:
    """The writer queue of a SQLite file (shared by every engine of this process on it); None in memory."""
    if not database or database == ":memory:" or database.startswith("file:") and "mode=memory" in database:
        return None
    path = os.path.realpath(database.removeprefix("file:").split("?", 1)[0])
    with _queues_lock:
        return _queues.setdefault(path, _WriterQueue())


def _sqlite_engine(url: str) -> sa.Engine:
    pragmas = sqlite_pragmas()
    timeout = sqlite_timeout()
    # A pool without a limit: a SQLite connection is a file handle, and a
    # thread that needs a second one must not wait for other threads to finish.
    engine = sa.create_engine(url, connect_args={"timeout": timeout}, pool_size=10, max_overflow=-1,
                              pool_reset_on_return="rollback")
    queue = _writer_queue(engine.url.database)
    wal = queue is not None and not any(name.lower() == "journal_mode" for name, _value in pragmas)
    where = safe_url(url)

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
        if wal:
            # Write-ahead log: readers never wait for the writer nor it for them,
            # so one store serves many threads. Kept in the file once set;
            # FUPIN_SQLITE_PRAGMAS=journal_mode=DELETE chooses another mode instead.
            try:
                cur.execute("PRAGMA journal_mode=WAL")
            except sqlite3.DatabaseError:
                pass  # a read-only, busy or broken file: its first real statement says so
        for name, value in pragmas:  # both checked by sqlite_pragmas: a name and a number or word
            cur.execute(f"PRAGMA {name}={value}")
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
        if not immediate:
            conn.exec_driver_sql("BEGIN")
            return
        if queue is None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        dbapi_conn = conn.connection.dbapi_connection
        queue.acquire(dbapi_conn, timeout, where)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            queue.release(dbapi_conn)
            raise

    if queue is not None:
        # The end of a transaction, whoever ends it (the Connection, the pool's
        # reset on return, a connection closed or invalidated), lets the next writer in.
        dialect = engine.dialect
        commit, rollback, close = dialect.do_commit, dialect.do_rollback, dialect.do_close

        def do_commit(dbapi_conn: Any) -> None:
            commit(dbapi_conn)
            queue.release(dbapi_conn)  # not on a failed COMMIT: the rollback that follows releases

        def do_rollback(dbapi_conn: Any) -> None:
            try:
                rollback(dbapi_conn)
            finally:
                queue.release(dbapi_conn)

        def do_close(dbapi_conn: Any) -> None:
            try:
                close(dbapi_conn)
            finally:
                queue.release(dbapi_conn)

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]
        dialect.do_close = do_close  # type: ignore[method-assign]

    @sa.event.listens_for(engine, "handle_error")
    def _environment(context: sa.engine.ExceptionContext) -> None:
        # The states of the file and the disk, said in one line; the
        # transaction is rolled back as for any error (SQLite's journal undoes a
        # commit cut short), so the database is as before.
        exc = context.original_exception
        where = safe_url(context.engine.url) if context.engine else "SQLite"
        if _is_busy(exc):
            raise StorageError(
                f"数据库正忙 / the database is busy: another import or edit is writing; try again ({where})"
            ) from None
        reason = sqlite_state(exc)
        if reason is not None:
            raise StorageError(f"{reason} ({where}: {exc})") from None

    return engine


#: SQLite's primary result codes that say something about the file or the disk, and what they mean to a user.
_SQLITE_STATES = {
    sqlite3.SQLITE_FULL: "磁盘已满 / disk full: the database cannot grow",
    sqlite3.SQLITE_NOTADB: "不是数据库文件 / not a database file (or its header is corrupt)",
    sqlite3.SQLITE_CORRUPT: "数据库文件已损坏 / the database file is corrupt",
    sqlite3.SQLITE_CANTOPEN: "无法打开数据库文件 / cannot open the database file (does its folder exist? may it be written?)",
    sqlite3.SQLITE_IOERR: "磁盘读写错误 / disk I/O error",
    sqlite3.SQLITE_READONLY: "数据库只读 / the database is read-only",
    sqlite3.SQLITE_PERM: "没有权限访问数据库文件 / no permission to use the database file",
}


def sqlite_state(exc: BaseException) -> str | None:
    """What a SQLite error says about the file or the disk (full, corrupt, not a database ...), else None.

    For the driver's own errors as well as those SQLAlchemy wraps (bulk paths
    use the driver's cursor).
    """
    code = getattr(exc, "sqlite_errorcode", None)
    return _SQLITE_STATES.get(code & 0xFF) if isinstance(code, int) else None


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
