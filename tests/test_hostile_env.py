"""The command line in a hostile environment (issue #15): whatever the database, URL, disk or option, one line and an exit code.

Every case runs the real ``fupin`` command line: in-process through click's runner
(the ``cli`` fixture), or, where it could hang or where the interpreter itself
would print, the installed script in a subprocess with a timeout. Each asserts
the exit status, one line on stderr, no traceback anywhere, and for ``--json``
one JSON document on stdout. Databases, files and locks are real: a corrupt file
is random bytes or a cut real database, a full disk is SQLite's own page limit
(``FUPIN_SQLITE_PRAGMAS=max_page_count=N``) or the process's file-size limit
(``RLIMIT_FSIZE``), a full device is ``/dev/full``, a lock is held by this process.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import resource
import socket
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import click
import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from fupin import hookimpl
from fupin.cli import make_cli

FUPIN = Path(sys.executable).with_name("fupin")
HEADER_ROW = ["文件 file", "行 row", "列 column", "值 value", "原因 reason"]


# -- what every outcome must look like ----------------------------------------------------


def outcome(result: Result | subprocess.CompletedProcess[str], exit_code: int, *, lines: int = 1) -> str:
    """Assert the exit status, ``lines`` lines on stderr (the first one 'Error: ...') and no traceback; return that line."""
    code = result.exit_code if isinstance(result, Result) else result.returncode
    assert code == exit_code, (result.stdout, result.stderr)
    if isinstance(result, Result):  # anything but an exit would be an exception click's runner caught
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    err = result.stderr.strip().splitlines()
    assert len(err) == lines and err[0].startswith("Error: "), result.stderr
    return err[0]


def document(result: Result | subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """stdout as exactly one JSON document (json.loads refuses anything after it)."""
    return json.loads(result.stdout)


def errors_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def households(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM households")).scalar_one()
    finally:
        engine.dispose()


def run_fupin(*args: str, env: dict[str, str] | None = None, limit_file_size: int | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed script in a fresh process (env added to this one's), optionally with a file-size limit."""

    def limited() -> None:  # Python ignores SIGXFSZ: a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.run([str(FUPIN), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, preexec_fn=limited if limit_file_size else None)


# -- a register to import --------------------------------------------------------------------


@pytest.fixture
def register(tmp_path: Path, cli) -> dict[str, Path]:
    """Synthetic import files (200 households), and the first 10 households as a file of their own."""
    folder = tmp_path / "register"
    assert cli("synth", "--households", "200", "--seed", "15", "--output", str(folder)).exit_code == 0
    lines = (folder / "households.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    first = folder / "first.csv"
    first.write_text("".join(lines[:11]), encoding="utf-8")
    return {"areas": folder / "areas.csv", "households": folder / "households.csv", "first": first}


def loaded(url: str, cli, register: dict[str, Path]) -> str:
    """``url`` initialised, with the areas and the first 10 households imported."""
    for args in (("init",), ("import", "areas", str(register["areas"])), ("import", "households", str(register["first"]))):
        result = cli("--db", url, *args)
        assert result.exit_code == 0, result.output
    assert households(url) == 10
    return url


@pytest.fixture
def db(sqlite_url: str, cli, register: dict[str, Path]) -> str:
    """A SQLite database holding the areas and 10 households."""
    return loaded(sqlite_url, cli, register)


def db_path(url: str) -> Path:
    return Path(make_url(url).database)


def intact(url: str, cli, count: int = 10) -> None:
    """The database opens, holds ``count`` households, and its audit log verifies."""
    assert households(url) == count
    result = cli("--db", url, "audit", "verify")
    assert result.exit_code == 0, result.output


# -- 1. the database file is not a database -------------------------------------------------


def corrupt(kind: str, tmp_path: Path, cli) -> Path:
    path = tmp_path / "corrupt.db"
    if kind == "random bytes":
        path.write_bytes(random.Random(15).randbytes(16384))
    elif kind == "truncated":
        real = tmp_path / "real.db"
        assert cli("--db", f"sqlite:///{real}", "init").exit_code == 0
        path.write_bytes(real.read_bytes()[:20000])  # the header and schema survive, the tables' pages do not
    elif kind == "text":
        path.write_text("这不是数据库 / this is not a database\n" * 100, encoding="utf-8")
    elif kind == "directory":
        path.mkdir()
    else:
        path = tmp_path / "no such folder" / "x.db"
    return path


@pytest.mark.parametrize("kind", ["random bytes", "truncated", "text", "directory", "missing folder"])
class TestNotADatabase:
    def test_import_is_one_line_and_one_document(self, kind: str, tmp_path: Path, cli, register) -> None:
        """An import into it: exit 4, one line, the JSON document with the error, the errors file with its header."""
        path = corrupt(kind, tmp_path, cli)
        before = path.read_bytes() if path.is_file() else None
        errors = tmp_path / "errors.csv"
        result = cli("--db", f"sqlite:///{path}", "import", "households", str(register["first"]), "--json", "--errors", str(errors))
        outcome(result, 4)
        doc = document(result)
        assert doc["exit_code"] == 4 and doc["error"] and doc["committed"] is False and doc["kind"] == "households"
        assert doc["files"] == [] and doc["errors"] == []  # not the file's fault: the reason is "error"
        assert errors_csv(errors) == [HEADER_ROW]
        if before is not None:
            assert path.read_bytes() == before  # nothing written into it

    def test_init_refuses_it(self, kind: str, tmp_path: Path, cli) -> None:
        """`fupin init` does not overwrite it, nor crash on it."""
        path = corrupt(kind, tmp_path, cli)
        before = path.read_bytes() if path.is_file() else None
        outcome(cli("--db", f"sqlite:///{path}", "init"), 4)
        if before is not None:
            assert path.read_bytes() == before

    def test_other_json_commands_print_a_document(self, kind: str, tmp_path: Path, cli) -> None:
        """Commands other than import print {"error", "exit_code"} when they fail before their own document."""
        url = f"sqlite:///{corrupt(kind, tmp_path, cli)}"
        for args in (("users", "list", "--json"), ("check", "--year", "2016", "--json"), ("report", "--year", "2016", "--format", "json")):
            result = cli("--db", url, *args)
            line = outcome(result, 4)
            assert document(result) == {"error": line.removeprefix("Error: "), "exit_code": 4}


def test_each_state_named(tmp_path: Path, cli, register) -> None:
    """Random bytes are "not a database file", a directory or a missing folder "cannot open"."""
    for kind, said in (("random bytes", "不是数据库文件 / not a database file"), ("text", "不是数据库文件 / not a database file"),
                       ("directory", "无法打开数据库文件 / cannot open"), ("missing folder", "无法打开数据库文件 / cannot open")):
        folder = tmp_path / kind.replace(" ", "-")
        folder.mkdir()
        path = corrupt(kind, folder, cli)
        line = outcome(cli("--db", f"sqlite:///{path}", "import", "households", str(register["first"])), 4)
        assert said in line, line


# -- 2. database URLs ----------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "postgresql://clerk:s3cret@:x/fupin",  # a port that is not a number
    "postgresql://clerk:s3cret@127.0.0.1:99999999/fupin",
    "nonsense",
    "://",
    "mysql://clerk:s3cret@localhost/fupin",  # a database fupin does not support
    "mysql+mysqldb://clerk:s3cret@localhost/fupin",  # ... whose driver is not installed either
    "sqlite+nodriver:///x.db",
    "postgresql+nodriver://clerk:s3cret@localhost/fupin",
])
def test_malformed_url(url: str, cli, register) -> None:
    """A URL that is malformed or names what is not installed: exit 4, one line, the password never shown."""
    result = cli("--db", url, "import", "households", str(register["first"]), "--json")
    line = outcome(result, 4)
    assert "s3cret" not in result.stdout + result.stderr
    assert document(result)["error"] == line.removeprefix("Error: ")


def test_url_from_the_environment(cli) -> None:
    """FUPIN_DATABASE_URL is checked the same way."""
    assert "not a database URL" in outcome(cli("whoami", env={"FUPIN_DATABASE_URL": "nonsense"}), 4)


@pytest.mark.parametrize("name, value", [
    ("FUPIN_SQLITE_TIMEOUT", "soon"),
    ("FUPIN_SQLITE_PRAGMAS", "foreign_keys=OFF"),
    ("FUPIN_SQLITE_PRAGMAS", "max_page_count=1; DROP TABLE households"),
])
def test_bad_setting(name: str, value: str, db: str, cli) -> None:
    """A database setting in the environment that is wrong: exit 4, one line naming it."""
    assert name in outcome(cli("--db", db, "whoami", env={name: value}), 4)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestPostgresGone:
    def test_nothing_listens(self, postgres_url: str, cli, register) -> None:
        """A port where no server listens: exit 4, one line, the document."""
        url = make_url(postgres_url).set(host="127.0.0.1", port=free_port()).render_as_string(hide_password=False)
        result = cli("--db", url, "import", "households", str(register["first"]), "--json")
        assert "数据库错误 / database error" in outcome(result, 4)
        assert document(result)["exit_code"] == 4

    def test_no_such_database(self, postgres_url: str, cli) -> None:
        """A server that has no such database: exit 4, one line."""
        url = make_url(postgres_url).set(database="fupin_no_such_database").render_as_string(hide_password=False)
        assert "fupin_no_such_database" in outcome(cli("--db", url, "whoami"), 4)

    def test_session_ended_mid_import(self, postgres_url: str, cli, register) -> None:
        """The server ends the import's session while it runs: exit 4, one line, the document, nothing written."""
        loaded(postgres_url, cli, register)
        engine = sa.create_engine(postgres_url)
        try:
            with engine.connect() as locker, engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
                mine = {locker.execute(sa.text("SELECT pg_backend_pid()")).scalar_one(),
                        watcher.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()}
                # The import stops at the table this transaction holds: then its session is ended.
                locker.execute(sa.text("LOCK TABLE households IN ACCESS EXCLUSIVE MODE"))
                proc = subprocess.Popen([str(FUPIN), "--db", postgres_url, "import", "households", str(register["households"]), "--json"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                try:
                    deadline = time.monotonic() + 60
                    waiting = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    while not watcher.execute(sa.text(waiting)).first():
                        assert proc.poll() is None, proc.communicate()
                        assert time.monotonic() < deadline, "the import never reached the locked table"
                        time.sleep(0.1)
                    ended = watcher.execute(sa.text(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND NOT pid = ANY(:mine)"), {"mine": list(mine)}).scalar_one()
                    assert ended >= 1
                    out, err = proc.communicate(timeout=60)
                finally:
                    proc.kill()
                    proc.wait()
                locker.rollback()
        finally:
            engine.dispose()
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        assert "数据库错误 / database error" in outcome(result, 4)
        assert document(result)["exit_code"] == 4 and document(result)["committed"] is False
        intact(postgres_url, cli)


# -- 3. a database another process is writing ----------------------------------------------


class TestLocked:
    @pytest.mark.parametrize("begin", ["BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"])
    def test_busy_after_the_timeout(self, begin: str, db: str, cli, register) -> None:
        """Another process holds the write lock: the import waits FUPIN_SQLITE_TIMEOUT, then says busy (exit 4)."""
        holder = sqlite3.connect(db_path(db), isolation_level=None)
        try:
            holder.execute(begin)
            started = time.monotonic()
            result = run_fupin("--db", db, "import", "households", str(register["households"]), "--json",
                               env={"FUPIN_SQLITE_TIMEOUT": "1"}, timeout=60)
            assert time.monotonic() - started < 30  # the timeout, not for ever
            assert "数据库正忙 / the database is busy" in outcome(result, 4)
            assert document(result)["exit_code"] == 4
        finally:
            holder.rollback()
            holder.close()
        intact(db, cli)
        assert cli("--db", db, "import", "households", str(register["households"])).exit_code == 0  # free again: it works
        assert households(db) == 200

    def test_readers_wait_for_an_exclusive_lock(self, db: str) -> None:
        """A reading command on a database locked exclusively says busy too, after the timeout."""
        holder = sqlite3.connect(db_path(db), isolation_level=None)
        try:
            # fupin's files are in WAL mode, where readers pass a writer's EXCLUSIVE
            # lock; only an exclusive locking mode keeps them out.
            holder.execute("PRAGMA locking_mode=EXCLUSIVE")
            holder.execute("BEGIN EXCLUSIVE")
            assert "busy" in outcome(run_fupin("--db", db, "whoami", env={"FUPIN_SQLITE_TIMEOUT": "1"}, timeout=60), 4)
        finally:
            holder.rollback()
            holder.close()


# -- 4. a full disk -------------------------------------------------------------------------


class TestDiskFull:
    def test_database_cannot_grow(self, db: str, cli, register) -> None:
        """SQLite's page limit reached mid-import: disk full, exit 4; the database is as before and verifies."""
        pages = sqlite3.connect(db_path(db)).execute("PRAGMA page_count").fetchone()[0]
        before = db_path(db).read_bytes()
        result = cli("--db", db, "import", "households", str(register["households"]), "--json",
                     env={"FUPIN_SQLITE_PRAGMAS": f"max_page_count={pages + 2}"})
        assert "磁盘已满 / disk full" in outcome(result, 4)
        doc = document(result)
        assert doc["exit_code"] == 4 and doc["committed"] is False and "disk full" in doc["error"]
        assert db_path(db).read_bytes() == before
        intact(db, cli)
        assert cli("--db", db, "import", "households", str(register["households"])).exit_code == 0
        assert households(db) == 200

    def test_file_size_limit(self, db: str, cli, register) -> None:
        """The file may not grow (the process's file-size limit): exit 4, one line, nothing half-written."""
        # Two pages: the write-ahead log (WAL mode) cannot grow past them, nor the database file.
        result = run_fupin("--db", db, "import", "households", str(register["households"]), limit_file_size=8192)
        outcome(result, 4)
        intact(db, cli)

    def test_errors_file_on_a_full_device(self, db: str, cli, register) -> None:
        """--errors /dev/full: disk full, exit 4; the document still says what the import did."""
        result = cli("--db", db, "import", "households", str(register["first"]), "--errors", "/dev/full", "--json")
        assert "磁盘已满 / disk full" in outcome(result, 4)
        doc = document(result)
        assert doc["exit_code"] == 4 and doc["unchanged"] == 10

    def test_errors_file_in_a_missing_folder(self, db: str, tmp_path: Path, cli, register) -> None:
        """--errors in a folder that does not exist: refused before anything is imported (exit 4)."""
        result = cli("--db", db, "import", "households", str(register["households"]), "--errors", str(tmp_path / "no" / "e.csv"))
        assert "无法写入 / cannot write" in outcome(result, 4)
        assert households(db) == 10

    @pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
    def test_export_to_a_full_device(self, fmt: str, db: str) -> None:
        """`fupin export -o /dev/full`: one line, exit 4 (and no cleanup noise from the XLSX writer)."""
        result = run_fupin("--db", db, "export", "households", "--format", fmt, "-o", "/dev/full")
        assert "/dev/full" in outcome(result, 4)

    def test_export_to_a_missing_folder(self, db: str, tmp_path: Path, cli) -> None:
        """`fupin export -o` into a folder that does not exist: exit 4."""
        outcome(cli("--db", db, "export", "households", "-o", str(tmp_path / "no" / "h.csv")), 4)


# -- 5. files refused as a whole, and odd options --------------------------------------------


def workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.append(["户编号", "户主姓名", "证件号码"])
    book.save(path)
    return path


def ratio_bomb(path: Path) -> Path:
    """A workbook whose shared strings inflate 2 MiB from a few KiB (over the default --max-ratio 200)."""
    source = io.BytesIO()
    openpyxl.Workbook().save(source)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info.filename))
        new.writestr("xl/sharedStrings.xml", b"<sst><si><t>" + b"a" * (2 << 20) + b"</t></si></sst>")
    return path


class TestWholeFileRefusals:
    @pytest.mark.parametrize("case", ["no sheet 999", "sheet 0", "too large", "a directory", "missing column"])
    def test_document_and_errors_file_name_the_file(self, case: str, db: str, tmp_path: Path, cli) -> None:
        """A file refused as a whole: the JSON document and the errors file name it; nothing is imported."""
        options: list[str] = []
        if case in ("no sheet 999", "sheet 0"):
            path, options, code = workbook(tmp_path / "h.xlsx"), ["--sheet", case.split()[-1]], 1
        elif case == "too large":
            path, code = ratio_bomb(tmp_path / "h.xlsx"), 1
        elif case == "a directory":
            path, code = tmp_path / "h.csv", 4
            path.mkdir()
        else:
            path, code = tmp_path / "h.csv", 1
            path.write_text("户编号,户主姓名\n530326101200010001,唐刚\n", encoding="utf-8")
        errors = tmp_path / "errors.csv"
        result = cli("--db", db, "import", "households", str(path), *options, "--json", "--errors", str(errors))
        assert result.exit_code == code and "Traceback" not in result.output
        doc = document(result)
        assert doc["committed"] is False and doc["errors"]
        assert {e["file"] for e in doc["errors"]} == {path.name}
        rows = errors_csv(errors)
        assert rows[0] == HEADER_ROW and len(rows) == 1 + len(doc["errors"]) and {r[0] for r in rows[1:]} == {path.name}
        if case == "missing column":  # a normal result: the header's row, no "error"
            assert {e["row"] for e in doc["errors"]} == {1} and "error" not in doc
        else:  # refused as a whole: one error, row 0, and the one line
            assert doc["exit_code"] == code and len(doc["errors"]) == 1 and doc["errors"][0]["row"] == 0
            assert doc["errors"][0]["reason"] in doc["error"]
            outcome(result, code)
        assert households(db) == 10

    @pytest.mark.parametrize("option", [["--batch-size", "0"], ["--max-cells", "0"], ["--encoding", "nonsense"],
                                        ["--max-ratio", "0.5"], ["--on-error", "ignore"]])
    def test_odd_option_values_are_usage_errors(self, option: list[str], db: str, cli, register) -> None:
        """A value an option cannot take: exit 2 with click's usage lines, nothing imported."""
        result = cli("--db", db, "import", "households", str(register["households"]), *option)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert option[0] in result.stderr and len(result.stderr.strip().splitlines()) <= 4
        assert households(db) == 10


    def test_unknown_kind_still_prints_the_document(self, db: str, cli, register) -> None:
        """An unknown import kind is a usage error (exit 2), and --json still prints one document saying so."""
        result = cli("--db", db, "import", "no-such-kind", str(register["first"]), "--json")
        assert result.exit_code == 2 and "Traceback" not in result.output
        doc = document(result)
        assert doc["exit_code"] == 2 and "no-such-kind" in doc["error"] and doc["kind"] == "no-such-kind"


def test_a_library_warning_is_one_line(db: str) -> None:
    """A warning from a library (SQLAlchemy ignoring a URL setting) is one line on stderr; the command works."""
    result = run_fupin("--db", f"{db}?mode=ro", "whoami")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("警告 / warning: SAWarning: "), result.stderr


# -- 6. bugs --------------------------------------------------------------------------------


class BuggyPlugin:
    """A plugin whose commands fail the way code does: a bug, and memory that cannot be had."""

    @hookimpl
    def fupin_register_commands(self, cli: click.Group) -> None:
        @cli.command("buggy")
        @click.option("--json", "as_json", is_flag=True)
        def buggy(as_json: bool) -> None:
            """Divides by zero."""
            print(1 // len(""))

        @cli.command("hungry")
        def hungry() -> None:
            """Asks for more memory than there is."""
            print(len(bytearray(1 << 62)))


class TestInternalErrors:
    def test_a_bug_is_one_line_exit_70(self, pm, cli) -> None:
        """An unexpected error: "内部错误 / internal error", exit 70, and the document under --json."""
        pm.register(BuggyPlugin(), name="buggy")
        result = CliRunner().invoke(make_cli(pm), ["buggy", "--json"])
        line = outcome(result, 70)
        assert "内部错误 / internal error: ZeroDivisionError" in line and "FUPIN_DEBUG=1" in line
        assert document(result) == {"error": line.removeprefix("Error: "), "exit_code": 70}

    def test_debug_shows_the_traceback(self, pm) -> None:
        """FUPIN_DEBUG=1: the traceback too, for developers; the exit status is the same."""
        pm.register(BuggyPlugin(), name="buggy")
        result = CliRunner().invoke(make_cli(pm), ["buggy"], env={"FUPIN_DEBUG": "1"})
        assert result.exit_code == 70 and "Traceback" in result.stderr and "ZeroDivisionError" in result.stderr

    def test_out_of_memory(self, pm) -> None:
        """Memory exhausted: "内存不足 / out of memory", exit 4."""
        pm.register(BuggyPlugin(), name="buggy")
        assert "内存不足 / out of memory" in outcome(CliRunner().invoke(make_cli(pm), ["hungry"]), 4)


# -- 7. documented ----------------------------------------------------------------------------


def test_exit_codes_documented(cli) -> None:
    """`fupin --help` and the README list every exit code, and FUPIN_DEBUG."""
    shown = cli("--help").output
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for text in (shown, readme):
        for code in ("0", "1", "2", "3", "4", "70"):
            assert re.search(rf"(?m)^[\s|*-]*`?{code}`?\s", text), code
        assert "FUPIN_DEBUG" in text
