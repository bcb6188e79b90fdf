"""The shared test fixtures in fupin.testing hit real databases, isolate tests,
and refuse to let CI skip PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

import fupin
from fupin.testing import POSTGRES_URL_ENV, fresh_postgres_database


def _user_tables(conn: sa.Connection) -> list[str]:
    return sorted(sa.inspect(conn).get_table_names())


# --------------------------------------------------------------------------- #
# SQLite
# --------------------------------------------------------------------------- #


def test_sqlite_url_is_a_real_file_that_persists_across_engines(sqlite_url: str, tmp_path: Path) -> None:
    path = Path(make_url(sqlite_url).database or "")
    assert path.is_absolute() and path.parent == tmp_path.resolve()
    assert not path.exists()

    first = sa.create_engine(sqlite_url)
    with first.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (42)")
    first.dispose()
    assert path.is_file() and path.stat().st_size > 0

    second = sa.create_engine(sqlite_url)
    with second.connect() as conn:
        assert conn.exec_driver_sql("SELECT x FROM t").scalar_one() == 42
    second.dispose()


# --------------------------------------------------------------------------- #
# PostgreSQL
# --------------------------------------------------------------------------- #


@pytest.mark.postgres
def test_postgres_url_is_a_real_empty_server_database(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert "PostgreSQL" in conn.exec_driver_sql("SELECT version()").scalar_one()
            assert conn.exec_driver_sql("SELECT current_database()").scalar_one().startswith("fupin_t_")
            assert _user_tables(conn) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_databases_are_isolated_and_dropped(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE only_here (x integer)")
            assert _user_tables(conn) == ["only_here"]

        with fresh_postgres_database() as other_url:
            assert other_url != postgres_url
            other_name = make_url(other_url).database
            other = sa.create_engine(other_url)
            with other.connect() as conn:
                assert _user_tables(conn) == []
            # Left open on purpose: the drop must cope with open connections.
            leftover = other.connect()

        with engine.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": other_name}
            ).scalar_one()
            assert exists == 0
        leftover.invalidate()
        other.dispose()
    finally:
        engine.dispose()


def test_database_url_gives_a_working_empty_database(database_url: str, request: pytest.FixtureRequest) -> None:
    backend = request.node.callspec.params["database_url"]
    assert make_url(database_url).get_backend_name() == backend
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            assert _user_tables(conn) == []
            conn.exec_driver_sql("CREATE TABLE t (x integer)")
            conn.exec_driver_sql("INSERT INTO t VALUES (7)")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT x FROM t").scalar_one() == 7
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- #
# Missing server: skip locally, FAIL in CI
# --------------------------------------------------------------------------- #

_PROBE = textwrap.dedent(
    """
    def test_needs_postgres(postgres_url):
        assert postgres_url

    def test_both_backends(database_url):
        assert database_url
    """
)


def _run_probe(tmp_path: Path, ci: str | None, *extra: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # isolate from the repo's config
    (tmp_path / "test_probe.py").write_text(_PROBE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop(POSTGRES_URL_ENV, None)
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    src = str(Path(fupin.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
         "-rA", "--strict-markers", *extra, "test_probe.py"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )


def test_missing_postgres_fails_in_ci(tmp_path: Path) -> None:
    proc = _run_probe(tmp_path, "true")
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, out
    assert "PostgreSQL tests must not skip in CI" in out
    summary = out.strip().splitlines()[-1]
    assert "1 passed" in summary and "2 error" in summary and "skipped" not in summary, out


def test_missing_postgres_skips_outside_ci(tmp_path: Path) -> None:
    proc = _run_probe(tmp_path, "false")
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.OK, out
    summary = out.strip().splitlines()[-1]
    assert "1 passed" in summary and "2 skipped" in summary, out


def test_postgres_tests_are_deselectable_by_marker(tmp_path: Path) -> None:
    proc = _run_probe(tmp_path, "true", "-m", "not postgres")
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.OK, out
    summary = out.strip().splitlines()[-1]
    assert "1 passed" in summary and "2 deselected" in summary, out
