"""Engines from URLs: SQLite by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

import os

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from fupin.errors import StorageError

DEFAULT_URL = "sqlite:///fupin.db"


def database_url(url: str | None = None) -> str:
    """The URL to use: ``url``, else ``FUPIN_DATABASE_URL``, else ``sqlite:///fupin.db``.

    ``postgresql://`` URLs are given the psycopg 3 driver.
    """
    url = url or os.environ.get("FUPIN_DATABASE_URL") or DEFAULT_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None) -> sa.Engine:
    """Create an engine for ``url`` (see :func:`database_url`).

    SQLite connections enforce foreign keys and wait up to 30 s for a lock
    instead of failing at once when another process writes.
    """
    url = database_url(url)
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise StorageError(f"不是数据库地址 / not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001 - DBAPI types
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(url, pool_pre_ping=True)
    raise StorageError(f"不支持的数据库 / unsupported database: {parsed.get_backend_name()} (sqlite or postgresql)")


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
