"""Concurrency: writers in several processes, and many threads sharing one Store.

Every writer process is a real process (spawned, so it shares nothing with
pytest) with its own Store and engine; a barrier releases them together.
The threads of :class:`TestOneStoreManyThreads` share one Store, as a web
platform's workers do. PostgreSQL tests use the server of
``FUPIN_TEST_POSTGRES_URL``, SQLite tests a file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import multiprocessing
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fupin import Actor, Area, Store, SupportAction, Unit, User, audit, get_plugin_manager
from fupin.errors import StorageError
from fupin.io.engine import import_files
from fupin.storage import schema as S
from fupin.synth import Synthesizer
from fupin.testing import TEST_ACTOR
from tests import campaign_seed as seed

SPAWN = multiprocessing.get_context("spawn")
WRITERS = 8
#: Changed rows per writer's file: the same record differs between files, so some imports update.
CHANGES_PER_FILE = 4


# -- run in the child processes (module level: spawn finds them by name) -------------


def _open(url: str) -> Store:
    store = Store.open(url, pm=get_plugin_manager(load_entrypoints=False), actor=Actor.parse(TEST_ACTOR))
    store.access  # noqa: B018 - read the actor's roles now, not in the race
    return store


def _child(i: int, queue: Any, go: Any, work: Any, args: tuple[Any, ...]) -> None:
    try:
        outcome = ("ok", work(go, *args))
    except Exception as exc:  # reported to the test, which asserts on it
        outcome = (type(exc).__name__, str(exc))
    queue.put((i, outcome))


def _import(go: Any, url: str, kind: str, path: str, batch_size: int = 5000) -> dict[str, Any]:
    with _open(url) as store:
        go.wait(timeout=60)
        result = import_files(store, kind, [path], batch_size=batch_size)
        return {"committed": result.committed, "errors": [str(e) for e in result.errors], "retries": result.retries,
                "inserted": result.inserted, "updated": result.updated, "unchanged": result.unchanged}


def _edit_phone(go: Any, url: str, number: str, phone: str, version: int) -> str:
    with _open(url) as store:
        go.wait(timeout=60)
        store.update_household(number, {"phone": phone}, expected_version=version)
        return phone


def _record_meeting(go: Any, url: str, ref: str, topic: str) -> str:
    with _open(url) as store:
        action = SupportAction.new(store.hooks.action_kind("core.meeting"), start="2016-03-01", unit="QJNU",
                                   details={"topic": topic}, ref=ref)
        go.wait(timeout=60)
        store.record_action(action)
        return topic


def _hold_sqlite_write_lock(path: str, locked: Any, release: Any) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    locked.set()
    release.wait(60)
    conn.execute("ROLLBACK")
    conn.close()


class Writers:
    """One process per argument tuple running ``work(barrier, *args)``, all released at once by :meth:`release`."""

    def __init__(self, work: Any, args_list: list[tuple[Any, ...]]) -> None:
        # The test is a party too, so it knows when the writers are at work.
        # Kept on self: the children look the barrier up by name when they start.
        self.go = SPAWN.Barrier(len(args_list) + 1)
        self.released = False
        self.queue = SPAWN.Queue()
        self.procs = [SPAWN.Process(target=_child, args=(i, self.queue, self.go, work, args)) for i, args in enumerate(args_list)]
        for p in self.procs:
            p.start()

    def release(self) -> None:
        """Wait until every writer is ready, then let them all go."""
        self.go.wait(timeout=60)
        self.released = True

    def running(self) -> bool:
        """Whether every writer is still at work."""
        return self.queue.empty() and all(p.is_alive() for p in self.procs)

    def outcomes(self, timeout: float = 120) -> list[tuple[str, Any]]:
        """``("ok", value)`` or ``(exception class name, message)`` per writer, in order."""
        try:
            if not self.released:
                self.release()
            done = dict(self.queue.get(timeout=timeout) for _ in self.procs)
        finally:
            for p in self.procs:
                p.join(timeout=10)
                if p.is_alive():
                    p.kill()
        return [done[i] for i in range(len(self.procs))]


# -- fixtures and helpers -----------------------------------------------------------------


def registered_store(url: str, pm: Any, files: Path, *kinds: str) -> Store:
    """An initialised store with these kinds of the synthetic register imported (in-process)."""
    store = Store.open(url, pm=pm, actor=Actor.parse(TEST_ACTOR))
    store.init()
    for kind in kinds:
        result = import_files(store, kind, [files / f"{kind}.csv"])
        assert result.committed and not result.errors
    return store


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def overlapping_files(source: Path, out: Path, changed_column: str, key_width: int = 1) -> tuple[list[Path], set[Any], set[Any]]:
    """Split a register file into WRITERS files of overlapping windows, some rows changed.

    File i holds a third of the rows starting at i/WRITERS of the way (wrapping
    round), shuffled, with ``changed_column`` set to a value of its own in
    CHANGES_PER_FILE rows. The key is the first column (the first
    ``key_width`` columns, as a tuple). Returns the files, every key and the
    changed keys.
    """
    header, rows = read_csv(source)
    n, column = len(rows), header.index(changed_column)

    def key(row: list[str]) -> Any:
        return row[0] if key_width == 1 else tuple(row[:key_width])

    window = -(-n // 3)
    files, cover, changed = [], Counter(), set()
    for i in range(WRITERS):
        picked = [list(rows[(i * n // WRITERS + k) % n]) for k in range(window)]
        for k in range(0, window, window // CHANGES_PER_FILE)[:CHANGES_PER_FILE]:
            picked[k][column] = f"139{i:04d}{k:04d}"
            changed.add(key(picked[k]))
        cover.update(map(key, picked))
        random.Random(i).shuffle(picked)
        files.append(write_csv(out / f"{source.stem}-{i}.csv", header, picked))
    assert set(cover) == set(map(key, rows)) and set(cover.values()) <= {2, 3, 4}
    return files, set(cover), changed


def wait_for_lock_waiters(engine: sa.Engine, count: int, timeout: float = 60) -> None:
    """Wait until ``count`` sessions of this PostgreSQL database wait for a lock."""
    deadline = time.monotonic() + timeout
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
    with engine.connect() as watcher:
        while watcher.execute(query).scalar() < count:
            assert time.monotonic() < deadline, f"fewer than {count} sessions ever waited for a lock"
            time.sleep(0.05)
            watcher.rollback()  # a new snapshot of pg_stat_activity


def scalars(engine: sa.Engine, query: Any) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(query).scalars().all()


@contextmanager
def write_lock_held_elsewhere(sqlite_url: str) -> Iterator[Any]:
    """Another process holds the SQLite database's write lock until the block ends or the yielded event is set."""
    locked, release = SPAWN.Event(), SPAWN.Event()
    holder = SPAWN.Process(target=_hold_sqlite_write_lock, args=(sqlite_url.removeprefix("sqlite:///"), locked, release))
    holder.start()
    try:
        assert locked.wait(30)
        yield release
    finally:
        release.set()
        holder.join(30)


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic register's import files: 300 households and their members."""
    directory = tmp_path_factory.mktemp("register")
    Synthesizer(seed=11).write_files(directory, households=300)
    return directory


# -- PostgreSQL ---------------------------------------------------------------------------


class TestConcurrentImportsPostgres:
    def check_imports(self, store: Store, kind: str, table: sa.Table, key: str, files: list[Path], keys: set[str], changed: set[str]) -> None:
        """Run the files' imports at once, then prove nothing was duplicated, lost or miscounted."""
        url = store.engine.url.render_as_string(hide_password=False)
        outcomes = Writers(_import, [(url, kind, str(f)) for f in files]).outcomes()
        assert [o for o in outcomes if o[0] != "ok" or not o[1]["committed"] or o[1]["errors"]] == []
        with store.engine.connect() as conn:
            duplicates = conn.execute(sa.select(table.c[key]).group_by(table.c[key]).having(sa.func.count() > 1)).all()
            stored = dict(conn.execute(sa.select(table.c[key], table.c.version)).all())
            batches = conn.execute(sa.select(S.import_batches).where(S.import_batches.c.kind == kind)).mappings().all()
            audited = Counter(conn.execute(
                sa.select(S.audit_log.c.record_key).where(S.audit_log.c.operation == "update", S.audit_log.c.table_name == table.name)
            ).scalars())
        assert duplicates == []
        assert set(stored) == keys
        assert [b["status"] for b in batches] == ["committed"] * WRITERS
        assert all(b["inserted"] + b["updated"] + b["unchanged"] + b["rejected"] == b["rows"] for b in batches)
        assert sum(b["inserted"] for b in batches) == len(keys)
        # Every changed row was written in at least two versions, so at least one import updated it.
        assert sum(audited.values()) == sum(b["updated"] for b in batches) >= len(changed)
        assert {k: v - 1 for k, v in stored.items() if v > 1} == dict(audited)

    def test_eight_overlapping_household_imports(self, postgres_url: str, pm: Any, register: Path, tmp_path: Path) -> None:
        """Eight imports of overlapping household files at once: each household stored once, every count true."""
        files, keys, changed = overlapping_files(register / "households.csv", tmp_path, "户联系电话")
        with registered_store(postgres_url, pm, register, "areas") as store:
            self.check_imports(store, "households", S.households, "number", files, keys, changed)
            with store.engine.connect() as conn:
                # One "registered" status entry per household: rows that lost the race got none.
                statuses = conn.execute(sa.select(sa.func.count()).select_from(S.household_status)).scalar()
            assert statuses == len(keys)

    def test_eight_overlapping_person_imports(self, postgres_url: str, pm: Any, register: Path, tmp_path: Path) -> None:
        """Eight imports of overlapping member files at once: each person stored once, every count true."""
        files, keys, changed = overlapping_files(register / "persons.csv", tmp_path, "人联系电话")
        with registered_store(postgres_url, pm, register, "areas", "households") as store:
            self.check_imports(store, "persons", S.persons, "id_number", files, keys, changed)

    def test_eight_overlapping_tag_imports_take_turns(self, postgres_url: str, pm: Any, register: Path, tmp_path: Path) -> None:
        """Tags have no unique key: eight imports of overlapping tag files take turns and store each tag once."""
        files, keys, changed = overlapping_files(register / "tags.csv", tmp_path, "备注", key_width=3)
        with registered_store(postgres_url, pm, register, "areas", "households", "persons") as store:
            url = store.engine.url.render_as_string(hide_password=False)
            outcomes = Writers(_import, [(url, "tags", str(f)) for f in files]).outcomes()
            t, p = S.person_tags, S.persons
            with store.engine.connect() as conn:
                stored = Counter(
                    (id_number, tag, start.isoformat())
                    for id_number, tag, start in conn.execute(sa.select(p.c.id_number, t.c.tag, t.c.start).join(p, p.c.id == t.c.person_id))
                )
                batches = conn.execute(sa.select(S.import_batches).where(S.import_batches.c.kind == "tags")).mappings().all()
        assert [o for o in outcomes if o[0] != "ok" or not o[1]["committed"] or o[1]["errors"]] == []
        assert stored == Counter(keys)
        assert all(b["inserted"] + b["updated"] + b["unchanged"] + b["rejected"] == b["rows"] for b in batches)
        assert sum(b["inserted"] for b in batches) == len(keys)
        assert sum(b["updated"] for b in batches) >= len(changed)


class TestDeadlockRetry:
    def test_deadlocked_import_runs_again(self, postgres_url: str, pm: Any, register: Path, tmp_path: Path) -> None:
        """An import PostgreSQL picks as a deadlock victim runs again from the start and commits."""
        header, rows = read_csv(register / "households.csv")
        stored, new = rows[0], rows[1]
        write_csv(tmp_path / "one.csv", header, [stored])
        changed = [*stored]
        changed[header.index("户联系电话")] = "13900000000"
        path = write_csv(tmp_path / "two.csv", header, [new, changed])
        with registered_store(postgres_url, pm, register, "areas") as store:
            assert import_files(store, "households", [tmp_path / "one.csv"]).inserted == 1
            url = store.engine.url.render_as_string(hide_password=False)
            h = S.households
            with store.engine.connect() as other:
                other.execute(sa.select(h.c.id).where(h.c.number == stored[0]).with_for_update())
                # One row per chunk: the import inserts `new`, then waits for our lock on `stored` ...
                writer = Writers(_import, [(url, "households", str(path), 1)])
                writer.release()
                wait_for_lock_waiters(store.engine, 1)
                # ... while we insert `new` and wait for the import: a deadlock.
                other.execute(h.insert().values(number=new[0], group_code=new[1], head_name="别人", attribute="一般贫困户",
                                                main_cause="缺技术", other_causes=[], status="未脱贫"))
                other.commit()
            [(status, result)] = writer.outcomes()
            numbers = scalars(store.engine, sa.select(h.c.number).order_by(h.c.number))
        assert status == "ok", result
        assert result["committed"] and result["retries"] >= 1
        # The second run found both rows stored (ours and the first file's) and updated them.
        assert (result["inserted"], result["updated"], result["unchanged"]) == (0, 2, 0)
        assert numbers == sorted([stored[0], new[0]])


class TestEditVersions:
    def test_same_version_edits_one_wins(self, postgres_url: str, pm: Any, register: Path, tmp_path: Path) -> None:
        """Two edits based on the same version: one is stored, the other is refused as stale."""
        header, rows = read_csv(register / "households.csv")
        with registered_store(postgres_url, pm, register, "areas") as store:
            import_files(store, "households", [write_csv(tmp_path / "h.csv", header, rows[:3])])
            number = rows[0][0]
            h = S.households
            [version] = scalars(store.engine, sa.select(h.c.version).where(h.c.number == number))
            url = store.engine.url.render_as_string(hide_password=False)
            with store.engine.connect() as other:
                # Holding the row makes both edits be in flight together, whatever the timing.
                other.execute(sa.select(h.c.id).where(h.c.number == number).with_for_update())
                writers = Writers(_edit_phone, [(url, number, "13900000001", version), (url, number, "13900000002", version)])
                writers.release()
                wait_for_lock_waiters(store.engine, 2)
                other.rollback()
            outcomes = writers.outcomes()
            with store.engine.connect() as conn:
                final = conn.execute(sa.select(h.c.version, h.c.phone).where(h.c.number == number)).one()
        assert sorted(o[0] for o in outcomes) == ["StaleRecord", "ok"]
        winner = next(value for status, value in outcomes if status == "ok")
        assert tuple(final) == (version + 1, winner)


class TestActionRefs:
    def test_same_ref_recorded_once(self, postgres_url: str, pm: Any) -> None:
        """Four processes record an action with the same ledger number: one is stored, three are refused by name."""
        with Store.open(postgres_url, pm=pm, actor=Actor.parse(TEST_ACTOR)) as store:
            store.init()
            store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university"))
            url = store.engine.url.render_as_string(hide_password=False)
            a = S.support_actions
            with store.engine.connect() as other:
                # An uncommitted action with the ref: every writer passes its check, then waits at the insert.
                other.execute(a.insert().values(kind="core.meeting", start_date="2016-03-01", end_date="2016-03-01",
                                                unit_code="QJNU", ref="QJNU-0001", quantities={}))
                writers = Writers(_record_meeting, [(url, "QJNU-0001", f"议题{i}") for i in range(4)])
                writers.release()
                wait_for_lock_waiters(store.engine, 4)
                other.rollback()
            outcomes = writers.outcomes()
            stored = scalars(store.engine, sa.select(a.c.details).where(a.c.ref == "QJNU-0001"))
        assert sorted(o[0] for o in outcomes) == ["ValidationError"] * 3 + ["ok"]
        assert all("记录编号已存在" in message for status, message in outcomes if status != "ok")
        assert [d["topic"] for d in stored] == [next(v for s, v in outcomes if s == "ok")]


# -- SQLite -------------------------------------------------------------------------------


class TestSqliteWriteLock:
    def test_two_imports_take_turns(self, sqlite_url: str, pm: Any, register: Path, tmp_path: Path) -> None:
        """Two imports into one SQLite file at once wait for the lock, then commit one after the other."""
        header, rows = read_csv(register / "households.csv")
        first = write_csv(tmp_path / "first.csv", header, rows[:200])
        second = write_csv(tmp_path / "second.csv", header, rows[100:])
        with registered_store(sqlite_url, pm, register, "areas") as store:
            with write_lock_held_elsewhere(sqlite_url):
                writers = Writers(_import, [(sqlite_url, "households", str(first)), (sqlite_url, "households", str(second))])
                writers.release()
                time.sleep(1)  # ten times what either import takes
                assert writers.running()  # both wait for the lock (up to 30 s) instead of failing
            outcomes = writers.outcomes()
            assert store.count("households") == len(rows)
        with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert [o for o in outcomes if o[0] != "ok" or not o[1]["committed"]] == []
        # The later import found the 100 shared rows stored by the earlier one.
        assert sum(o[1]["inserted"] for o in outcomes) == len(rows)
        assert sum(o[1]["unchanged"] for o in outcomes) == 100

    def test_busy_database_refuses_import_and_writes_nothing(self, sqlite_url: str, pm: Any, register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """With the lock held elsewhere past FUPIN_SQLITE_TIMEOUT, the import fails as busy and writes nothing."""
        registered_store(sqlite_url, pm, register, "areas").close()
        monkeypatch.setenv("FUPIN_SQLITE_TIMEOUT", "0.1")
        with write_lock_held_elsewhere(sqlite_url), Store.open(sqlite_url, pm=pm, actor=Actor.from_env()) as store:
            started = time.monotonic()
            with pytest.raises(StorageError) as exc:
                import_files(store, "households", [register / "households.csv"])
            waited = time.monotonic() - started
        assert str(exc.value).startswith("数据库正忙 / the database is busy")
        assert sqlite_url in str(exc.value) and waited < 5
        with Store.open(sqlite_url, pm=pm, actor=Actor.from_env()) as store:
            assert store.count("households") == 0
            assert store.count("import_batches") == 1  # the areas' batch only

    def test_edit_waits_for_running_import(self, sqlite_url: str, pm: Any, register: Path) -> None:
        """An edit made while another process writes waits for it, then is stored."""
        with registered_store(sqlite_url, pm, register, "areas") as store:
            with write_lock_held_elsewhere(sqlite_url) as release:
                threading.Timer(1, release.set).start()
                started = time.monotonic()
                store.add_area(Area("530326101201", "新村", "village", "530326101000"))
                waited = time.monotonic() - started
            assert store.count("areas") == 10
        assert waited >= 0.9

    def test_cli_says_busy_without_traceback(self, sqlite_url: str, pm: Any, cli: Any, register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """``fupin import`` on a busy database exits 4 (the environment) with the busy message, no traceback."""
        registered_store(sqlite_url, pm, register, "areas").close()
        monkeypatch.setenv("FUPIN_SQLITE_TIMEOUT", "0.1")
        with write_lock_held_elsewhere(sqlite_url):
            result = cli("--db", sqlite_url, "import", "households", str(register / "households.csv"))
        assert (result.exit_code, type(result.exception)) == (4, SystemExit)
        assert result.output.startswith("Error: 数据库正忙 / the database is busy")
        assert "Traceback" not in result.output


# -- one Store, many threads ----------------------------------------------------------------

THREADS = 20
#: Requests per thread: each thread runs every kind of request at least once.
REQUESTS = 8
#: Seconds the whole run may take before the test calls it a hang (it takes a few).
DEADLINE = 120
OFFICE = Actor("QJNU", "office")


class ConnectionWatch:
    """Watches an engine's pool: the most connections one thread held at once, and
    connections handed back still inside a transaction (before the pool's own rollback)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.held: Counter[int] = Counter()
        self.most = 0
        self.returned_in_transaction = 0
        self.checkouts = 0
        self._lock = threading.Lock()
        sa.event.listen(engine, "checkout", self._checkout)
        sa.event.listen(engine, "checkin", self._checkin)
        sa.event.listen(engine, "reset", self._reset)

    def _checkout(self, _dbapi: Any, record: Any, _proxy: Any) -> None:
        with self._lock:
            me = threading.get_ident()
            record.info["watch_thread"] = me
            self.held[me] += 1
            self.checkouts += 1
            self.most = max(self.most, self.held[me])

    def _checkin(self, _dbapi: Any, record: Any) -> None:
        with self._lock:
            owner = record.info.pop("watch_thread", None)
            if owner is not None:
                self.held[owner] -= 1

    def _reset(self, dbapi: Any, _record: Any, _state: Any) -> None:
        if in_transaction(dbapi):
            with self._lock:
                self.returned_in_transaction += 1

    def close(self) -> None:
        for name, fn in (("checkout", self._checkout), ("checkin", self._checkin), ("reset", self._reset)):
            sa.event.remove(self.engine, name, fn)


def in_transaction(dbapi: Any) -> bool:
    """Whether a DBAPI connection (sqlite3 or psycopg) is inside a transaction."""
    if isinstance(dbapi, sqlite3.Connection):
        return dbapi.in_transaction
    return int(dbapi.info.transaction_status) != 0  # psycopg's TransactionStatus.IDLE


def run_threads(work: Any, count: int, deadline: float = DEADLINE) -> list[str]:
    """Run ``work(i)`` in ``count`` threads at once; the errors, as text. A thread still running at the deadline fails the test."""
    errors: list[str] = []
    go = threading.Barrier(count)

    def run(i: int) -> None:
        go.wait(timeout=30)
        try:
            work(i)
        except Exception as exc:  # reported by the test
            errors.append(f"thread {i}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    end = time.monotonic() + deadline
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    hung = [i for i, t in enumerate(threads) if t.is_alive()]
    assert hung == [], f"threads {hung} still running after {deadline} s: a deadlock"
    return errors


def households_file(path: Path, numbers: list[str]) -> Path:
    return write_csv(path, ["户编号", "村民小组代码", "户主姓名", "贫困户属性", "主要致贫原因", "脱贫状态"],
                     [[n, n[:14], f"户主{n[-4:]}", "一般贫困户", "缺技术", "未脱贫"] for n in numbers])


class TestOneStoreManyThreads:
    """A web platform's pattern: one Store for the process, ``store.acting_as(actor)`` per request, 20 worker threads."""

    def seed(self, store: Store) -> tuple[Any, list[str]]:
        plan = seed.seed_base(store)
        numbers = []
        with store.transaction():
            for g in range(1, 5):
                for s in range(1, 6):
                    numbers.append(seed.add_household(store, g, s))
                    seed.pair(store, seed.cadre_code(1 + s % 2), numbers[-1])
        store.add_user(User(OFFICE.unit, OFFICE.user, ("plan_office",)))
        return plan, numbers

    def test_mixed_requests_finish_without_errors(self, store: Store, tmp_path: Path) -> None:
        """20 threads x 8 mixed requests (cards, actions, worklists, checks, imports, recorded actions), some through
        the shared store, some through acting_as copies: no error, no hang, every write stored, the audit chain whole,
        no thread ever holding two connections, none handed back inside a transaction."""
        plan, numbers = self.seed(store)
        me = Actor.parse(TEST_ACTOR)
        imported: list[list[str]] = [[] for _ in range(THREADS)]
        recorded: list[list[str]] = [[] for _ in range(THREADS)]

        def card(i: int, j: int, s: Store) -> None:
            assert s.household_card(numbers[(i + j) % len(numbers)]).household.number == numbers[(i + j) % len(numbers)]

        def actions(i: int, j: int, s: Store) -> None:
            list(s.actions(kind="core.meeting"))

        def due(i: int, j: int, s: Store) -> None:
            assert len(s.worklist(plan, as_of=dt.date(2016, 3, 1))) == len(numbers)

        def check(i: int, j: int, s: Store) -> None:
            assert s.check(plan, 2016, as_of=dt.date(2017, 1, 1))

        def import_households(i: int, j: int, s: Store) -> None:
            new = [seed.h(1 + k, 1000 + 10 * i + j) for k in range(3)]
            upload = io.BytesIO(households_file(tmp_path / f"h-{i}-{j}.csv", new).read_bytes())
            result = s.import_file("households", upload, name=f"upload-{i}-{j}.csv")
            assert result.committed and not result.errors, result.errors
            imported[i].extend(new)

        def record(i: int, j: int, s: Store) -> None:
            ref = f"QJNU-T{i:02d}-{j:02d}"
            s.record_action(SupportAction.new(s.hooks.action_kind("core.meeting"), start="2016-03-01", unit="QJNU",
                                              details={"topic": f"议题{i}-{j}"}, ref=ref))
            recorded[i].append(ref)

        mix = [card, import_households, actions, record, due, card, check, import_households]

        def work(i: int) -> None:
            for j in range(REQUESTS):
                # The shared store, a copy per request as the admin, or as the plan office.
                s = (store, store.acting_as(me), store.acting_as(OFFICE))[(i + j) % 3]
                mix[(i + j) % len(mix)](i, j, s)

        watch = ConnectionWatch(store.engine)
        try:
            errors = run_threads(work, THREADS)
        finally:
            watch.close()
        assert errors == []
        h, a = S.households, S.support_actions
        want_households = {n for part in imported for n in part}
        want_refs = {r for part in recorded for r in part}
        assert len(want_households) == 3 * sum(1 for i in range(THREADS) for j in range(REQUESTS) if mix[(i + j) % len(mix)] is import_households)
        assert set(scalars(store.engine, sa.select(h.c.number).where(h.c.number.in_(want_households)))) == want_households
        assert set(scalars(store.engine, sa.select(a.c.ref).where(a.c.ref.like("QJNU-T%")))) == want_refs
        with store.engine.connect() as conn:
            assert audit.verify(conn).ok
        assert watch.most == 1, f"a thread held {watch.most} connections at once"
        assert watch.returned_in_transaction == 0
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect() as conn:
                idle_in_transaction = conn.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
                )).scalar_one()
            assert idle_in_transaction == 0

    def test_a_transaction_belongs_to_its_thread(self, store: Store) -> None:
        """A transaction open in one thread is not joined by another thread's reads: they see what was committed."""
        seen: list[int] = []
        with store.transaction():
            store.add_areas(seed.tuomu_chain())
            errors = run_threads(lambda i: seen.append(store.count("areas")), 4, deadline=60)
            assert store.count("areas") == 5  # this thread reads through its transaction
        assert errors == [] and seen == [0, 0, 0, 0]
        assert store.count("areas") == 5

    def test_access_is_read_on_the_threads_connection(self, store: Store) -> None:
        """An acting_as copy reads its actor's permissions on the connection its thread already holds: one connection per request."""
        _plan, numbers = self.seed(store)
        watch = ConnectionWatch(store.engine)
        try:
            errors = run_threads(lambda i: store.acting_as(OFFICE).household_card(numbers[i % len(numbers)]), THREADS, deadline=60)
        finally:
            watch.close()
        assert errors == [] and watch.most == 1


class TestSqliteThreads:
    def test_writers_wait_their_turn(self, sqlite_url: str, pm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        """20 threads writing through one store at once all commit, each waiting its turn, the waits well within the busy timeout."""
        with Store.open(sqlite_url, pm=pm, actor=Actor.parse(TEST_ACTOR)) as store:
            store.init()
            seed.seed_base(store)

            def write(i: int) -> None:
                with store.transaction("registry.write"):
                    store.add_area(Area(seed.group(10 + i), f"组{i}", "group", seed.VILLAGE))
                    time.sleep(0.02)  # the write lock held a while: the others queue behind it

            monkeypatch.setenv("FUPIN_SQLITE_TIMEOUT", "5")
            assert run_threads(write, THREADS, deadline=60) == []
            assert store.count("areas") == 5 + 4 + THREADS
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"

    def test_second_writer_in_one_thread_fails_at_once(self, sqlite_url: str, pm: Any) -> None:
        """A thread writing on a second connection while its own write transaction is open would wait on itself:
        it is refused at once, not after the busy timeout."""
        with Store.open(sqlite_url, pm=pm, actor=Actor.parse(TEST_ACTOR)) as store:
            store.init()
            with store.transaction():
                store.add_areas(seed.tuomu_chain()[:1])
                started = time.monotonic()
                with pytest.raises(StorageError, match="already writing on another connection"):
                    store.acting_as(Actor.parse(TEST_ACTOR)).add_area(Area("530300", "曲靖市", "city", "530000"))
                assert time.monotonic() - started < 1
            assert store.count("areas") == 1
