"""Pytest fixtures for fupin core and plugin tests.

A pytest plugin, registered through the ``pytest11`` entry point of fupin's
``pyproject.toml``: installing fupin is enough for any test suite (this
repository's, a first-party plugin's, a department's own plugin outside it) to
get these fixtures, with no ``conftest.py`` and no ``pytest_plugins`` line
(naming it again would register it twice). ``-p no:fupin`` turns it off. Only
pytest imports this module.

Databases are real: SQLite is a file under ``tmp_path``; PostgreSQL is the
server named by ``FUPIN_TEST_POSTGRES_URL`` (``scripts/with-postgres`` starts a
throwaway one and sets it), and every test gets its own freshly created,
empty database, dropped afterwards.

When ``FUPIN_TEST_POSTGRES_URL`` is unset, PostgreSQL tests are *skipped*
locally but *fail* when the ``CI`` environment variable is set, so CI can never
go green without having tested PostgreSQL.

Fixtures (all yield SQLAlchemy URL strings; tests make their own engines and
should dispose them):

``database_url``
    Parametrized: ``[sqlite]`` and ``[postgresql]`` (the latter carries the
    ``postgres`` marker, so ``-m "not postgres"`` deselects it).
``sqlite_url``
    Only the SQLite file variant.
``postgres_url``
    Only the PostgreSQL variant.

Helpers: :func:`fresh_postgres_database` (context manager giving another
fresh database on the same server), :func:`postgres_base_url`, :func:`in_ci`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy
import pytest
from click.testing import CliRunner, Result
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from fupin.store import Store

__all__ = [
    "cli",
    "pm",
    "store",
    "POSTGRES_URL_ENV",
    "database_url",
    "fresh_postgres_database",
    "in_ci",
    "postgres_base_url",
    "postgres_url",
    "sqlite_file_url",
    "sqlite_url",
]

#: Environment variable naming the PostgreSQL server used by tests. Its
#: database is only used as the maintenance connection for CREATE/DROP DATABASE.
POSTGRES_URL_ENV = "FUPIN_TEST_POSTGRES_URL"

#: Prefix of the per-test databases (``fupin_t_<12 hex digits>``).
DATABASE_PREFIX = "fupin_t_"

_FALSEY = {"", "0", "false", "no", "off"}


def pytest_configure(config: pytest.Config) -> None:
    # Also registered in pyproject.toml; registering here keeps --strict-markers
    # happy in plugin repositories that load this module without our config.
    config.addinivalue_line(
        "markers", "postgres: needs a real PostgreSQL server (FUPIN_TEST_POSTGRES_URL)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests using ``postgres_url`` are PostgreSQL tests even without an explicit
    # marker, so ``-m "not postgres"`` deselects them too.
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to something truthy."""
    return os.environ.get("CI", "").strip().lower() not in _FALSEY


def postgres_base_url() -> str:
    """The server URL from ``FUPIN_TEST_POSTGRES_URL``.

    If unset: fails the current test under CI, skips it otherwise. Call only
    from inside a test or fixture.
    """
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if url:
        return url
    msg = (
        f"{POSTGRES_URL_ENV} is not set: no PostgreSQL server to test against "
        "(run the tests through scripts/with-postgres, e.g. `make test`)"
    )
    if in_ci():
        pytest.fail(f"{msg}; PostgreSQL tests must not skip in CI", pytrace=False)
    pytest.skip(msg)


def sqlite_file_url(directory: Path | str, name: str = "fupin.db") -> str:
    """URL of a real SQLite file ``name`` in ``directory``."""
    return f"sqlite:///{Path(directory).resolve() / name}"


def _admin_engine(base_url: str) -> sa.Engine:
    return sa.create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


@contextmanager
def fresh_postgres_database(base_url: str | None = None) -> Iterator[str]:
    """Create a new, empty database on the server of ``base_url``; yield its URL.

    ``base_url`` defaults to :func:`postgres_base_url` (so it fails/skips like
    the fixtures when no server is configured). The database is created from
    ``template0`` (pristine: nothing a server admin installed into
    ``template1`` leaks in, and no "template1 is being accessed by other users"
    errors) and dropped ``WITH (FORCE)`` on exit, which also kills any
    connection a test left open.
    """
    if base_url is None:
        base_url = postgres_base_url()
    url = make_url(base_url)
    name = f"{DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(base_url)
    try:
        with admin.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.exec_driver_sql(f"CREATE DATABASE {quoted} TEMPLATE template0 ENCODING 'UTF8'")
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                version = conn.dialect.server_version_info or (0,)
                if version >= (13,):
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
                else:  # pragma: no cover - PostgreSQL < 13
                    conn.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": name},
                    )
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")
    finally:
        admin.dispose()


# --------------------------------------------------------------------------- #
# Database fixtures
# --------------------------------------------------------------------------- #


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgresql"],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend: ``[sqlite]`` and ``[postgresql]``."""
    if request.param == "sqlite":
        yield sqlite_file_url(tmp_path)
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file (does not exist yet) under ``tmp_path``."""
    return sqlite_file_url(tmp_path)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test.

    Skips without ``FUPIN_TEST_POSTGRES_URL``; fails instead under CI.
    Tests using it get the ``postgres`` marker automatically.
    """
    with fresh_postgres_database() as url:
        yield url


# --------------------------------------------------------------------------- #
# Plugin manager, CLI and store
# --------------------------------------------------------------------------- #


#: The actor tests run as: the store fixture's, and the CLI's and Store.open's default.
TEST_ACTOR = "TEST:tester"


@pytest.fixture(autouse=True)
def _test_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test acts as TEST:tester unless it says otherwise (--as, actor=...)."""
    monkeypatch.setenv("FUPIN_ACTOR", TEST_ACTOR)


@pytest.fixture
def pm() -> pluggy.PluginManager:
    """A fresh plugin manager with the built-in plugins only: installed plugins can't leak in.

    Register a test's own plugin with ``pm.register(MyPlugin(), name="mine")``.
    """
    from fupin.plugins import get_plugin_manager

    return get_plugin_manager(load_entrypoints=False)


@pytest.fixture
def cli(pm: pluggy.PluginManager) -> Callable[..., Result]:
    """Run the ``fupin`` command line in-process: ``cli("--db", url, "init")``.

    Returns click's Result; exceptions other than exits are kept on
    ``result.exception`` (a user error must never leave one there).
    """
    from fupin.cli import make_cli

    command = make_cli(pm)

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(command, list(args), input=input, env=env)

    return invoke


@pytest.fixture
def store(database_url: str, pm: pluggy.PluginManager) -> Iterator[Store]:
    """An initialised store on ``database_url`` (so on SQLite and PostgreSQL), acting as ``TEST:tester``."""
    from fupin.store import Actor, Store

    with Store.open(database_url, pm=pm, actor=Actor.parse(TEST_ACTOR)) as opened:
        opened.init()
        yield opened
