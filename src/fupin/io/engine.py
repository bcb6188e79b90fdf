"""The import engine: files in, validated records out, written in bulk.

One pass over each file, streaming: rows are parsed and validated with the
same model classes as the library API, checked against the database in bulk
(one query per chunk for keys and references, never one per row), classified
as insert / update / unchanged by their natural key, and written in batches
(one executemany per chunk on SQLite, COPY on PostgreSQL: see
:mod:`fupin.storage.bulk`). Everything happens in one
transaction: by default one bad row and nothing is written; with
``on_error="skip"`` the good rows are; ``dry_run`` writes nothing. Into a
table that is empty when the import begins (a first load of a register),
stored rows are not looked up at all: a row that clashes with one breaks a
unique index, and only that chunk is rolled back and checked in full. On
PostgreSQL such a chunk is written by a thread while the next one is checked
(:class:`_Writer`).

Several imports may run at once (two clerks, two processes). On SQLite the
import takes the database's write lock when it starts, so they run one after
the other. On PostgreSQL they run side by side: rows to compare are locked
(``SELECT ... FOR UPDATE``), new rows go in with ``INSERT ... ON CONFLICT DO
NOTHING`` and a row another import inserted meanwhile is compared with it
instead (updated or unchanged), so no row is duplicated, no change is lost and
every count is true. A deadlock between imports makes the loser run again.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import datetime as dt
import functools
import gc
import hashlib
import itertools
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import audit as audit_chain
from fupin.errors import FupinError, Problem, StorageError, ValidationError
from fupin.io import masking, parallel
from fupin.io.files import EXTENSIONS, ReadLimits, ShapeError, open_table, require_regular_file
from fupin.serial import Serialisable
from fupin.io.kinds import BIGINT_MAX, CellParser, Column, ImportKind, field_values, limited
from fupin.storage import bulk
from fupin.storage import schema as S
from fupin.storage.engine import WRITE

DEFAULT_BATCH_SIZE = 5000
#: Files from this size are parsed in a worker process while this one writes.
PARALLEL_FROM_BYTES = 4 << 20
#: How often an import that deadlocked with another writer is run again.
MAX_RETRIES = 3
#: SQLSTATEs of a transaction PostgreSQL rolled back because of another one
#: (psycopg's errors.SerializationFailure and errors.DeadlockDetected), and
#: 23505: a unique index no ON CONFLICT covers (one head per household) hit by
#: a concurrent writer; run again, the import sees that row and refuses its own
#: clearly, row by row.
_RETRYABLE = {"40001", "40P01", "23505"}


@attrs.frozen
class RowError(Serialisable):
    """Why one row (or one file) was refused: file, row as the spreadsheet shows it, column, value, reason."""

    file: str
    row: int
    column: str
    value: Any
    reason: str

    def __str__(self) -> str:
        value = "" if self.value in (None, "") else f" = {self.value!r}"
        column = f" {self.column}" if self.column else ""
        return f"{self.file} row {self.row}{column}{value}: {self.reason}"



@attrs.define
class FileResult(Serialisable):
    """What one file did."""

    file: str
    format: str
    content_hash: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    batch_id: int | None = None
    ignored_columns: list[str] = attrs.field(factory=list)
    #: What the reader found worth saying but not refusing (hidden rows and columns), one line each.
    notices: list[str] = attrs.field(factory=list)


@attrs.define
class ImportResult(Serialisable):
    """The outcome of one ``import``: counts, errors, and whether anything was written."""

    kind: str
    dry_run: bool
    on_error: str
    files: list[FileResult] = attrs.field(factory=list)
    errors: list[RowError] = attrs.field(factory=list)
    committed: bool = False
    #: Times the import was run again from the start after a deadlock with another writer.
    retries: int = 0

    # to_dict(), the summary ``fupin import --json`` prints: the fields and the counts.
    __dict_extra__ = ("inserted", "updated", "unchanged", "rejected")

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.files)

    @property
    def unchanged(self) -> int:
        return sum(f.unchanged for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def write_errors_csv(self, path: Path) -> None:
        """All errors as a CSV file (UTF-8 with BOM, for Excel): 文件, 行, 列, 值, 原因."""
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["文件 file", "行 row", "列 column", "值 value", "原因 reason"])
            for e in self.errors:
                writer.writerow([e.file, e.row, e.column, "" if e.value is None else e.value, e.reason])


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, Decimal)):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Lookups:
    """Bulk look-ups against the database for one import, plus what the import itself added."""

    def __init__(self, conn: sa.Connection, metadata: sa.MetaData, access: Any = None) -> None:
        self._conn = conn
        self.metadata = metadata
        #: What the importing actor may do (fupin.access.Access): messages name only what it may read.
        self.access = access
        #: Tables whose stored rows need not be looked up (see ``Importer._trusted_tables``).
        self.trusted: set[str] = set()
        #: While a chunk is written in the background (see ``_Writer``): what waits for it, and
        #: (table written, a second connection reading the other tables meanwhile).
        self._before_use: Callable[[], None] | None = None
        self._elsewhere: tuple[str, sa.Connection] | None = None
        self.new_chunk()

    @property
    def conn(self) -> sa.Connection:
        """The import's connection, once the chunk being written in the background (if any) is written."""
        if self._before_use is not None:
            self._before_use()
        return self._conn

    def read_elsewhere(self, wait: Callable[[], None], written: str, connection: sa.Connection) -> None:
        """Look rows of tables other than ``written`` up on ``connection``; wait() before any other use of the import's.

        Those tables hold no row of this import, so another connection (reading
        what is committed, as the import's own does) sees what it would see.
        """
        self._before_use = wait
        self._elsewhere = (written, connection)

    def read_here(self) -> None:
        """Back to every look-up on the import's connection; the second one is closed."""
        if self._elsewhere is not None:
            self._elsewhere[1].close()
        self._before_use = self._elsewhere = None

    def new_chunk(self) -> None:
        """Forget what the previous chunk added: it is in the database now (same transaction).

        Keeping nothing across chunks is what keeps memory flat as files grow.
        """
        self._pending: dict[str, dict[Any, Any]] = {}
        #: household number -> (row, id number) of the head seen in this chunk
        self.head_in_import: dict[str, tuple[int, str]] = {}

    def rows(self, table: str, key: str, keys: Iterable[Any], columns: Sequence[str] = ()) -> dict[Any, Mapping[str, Any]]:
        """Rows of ``table`` whose ``key`` is in ``keys``, by key (one query per 900 keys)."""
        t = self.metadata.tables[table]
        wanted = [k for k in set(keys) if k is not None]
        out: dict[Any, Mapping[str, Any]] = {}
        cols = [t.c[key], *(t.c[c] for c in columns)] if columns else [t]
        conn = self._elsewhere[1] if self._elsewhere is not None and table != self._elsewhere[0] else self.conn
        for part in bulk.among(conn, t.c[key], wanted):
            result = conn.execute(sa.select(*cols).where(part))
            names = list(result.keys())
            at = names.index(key)
            for values in result.fetchall():  # one fetch from the driver, not one per row
                out[values[at]] = dict(zip(names, values))
        return out

    def remember(self, table: str, key: Any, record: Any) -> None:
        """Note a record this import adds, so later rows may refer to it."""
        self._pending.setdefault(table, {})[key] = record

    def pending(self, table: str, key: Any) -> Any:
        """A record this import added earlier, or None."""
        return self._pending.get(table, {}).get(key)

    def person_households(self, id_numbers: Iterable[str]) -> dict[str, tuple[str, str] | None]:
        """ID number -> (household number, name) of persons already registered.

        None for a person the actor may not read: the caller says only that the
        number is taken, never by whom (a refusal must not be an oracle).
        """
        if "persons" in self.trusted:
            return {}  # a person stored twice breaks the unique ID number instead
        h, p = S.households, S.persons
        wanted = list(set(id_numbers))
        out: dict[str, tuple[str, str] | None] = {}
        readable = sa.true() if self.access is None else self.access.household_condition("registry.read")
        for part in bulk.among(self.conn, p.c.id_number, wanted):
            query = sa.select(p.c.id_number, h.c.number, p.c.name, sa.case((readable, True), else_=False)).join(h, h.c.id == p.c.household_id).where(part)
            for id_number, number, name, may_read in self.conn.execute(query):
                out[id_number] = (number, name) if may_read else None
        return out

    def existing_heads(self, households: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Household number -> (ID number, name) of its stored head (户主)."""
        if "persons" in self.trusted:
            return {}  # a second head breaks the unique index ux_persons_one_head instead
        h, p = S.households, S.persons
        wanted = list(set(households))
        out: dict[str, tuple[str, str]] = {}
        for part in bulk.among(self.conn, h.c.number, wanted):
            query = sa.select(h.c.number, p.c.id_number, p.c.name).join(p, p.c.household_id == h.c.id).where(part, p.c.relation == "户主")
            for number, id_number, name in self.conn.execute(query):
                out[number] = (id_number, name)
        return out


class Importer:
    """Imports files of one kind into a store. See :func:`import_files`."""

    def __init__(
        self,
        store: Any,
        kind: ImportKind,
        *,
        encoding: str | None = None,
        sheet: str | None = None,
        on_error: str = "abort",
        dry_run: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[int, int], None] | None = None,
        parallel: bool | None = None,
        limits: ReadLimits | None = None,
    ) -> None:
        if on_error not in ("abort", "skip"):
            raise ValueError(f"on_error must be abort or skip, not {on_error!r}")
        self.store = store
        # Bound to the store, with the limits of its table's columns (lengths, ranges) on its columns.
        self.kind = kind = limited(kind.bind(store), store.metadata)
        self.encoding = encoding
        self.sheet = sheet
        self.on_error = on_error
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.progress = progress
        #: Parse in a worker process: None decides by file size, True/False force it.
        self.parallel = parallel
        #: Bounds an XLSX file must stay within before it is read (see fupin.io.files.ReadLimits).
        self.limits = limits
        self.table: sa.Table = store.metadata.tables[kind.table]
        self.parser = CellParser(store.vocab)
        self._id_references = [r for r in kind.references if r.id_column]
        #: Whether the kind writes anything after a chunk (other tables: status history, beneficiaries ...).
        self._writes_after = type(kind).after_write is not ImportKind.after_write
        #: Whether new rows get their ids here, for the kind's after_write (see _new_ids).
        self._needs_ids = "id" in self.table.c and kind.inserted_ids and self._writes_after
        self.headers = kind.header_index()
        #: The natural key of a record: the kind's own key_of, or one C-level getter of its key fields.
        self._key_of = kind.key_of if type(kind).key_of is not ImportKind.key_of else field_values(tuple(kind.key))
        #: The plugins' fupin_validate_record for this kind's records, None when no plugin looks at them.
        self._validate = store.hooks.record_validator(kind.record_type)
        self.result = ImportResult(kind.name, dry_run, on_error)
        #: The file's personal columns (set per file), its record-token column, and the rows whose masked cells were filled.
        self._personal: dict[str, str] = {}
        self._token_header: str | None = None
        self._unmasked_rows: set[int] = set()
        self._failed_keys: dict[tuple[Any, ...], int] = {}
        #: What the actor's write permission reaches among stored rows (None: every row).
        #: An update is checked against the row as stored as well as the row as it
        #: will be, so a record cannot be taken over from outside one's scope.
        self._stored_scope: sa.ColumnElement[bool] | None = None
        if kind.scope is not None and not store.access.reaches_everything(kind.write_permission, kind.scope[0]):
            # Written against the table the access conditions are written against (the core's own).
            self._scope_table = store.table(kind.table)
            self._stored_scope = store.access.kind_condition(kind, kind.write_permission, self._scope_table)
        #: On PostgreSQL, what writes chunks in the background, and the chunk it is writing: (rows, counts before it).
        self._writer: _Writer | None = None
        self._in_flight: tuple[list[tuple[int, Any]], tuple[tuple[int, ...], int]] | None = None

    # -- driving ------------------------------------------------------------------

    def run(self, paths: Sequence[Path]) -> ImportResult:
        """Import every file in one transaction and return the result.

        On PostgreSQL, an import that deadlocks with another writer is rolled
        back and run again from the start (up to :data:`MAX_RETRIES` times,
        after a short random pause); ``result.retries`` says how often.
        """
        self.store._require_schema()
        self.store.access.require(self.kind.write_permission, f"导入 {self.kind.name} / import {self.kind.name}")
        attempt = 0
        #: Progress: rows expected per file (a text file's lines, counted now; a sheet's rows, once open).
        self._expected = {p: _line_count(p) for p in paths if EXTENSIONS.get(p.suffix.lower()) in ("csv", "jsonl")} \
            if self.progress is not None else {}
        while True:
            self.result = ImportResult(self.kind.name, self.dry_run, self.on_error, retries=attempt)
            self._done_files: dict[Path, int] = {}
            try:
                with _collector_eased():
                    return self._run_once(paths)
            except Exception as exc:
                # COPY runs on the psycopg cursor: its errors come unwrapped.
                orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
                if getattr(orig, "sqlstate", None) not in _RETRYABLE:
                    raise
                if attempt == MAX_RETRIES:
                    raise StorageError(
                        f"导入与其他写入冲突, 重试 {MAX_RETRIES} 次仍失败 / the import kept colliding with other "
                        f"writers ({type(orig).__name__}) and was retried {MAX_RETRIES} times; try again"
                    ) from None
            attempt += 1
            # The import we deadlocked with most likely runs again too: a random
            # pause keeps the two from meeting at the same rows once more.
            time.sleep(random.uniform(0.05, 0.2) * attempt)

    def _run_once(self, paths: Sequence[Path]) -> ImportResult:
        started = dt.datetime.now(dt.UTC)
        # WRITE: on SQLite, take the write lock now (wait for another writer to
        # finish) rather than at the first insert, after having read.
        conn = self.store.engine.connect().execution_options(**WRITE)
        try:
            trans = conn.begin()
            self.lookups = Lookups(conn, self.store.metadata, self.store.access)
            self._analyzed_at = 0
            self._written = 0
            self._staging: str | None = None
            self._on_conflict = conn.dialect.name == "postgresql" and _has_unique(self.table, self._db_key_columns())
            if conn.dialect.name == "postgresql" and not self._on_conflict:
                # Without a unique key, ON CONFLICT cannot tell two imports
                # inserting the same record apart: imports of this table take
                # turns instead (the lock is released at commit or rollback).
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"fupin:{self.table.name}"})
            self._analyze(conn, {self.kind.table, *(r.table for r in self.kind.references)})
            self.lookups.trusted = self._trusted_tables(conn)
            self._start_writing(conn)
            for path in paths:
                self._import_file(conn, Path(path), started)
            keep = not self.dry_run and (self.on_error == "skip" or not self.result.errors)
            if keep:
                for f in self.result.files:
                    self._finish_batch(conn, f)
                trans.commit()
                self.result.committed = True
            else:
                trans.rollback()
        except BaseException:
            self._stop_writing()  # before the rollback: a write may still be running
            if conn.in_transaction():
                conn.rollback()
            raise
        finally:
            self._stop_writing()
            conn.close()
        if not self.result.committed and not self.dry_run:
            # The data is rolled back; the attempt itself is kept on record.
            with self.store.engine.execution_options(**WRITE).begin() as record_conn:
                for f in self.result.files:
                    f.batch_id = None
                    f.inserted = f.updated = f.unchanged = 0
                    self._insert_batch(record_conn, f, started, status="rejected")
        return self.result

    def _insert_batch(self, conn: sa.Connection, f: FileResult, started: dt.datetime, status: str) -> int:
        values = {
            "kind": self.kind.name,
            "file_name": f.file,
            "content_hash": f.content_hash,
            "format": f.format,
            "status": status,
            "rows": f.rows,
            "inserted": f.inserted,
            "updated": f.updated,
            "unchanged": f.unchanged,
            "rejected": f.rejected,
            "unit": self.store.actor.unit,
            "user": self.store.actor.user,
            "started_at": started,
            "finished_at": dt.datetime.now(dt.UTC) if status != "running" else None,
        }
        return conn.execute(S.import_batches.insert().values(**values)).inserted_primary_key[0]

    def _finish_batch(self, conn: sa.Connection, f: FileResult) -> None:
        status = "partial" if f.rejected else "committed"
        conn.execute(
            S.import_batches.update()
            .where(S.import_batches.c.id == f.batch_id)
            .values(
                status=status, rows=f.rows, inserted=f.inserted, updated=f.updated,
                unchanged=f.unchanged, rejected=f.rejected, finished_at=dt.datetime.now(dt.UTC),
            )
        )
        self.store._audit(
            conn, "import", self.table, f"batch:{f.batch_id}", None,
            {"file": f.file, "content_hash": f.content_hash, "inserted": f.inserted, "updated": f.updated,
             "unchanged": f.unchanged, "rejected": f.rejected, "kind": self.kind.name},
        )

    def _progressed(self, path: Path, row: int) -> None:
        """Tell ``progress`` how far the import is: rows read of the rows expected, over every file (per chunk)."""
        assert self.progress is not None
        self._done_files[path] = min(row, self._expected.get(path, row))
        total = max(sum(self._expected.values()), sum(self._done_files.values()))
        self.progress(sum(self._done_files.values()), total)

    def _import_file(self, conn: sa.Connection, path: Path, started: dt.datetime) -> None:
        name = path.name
        # Before hashing: a named pipe or /dev/zero would be read for ever.
        require_regular_file(path)
        try:
            digest = file_hash(path)
        except OSError as exc:
            raise FupinError(f"{path}: 无法读取 / cannot read: {exc.strerror or exc}") from None
        try:
            table = open_table(
                path, encoding=self.encoding, sheet=self.sheet, is_header=self._is_header, limits=self.limits,
                known_header=self._known_header,
            )
        except ShapeError as exc:
            # Found before any row was read (a value under a blank header, a formula without a
            # value): the file's error, as a missing column is; the other files go on.
            f = FileResult(name, EXTENSIONS.get(path.suffix.lower(), path.suffix.lstrip(".")), digest)
            self.result.files.append(f)
            self._file_error(f, exc.row, exc.column, exc.reason)
            return
        with table:
            f = FileResult(name, table.info.format, digest, notices=list(table.info.notices))
            self.result.files.append(f)
            # JSON lines have no header row: their keys are first seen on line 1.
            columns = self._map_headers(table.info.headers, f, table.info.header_row or 1)
            if columns is None:
                return
            # A CSV file's cells are all stripped text (or None): they need fewer checks.
            reader = self.parser.text_reader if table.info.format == "csv" else self.parser.reader
            self._readers = [(h, c.target, c.required, reader(c)) for h, c in columns.items()]
            #: The file's personal columns (header -> what they hold), whose cells may come masked.
            self._personal = {h: c.personal for h, c in columns.items() if c.personal in masking.MASKS}
            self._unmasked_rows = set()
            #: Keys of this file's rows refused for other reasons, by row: a later row with one is a duplicate.
            self._failed_keys = {}
            f.batch_id = self._insert_batch(conn, f, started, status="running")
            if self.progress is not None and table.info.last_row is not None:
                self._expected[path] = table.info.last_row  # a sheet's rows are known once it is open
            for parsed in self._parsed_chunks(path, table):
                self._chunk(conn, f, columns, parsed)
                if self.progress is not None and parsed:
                    self._progressed(path, parsed[-1][0])
            self._settle(conn, f, columns)
            self.kind.after_file(conn, f.batch_id)
        # Checks run in stages per chunk; report in the order of the file.
        mine = [e for e in self.result.errors if e.file == name]
        others = [e for e in self.result.errors if e.file != name]
        self.result.errors = others + sorted(mine, key=lambda e: e.row)

    def _trusted_tables(self, conn: sa.Connection) -> set[str]:
        """This kind's table, when it is empty as the import begins and its natural key is unique; else nothing.

        Then a stored row that a look-up would find was written by this import
        in an earlier chunk, or by another import meanwhile, and writing the
        same key again breaks the unique index: :meth:`_chunk` skips the
        look-ups and checks again only a chunk where that happens. An initial
        load of a register (the largest import there is) pays no look-ups.
        """
        if not _has_unique(self.table, self._db_key_columns()):
            return set()
        if conn.execute(sa.select(sa.literal(1)).select_from(self.table).limit(1)).first() is not None:
            return set()
        return {self.table.name}

    def _is_header(self, cells: Sequence[str]) -> bool:
        from fupin.vocab import normalize_key

        known = sum(1 for c in cells if c and normalize_key(c) in self.headers)
        return known >= min(2, len(self.kind.columns))

    def _known_header(self, name: str) -> bool:
        from fupin.vocab import normalize_key

        return normalize_key(name) in self.headers

    def _map_headers(self, headers: Sequence[str], f: FileResult, header_row: int = 1) -> dict[str, Column] | None:
        """File header -> column; errors on the header row (as the spreadsheet numbers it) for missing or repeated columns."""
        from fupin.vocab import normalize_key

        mapping: dict[str, Column] = {}
        errors_before = len(self.result.errors)
        self._token_header = None
        tokens = {normalize_key(masking.TOKEN_ZH), normalize_key(masking.TOKEN_EN)}
        for header in headers:
            column = self.headers.get(normalize_key(header))
            if column is None and normalize_key(header) in tokens:
                self._token_header = header  # a masked export's record tokens (see fupin.io.masking)
            elif column is None:
                f.ignored_columns.append(header)
            elif column in mapping.values():
                self._file_error(f, header_row, header, f"列重复 / the column appears twice ({column.zh} / {column.name})")
            else:
                mapping[header] = column
        present = set(mapping.values())
        for column in self.kind.columns:
            if column.required and column not in present:
                self._file_error(f, header_row, column.zh, f"缺少必填列 / required column missing ({column.zh} / {column.name})")
        return None if len(self.result.errors) > errors_before else mapping

    def _file_error(self, f: FileResult, row: int, column: str, reason: str) -> None:
        self.result.errors.append(RowError(f.file, row, column, None, reason))

    # -- one chunk -------------------------------------------------------------------

    def _chunk(self, conn: sa.Connection, f: FileResult, columns: dict[str, Column], rows: list[tuple[int, Any]]) -> None:
        """Check and write one chunk of parsed rows: (row number, record or its problems).

        While the table holds only what this import wrote (:meth:`_trusted_tables`),
        the look-ups of stored rows are skipped and the chunk is written so that
        it can be taken back: a row that would have needed them (a duplicate of
        an earlier chunk, a second head of a household) breaks a unique index
        instead. Then the chunk is taken back and checked again with every
        look-up, so the outcome is the same as if they had never been skipped.
        """
        if self._writer is not None:
            self._chunk_beside_writer(conn, f, columns, rows)
            return
        before = self._counts(f)
        # A savepoint also where nothing is trusted: a value the database refuses
        # (see _refused_value) must leave the transaction usable, to find its row.
        undo = self._undo_point(conn) if self.lookups.trusted else conn.begin_nested()
        staging = self._staging
        try:
            self._check_and_write(conn, f, columns, rows)
        except Exception as exc:
            try:
                undo.rollback()
            except sa.exc.DBAPIError:
                # The database ended the transaction itself (SQLite does on a full disk): its error says why, not the savepoint's.
                raise exc from None
            self._staging = staging  # a staging table made in the savepoint is gone with it
            if _unique_violation(exc) and self.lookups.trusted:
                self._check_again(conn, f, columns, rows, before)
            elif _refused_value(exc):
                self._row_by_row(conn, f, columns, rows, before)
            else:
                raise
        else:
            undo.commit()

    def _chunk_beside_writer(self, conn: sa.Connection, f: FileResult, columns: dict[str, Column], rows: list[tuple[int, Any]]) -> None:
        """:meth:`_chunk` on PostgreSQL: this chunk is checked while the previous one is written (see :class:`_Writer`).

        A clash of the previous chunk surfaces here, when its write is waited
        for: then it is checked and written again with every look-up, as
        :meth:`_chunk` does, and this one after it.
        """
        before = self._counts(f)
        try:
            self._check_and_write(conn, f, columns, rows)  # ends by handing its insert to the writer
        except Exception as exc:
            if self._in_flight is None or not (_unique_violation(exc) or _refused_value(exc)):
                raise
            self._write_again(conn, f, columns, exc)
            self._chunk(conn, f, columns, rows)
        else:
            self._in_flight = (rows, before)

    def _settle(self, conn: sa.Connection, f: FileResult, columns: dict[str, Column]) -> None:
        """Wait for the chunk being written in the background; if it clashed, write it again with look-ups."""
        if self._writer is None or self._in_flight is None:
            return
        try:
            self._writer.wait()
        except Exception as exc:
            if not (_unique_violation(exc) or _refused_value(exc)):
                raise
            self._write_again(conn, f, columns, exc)
        else:
            self._in_flight = None

    def _write_again(self, conn: sa.Connection, f: FileResult, columns: dict[str, Column], exc: BaseException) -> None:
        """The chunk written in the background failed (its savepoint is rolled back): check and write it again.

        With every look-up if it clashed with a stored row; row by row if the
        database refused a value (``exc``).
        """
        assert self._in_flight is not None
        rows, before = self._in_flight
        self._in_flight = None
        if _unique_violation(exc):
            self._check_again(conn, f, columns, rows, before)
        else:
            self._row_by_row(conn, f, columns, rows, before)

    def _row_by_row(
        self, conn: sa.Connection, f: FileResult, columns: dict[str, Column], rows: list[tuple[int, Any]], before: tuple[tuple[int, ...], int]
    ) -> None:
        """The database refused a value of a chunk (rolled back): write its rows one at a time, each in a savepoint.

        A row the database refuses is reported on its own spreadsheet row and
        column, not as the driver's statement line; the others are written as
        a chunk of one row each would be. Values are checked before writing
        (lengths, ranges: fupin.io.kinds.limited), so this is for what those
        checks do not know (a plugin's table narrower than its columns say).
        """
        self._restore_counts(f, before)
        self._stop_writing()
        self.lookups.trusted = set()  # rows already written are looked up from now on, as in _check_again
        header_of = {c.target: h for h, c in columns.items()}
        for row in rows:
            mark = self._counts(f)
            savepoint = conn.begin_nested()
            staging = self._staging
            try:
                self._check_and_write(conn, f, columns, [row])
            except Exception as exc:
                savepoint.rollback()
                self._staging = staging  # a staging table made in the savepoint is gone with it
                if not _refused_value(exc):
                    raise
                self._restore_counts(f, mark)
                f.rows += 1
                self._reject(f, row[0], [self._database_problem(exc, columns, row[1])], header_of)
            else:
                savepoint.commit()

    def _database_problem(self, exc: BaseException, columns: dict[str, Column], record: Any) -> Problem:
        """The database's refusal of one row as a Problem, on the column it names (PostgreSQL) or whose value is beyond 64 bits (SQLite)."""
        orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        diag = getattr(orig, "diag", None)
        db_column = getattr(diag, "column_name", None)
        if db_column is None and getattr(diag, "context", None):
            found = re.search(r"column (\w+)", diag.context)  # COPY's "COPY households, line 1, column head_name: ..."
            db_column = found[1] if found else None
        stored = {r.field: r.db_column for r in self.kind.references if r.id_column}
        renames = getattr(self.kind, "renames", {})
        field = ""
        for column in columns.values():
            value = getattr(record, column.target, None)
            if db_column is not None and db_column in (stored.get(column.target), renames.get(column.target, column.target)):
                field = column.target
            elif db_column is None and isinstance(orig, OverflowError) and isinstance(value, int) and abs(value) > BIGINT_MAX:
                field = column.target
        message = (getattr(diag, "message_primary", None) or str(orig) or type(orig).__name__).splitlines()[0]
        return Problem(field or db_column or "", f"数据库拒绝了此值 / the database refused the value: {message}")

    def _check_again(
        self, conn: sa.Connection, f: FileResult, columns: dict[str, Column], rows: list[tuple[int, Any]], before: tuple[tuple[int, ...], int]
    ) -> None:
        """A chunk that clashed is taken back: its counts and errors undone, it is checked and written again with every look-up."""
        self._restore_counts(f, before)
        self._stop_writing()
        self.lookups.trusted = set()  # for the rest of the import too: the table is no longer only this import's
        self._check_and_write(conn, f, columns, rows)

    def _counts(self, f: FileResult) -> tuple[tuple[int, ...], int]:
        """What a chunk changes in the file's counts and the errors, to restore if it is checked again."""
        return (f.rows, f.inserted, f.updated, f.unchanged, f.rejected, self._written), len(self.result.errors)

    def _restore_counts(self, f: FileResult, before: tuple[tuple[int, ...], int]) -> None:
        counts, errors = before
        f.rows, f.inserted, f.updated, f.unchanged, f.rejected, self._written = counts
        del self.result.errors[errors:]

    def _start_writing(self, conn: sa.Connection) -> None:
        """On PostgreSQL, into a trusted table of a kind that writes nothing else: write chunks in the background."""
        self._writer = None
        self._in_flight = None
        if conn.dialect.name != "postgresql" or self.table.name not in self.lookups.trusted:
            return
        if self._writes_after or type(self.kind).after_file is not ImportKind.after_file:
            return
        self._writer = _Writer(conn)
        elsewhere = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.lookups.read_elsewhere(self._writer.wait, self.table.name, elsewhere)

    def _stop_writing(self) -> None:
        """Wait for the write in progress, if any (its error is the caller's to have seen), and write in the foreground from now on."""
        writer = self._writer
        if writer is None:
            return
        self._writer = None
        writer.close()
        self.lookups.read_here()

    def _undo_point(self, conn: sa.Connection) -> Any:
        """What takes back a chunk written into a table only this import writes: rollback() and commit().

        A savepoint, except on SQLite for a kind that writes only its own
        table: there the chunk's rows are those numbered after the largest id
        (this import holds the write lock), and deleting them is the cheaper
        undo. A savepoint made the inserts of a province's persons a fifth slower
        (SQLite journals the pages it changes once more).
        """
        if conn.dialect.name == "sqlite" and "id" in self.table.c and not self._writes_after:
            return _InsertedSince(conn, self.table)
        return conn.begin_nested()

    def _check_and_write(self, conn: sa.Connection, f: FileResult, columns: dict[str, Column], rows: list[tuple[int, Any]]) -> None:
        f.rows += len(rows)
        self.lookups.new_chunk()
        header_of = {c.target: h for h, c in columns.items()}
        if self._personal and masking.MaskedRow in set(map(type, (r for _, r in rows))):
            rows = self._unmask(f, rows, columns, header_of)
        good = self._distinct(f, rows, header_of)
        good = self._check_references(f, good, header_of)
        denied = self.store.access.import_problems(self.lookups.conn, self.kind, good)
        for row_no, permission in denied.items():
            reason = _OUT_OF_SCOPE.format(actor=self.store.actor, permission=permission)
            self._reject(f, row_no, [Problem(self.kind.scope[1] if self.kind.scope else "", reason)], header_of)
        if denied:
            good = [(n, r) for n, r in good if n not in denied]
        problems = self.kind.check_chunk(self.lookups, good)
        kept = []
        for row_no, record in good:
            if problems.get(row_no):
                self._reject(f, row_no, problems[row_no], header_of)
            else:
                kept.append((row_no, record))
        # Written even when the import will be rolled back (abort with errors,
        # dry run): later chunks then see these rows, so counts, duplicates and
        # references come out exactly as a real import's would.
        self._write(conn, f, kept, set(columns.values()), header_of)

    def _unmask(self, f: FileResult, rows: list[tuple[int, Any]], columns: dict[str, Column], header_of: dict[str, str]) -> list[tuple[int, Any]]:
        """Rows with masked cells, their stored values put back and parsed again (or rejected).

        The stored record is found by the row's record token, else by its key
        (when the key is not masked itself), among the rows the actor may read.
        """
        from fupin.io.export import stored_cells

        masked = {n: r.cells for n, r in rows if type(r) is masking.MaskedRow}
        key_headers = [next((h for h, c in columns.items() if c.target == field), None) for field in self.kind.key]
        key_readers = [self.parser.reader(columns[h]) if h is not None else None for h in key_headers]
        wanted_ids: dict[int, int] = {}
        wanted_keys: dict[int, tuple[Any, ...]] = {}
        early: dict[int, Any] = {}
        for row_no, cells in masked.items():
            token = cells.get(self._token_header) if self._token_header else None
            if token:
                row_id = masking.token_id(str(token))
                if row_id is None:
                    early[row_no] = [Problem(self._token_header, masking.BAD_TOKEN, token)]
                else:
                    wanted_ids[row_no] = row_id
            elif None in key_headers or any(masking.looks_masked(self._personal.get(h, ""), cells.get(h)) for h in key_headers):
                early[row_no] = [Problem(key_headers[0] or self.kind.key[0], masking.MASKED_KEY, None)]
            else:
                try:
                    wanted_keys[row_no] = tuple(read(cells.get(h)) for h, read in zip(key_headers, key_readers))
                except (ValueError, FupinError) as exc:
                    early[row_no] = [Problem(key_headers[0], str(exc), None)]
        conn = self.lookups.conn
        found = stored_cells(self.store, conn, self.kind, ids=sorted(set(wanted_ids.values())), keys=sorted(set(wanted_keys.values()), key=str))
        by_id = {row_id: (key, cells) for row_id, key, cells in found}
        by_key = {key: cells for _row_id, key, cells in found}
        secret = masking.token_secret(conn) if wanted_ids else None
        out = []
        for row_no, item in rows:
            if row_no not in masked:
                out.append((row_no, item))
                continue
            cells = masked[row_no]
            if row_no in early:
                out.append((row_no, early[row_no]))
                continue
            if row_no in wanted_ids:
                row_id = wanted_ids[row_no]
                key, stored = by_id.get(row_id, (None, None))
                if stored is not None and not masking.token_matches(secret, str(cells[self._token_header]), self.table.name, row_id, key):
                    out.append((row_no, [Problem(self._token_header, masking.BAD_TOKEN, cells[self._token_header])]))
                    continue
            else:
                stored = by_key.get(wanted_keys[row_no])
            by_header = None if stored is None else {h: stored.get(c.name) for h, c in columns.items()}
            resolved = masking.unmask_cells(cells, self._personal, by_header)
            if isinstance(resolved, list):
                out.append((row_no, resolved))
                continue
            self._unmasked_rows.add(row_no)
            record = self._parse_unmasked(resolved)
            out.append((row_no, record))
        return out

    def _parse_unmasked(self, cells: dict[str, Any]) -> Any:
        """Parse a row whose masked cells were filled from the stored record (they hold no stars now)."""
        personal, self._personal = self._personal, {}
        try:
            return self._parse(cells)
        finally:
            self._personal = personal

    def _distinct(self, f: FileResult, rows: list[tuple[int, Any]], header_of: dict[str, str]) -> list[tuple[int, Any]]:
        """The chunk's records, each key once: rows that failed to parse, and repeats of a key, are rejected."""
        records = [record for _, record in rows]
        failed = self._failed_keys
        if not any(issubclass(t, list) for t in set(map(type, records))):
            # The usual chunk, every row parsed and every key new: told at C speed.
            keys = set(map(self._key_of, records))
            if len(keys) == len(records) and (not failed or failed.keys().isdisjoint(keys)):
                return rows
        seen: dict[tuple[Any, ...], int] = {}
        good: list[tuple[int, Any]] = []
        refused: list[tuple[int, list[Problem]]] = []
        for row_no, record in rows:
            # A key seen before (in this chunk, or on a refused row of an earlier one) is named as a
            # duplicate even when its row is refused for something else: the other row is the clue.
            key = getattr(record, "key", None) if isinstance(record, list) else self._key_of(record)
            first = None if key is None else seen.get(key) or failed.get(key)
            if first == row_no:
                first = None  # this very row, in a chunk checked again (see _check_again)
            if isinstance(record, list):
                if first is not None:
                    record = [_duplicate(self.kind, key, first), *record]
                elif key is not None:
                    seen[key] = failed[key] = row_no
                refused.append((row_no, record))
            elif first is not None:
                self._reject(f, row_no, [_duplicate(self.kind, key, first)], header_of)
            else:
                seen[key] = row_no
                good.append((row_no, record))
        written = self._written_by_file(f, [k for _, r in refused if (k := getattr(r, "key", None)) is not None])
        for row_no, problems in refused:
            key = getattr(problems, "key", None)
            if key in written:
                problems = [_duplicate(self.kind, key, None), *problems]
            self._reject(f, row_no, problems, header_of)
        return good

    def _written_by_file(self, f: FileResult, keys: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        """Which of ``keys`` rows of this file wrote in earlier chunks (keys stored as they are read only)."""
        key_cols = self._db_key_columns()
        if not keys or f.batch_id is None or key_cols != list(self.kind.key) or "import_batch_id" not in self.table.c:
            return set()
        t = self.table
        query = sa.select(*(t.c[c] for c in key_cols)).where(_key_in(t, key_cols, sorted(set(keys), key=str)), t.c.import_batch_id == f.batch_id)
        return {tuple(row) for row in self.lookups.conn.execute(query)}

    def _parse(self, cells: dict[str, Any]) -> Any:
        """One row's record, or the list of its problems (pure: runs in the parsing worker too).

        A row with masked personal cells comes back as a :class:`~fupin.io.masking.MaskedRow`,
        for the importer to resolve against the stored record.
        """
        for header in self._personal:
            raw = cells.get(header)
            if raw.__class__ is str and "*" in raw:
                return masking.MaskedRow(cells)
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for header, target, required, read in self._readers:
            raw = cells.get(header)
            if raw is None:  # a blank cell (files give None): nothing to read
                if required:
                    problems.append(Problem(target, "必填 / required", None))
                continue
            try:
                value = read(raw)
            except ValidationError as exc:
                problems.extend(Problem(target, p.reason, raw) for p in exc.problems)
                continue
            except ValueError as exc:
                problems.append(Problem(target, str(exc), raw))
                continue
            if value is None:
                if required:
                    problems.append(Problem(target, "必填 / required", None))
                continue
            values[target] = value
        if problems:
            return self._refused(problems, values)
        try:
            record = self.kind.build(values, self.store.vocab)
        except ValidationError as exc:
            return self._refused(exc.problems, values)
        except (TypeError, ValueError) as exc:
            return self._refused([Problem("", str(exc))], values)
        problems = self._validate(record) if self._validate is not None else None
        return _Refused(problems, self._key_of(record)) if problems else record

    def _refused(self, problems: list[Problem], values: dict[str, Any]) -> _Refused:
        """A row's problems, with its key when its key cells were read (so a repeated key is named as one too)."""
        key = None
        if type(self.kind).key_of is ImportKind.key_of:
            key = tuple(values.get(field) for field in self.kind.key)
            if None in key:
                key = None
        return _Refused(problems, key)

    def _parse_chunk(self, rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, Any]]:
        # Records only travel from the worker: their table rows are made here,
        # after the checks (sending both costs more in pickling than it saves).
        return [(row_no, self._parse(cells)) for row_no, cells in rows]

    def _raw_chunks(self, table: Any) -> Iterator[list[tuple[int, dict[str, Any]]]]:
        rows = iter(table)
        while chunk := list(itertools.islice(rows, self.batch_size)):
            yield chunk

    def _parsed_chunks(self, path: Path, table: Any) -> Iterator[list[tuple[int, Any]]]:
        """Parsed chunks of a file: in a forked worker process for large files, else here."""
        if self._use_worker(path):
            yield from parallel.parsed_in_worker(lambda: map(self._parse_chunk, self._raw_chunks(table)))
        else:
            yield from map(self._parse_chunk, self._raw_chunks(table))

    def _use_worker(self, path: Path) -> bool:
        if self.parallel is not None:
            return self.parallel and parallel.available(self.kind)
        return path.stat().st_size >= PARALLEL_FROM_BYTES and parallel.available(self.kind)

    def _reject(self, f: FileResult, row_no: int, problems: list[Problem], header_of: dict[str, str], cells: dict[str, Any] | None = None) -> None:
        f.rejected += 1
        for p in problems:
            # A column of its own ("answers.attribute"), else the column the field belongs to ("details.topic" -> details).
            field = p.field if p.field in header_of else p.field.split(".", 1)[0]
            column = header_of.get(field, field)
            value = p.value
            if cells is not None and column in cells and value is None:
                value = cells[column]
            if row_no in self._unmasked_rows and value not in (None, ""):
                # Its personal cells came masked and were filled from the store: never show what they hold.
                kind = self._personal.get(column)
                if kind is not None:
                    value = masking.mask(kind, value)
            self.result.errors.append(RowError(f.file, row_no, column, _plain(value), p.reason))

    def _check_references(self, f: FileResult, rows: list[tuple[int, Any]], header_of: dict[str, str]) -> list[tuple[int, Any]]:
        """Drop (and report) rows whose references name nothing; resolve the rest in bulk."""
        #: reference field -> {key: id} for references stored as ids
        self._ids: dict[str, dict[Any, Any]] = {}
        bad: dict[int, list[Problem]] = {}
        valid = []
        for ref in self.kind.references:
            keys = {getattr(r, ref.field) for _, r in rows}
            keys.discard(None)
            wanted_cols = [c for c in (ref.id_column, *ref.where) if c and c != ref.key]
            stored = self.lookups.rows(ref.table, ref.key, keys, wanted_cols)
            if ref.where:
                stored = {k: row for k, row in stored.items() if all(row[c] == v for c, v in ref.where.items())}
            if ref.id_column:
                self._ids[ref.field] = {k: row[ref.id_column] for k, row in stored.items()}
            valid.append((ref, stored))
        self_referencing = any(ref.table == self.kind.table for ref in self.kind.references)
        # Row by row, in file order: a row may refer to one of its own kind
        # defined above it in the import (a department below its university).
        for row_no, record in rows:
            for ref, stored in valid:
                value = getattr(record, ref.field)
                if value is None or value in stored:
                    continue
                if ref.table == self.kind.table and self.lookups.pending(ref.table, value) is not None:
                    continue
                bad.setdefault(row_no, []).append(Problem(ref.field, f"{ref.label} 未登记 / not registered", value))
            if self_referencing and row_no not in bad:
                self.lookups.remember(self.kind.table, self.kind.key_of(record)[0], record)
        for row_no, problems in bad.items():
            self._reject(f, row_no, problems, header_of)
        return [(n, r) for n, r in rows if n not in bad] if bad else rows

    # -- writing -----------------------------------------------------------------------

    def _db_row(self, record: Any) -> dict[str, Any]:
        """The table row of a record, references resolved to ids."""
        row = self.kind.db_row(record)
        for ref in self._id_references:
            value = row.pop(ref.field, None)
            row[ref.db_column] = None if value is None else self._ids[ref.field].get(value)
        return row

    def _db_key_columns(self) -> list[str]:
        names = []
        for field in self.kind.key:
            ref = next((r for r in self.kind.references if r.field == field and r.id_column), None)
            if ref is not None:
                names.append(ref.db_column)
            else:
                renames = getattr(self.kind, "renames", {})
                names.append(renames.get(field, field))
        return names

    def _write(self, conn: sa.Connection, f: FileResult, rows: list[tuple[int, Any]], present: set[Column], header_of: dict[str, str]) -> None:
        if not rows:
            return
        if self.table.name in self.lookups.trusted:
            # Nothing stored to compare with (see _chunk): straight in.
            inserted, updates = self._insert_new(conn, rows, f.batch_id), []
        else:
            inserted, updates = self._compare_and_write(conn, f, rows, present, header_of)
        f.inserted += len(inserted)
        f.updated += len(updates)
        self._written += len(inserted)
        if self._written > 2 * self._analyzed_at + 1000 and self.table.name not in self.lookups.trusted:
            # Only a table this import looks rows up in needs fresh statistics.
            self._analyze(conn, {self.kind.table})
            self._analyzed_at = self._written
        self.kind.after_write(conn, inserted, updates)

    def _insert_new(self, conn: sa.Connection, rows: list[tuple[int, Any]], batch_id: int | None) -> list[tuple[Any, Any]]:
        """Insert records no stored row can clash with, as value lists; (record, id) of each."""
        records = [r for _, r in rows]
        plan = self.kind.db_values()
        if plan is None:
            dicts = [self._db_row(r) for r in records]
            columns = [c.name for c in self.table.columns if c.name in dicts[0]]
            values = [[d[c] for c in columns] for d in dicts]
        else:
            names, getter = plan
            columns = list(names)
            values = [list(getter(r)) for r in records]
            for ref in self._id_references:
                at = columns.index(ref.field)
                columns[at] = ref.db_column
                ids = self._ids[ref.field]
                for v in values:
                    v[at] = ids.get(v[at])
            stored = [i for i, c in enumerate(columns) if c in self.table.c]
            if len(stored) < len(columns):
                columns = [columns[i] for i in stored]
                values = [[v[i] for i in stored] for v in values]
        columns.append("import_batch_id")
        for v in values:
            v.append(batch_id)
        ids = self._new_ids(conn, len(values))
        if ids:
            columns.append("id")
            for v, new_id in zip(values, ids, strict=True):
                v.append(new_id)
        if self._writer is not None:
            self._writer.submit(functools.partial(bulk.insert_values, conn, self.table, columns, values))
        else:
            bulk.insert_values(conn, self.table, columns, values)
        return list(zip(records, ids, strict=True)) if ids else [(r, None) for r in records]

    def _new_ids(self, conn: sa.Connection, count: int) -> list[int]:
        """Ids for ``count`` new rows, when the kind's after_write needs them (else none: the database numbers them).

        Numbered here rather than read back after the insert: on PostgreSQL
        drawn from the table's sequence, on SQLite counted on from the largest
        id (this import holds the write lock, so nobody else inserts meanwhile).
        """
        if not self._needs_ids or not count:
            return []
        if conn.dialect.name == "postgresql":
            # One array, read by the driver, not a result row per id.
            cursor = conn.connection.driver_connection.cursor()
            cursor.execute(
                "SELECT array_agg(nextval(pg_get_serial_sequence(%s, 'id'))) FROM generate_series(1, %s)", (self.table.name, count)
            )
            return cursor.fetchone()[0]
        last = _largest_id(conn, self.table)
        return list(range(last + 1, last + count + 1))

    def _compare_and_write(
        self, conn: sa.Connection, f: FileResult, rows: list[tuple[int, Any]], present: set[Column], header_of: dict[str, str]
    ) -> tuple[list[tuple[Any, Any]], list[tuple[Any, dict[str, Any], dict[str, Any]]]]:
        """Insert the rows whose key is not stored, update the changed ones; (record, id) inserted and the updates."""
        key_cols = self._db_key_columns()
        pending = [(n, r, self._db_row(r)) for n, r in rows]
        fields = self.kind.compared_fields(present)
        if fields is None:
            compared = set(pending[0][2])
        else:
            renames = getattr(self.kind, "renames", {})
            id_refs = {r.field: r.db_column for r in self.kind.references if r.id_column}
            compared = {id_refs.get(f) or renames.get(f, f) for f in fields}
        inserted: list[tuple[Any, Any]] = []
        updates: list[tuple[Any, dict[str, Any], dict[str, Any]]] = []
        # Rows another import inserted between our look-up and our insert come
        # back from the insert; a second round compares them with that row.
        while pending:
            existing = self._existing(conn, key_cols, [tuple(d[c] for c in key_cols) for _, _, d in pending])
            new, changed = self._classify(f, pending, existing, key_cols, compared, header_of)
            updates += changed
            if not new:
                break
            done, pending = self._insert(conn, key_cols, new, f.batch_id)
            inserted += done
        if updates:
            # In key order, the order _existing locked the rows in.
            updates.sort(key=lambda u: tuple(u[1][c] for c in key_cols))
            self._update(conn, key_cols, updates, f.batch_id)
        return inserted, updates

    def _classify(
        self,
        f: FileResult,
        rows: list[tuple[int, Any, dict[str, Any]]],
        existing: Mapping[tuple[Any, ...], Mapping[str, Any]],
        key_cols: list[str],
        compared: set[str],
        header_of: dict[str, str],
    ) -> tuple[list[tuple[int, Any, dict[str, Any]]], list[tuple[Any, dict[str, Any], dict[str, Any]]]]:
        """Rows to insert and (record, old row, changes) to update; counts the unchanged rows."""
        new = []
        updates = []
        for row_no, record, d in rows:
            old = existing.get(tuple(d[c] for c in key_cols))
            if old is None:
                new.append((row_no, record, d))
                continue
            if not old.get(_IN_SCOPE, True):
                # Stored outside the actor's scope: refused without a word about what is stored.
                field = self.kind.scope[1] if self.kind.scope else self.kind.key[0]
                self._reject(f, row_no, [Problem(field, _OUT_OF_SCOPE.format(actor=self.store.actor, permission=self.kind.write_permission))], header_of)
                continue
            if f.batch_id is not None and old.get("import_batch_id") == f.batch_id:
                # Written by an earlier chunk of this same file.
                self._reject(f, row_no, [_duplicate(self.kind, self.kind.key_of(record), None)], header_of)
                continue
            diff = {c: d[c] for c in compared if c in d and not _same(old[c], d[c])}
            if diff:
                refused = self.kind.update_problems(self.store, self.lookups, old, record, diff)
                if refused:
                    self._reject(f, row_no, refused, header_of)
                    continue
                updates.append((record, dict(old), diff))
            else:
                f.unchanged += 1
        return new, updates

    def _analyze(self, conn: sa.Connection, tables: set[str]) -> None:
        """Refresh PostgreSQL's statistics of tables this import reads by key.

        A table filled in this very transaction (or just before, before
        autovacuum came by) looks empty to the planner, which then scans it
        whole for every chunk's key look-up. Called as the table doubles, so a
        million rows cost about twenty ANALYZEs.

        ANALYZE keeps its table lock until commit and waits for another's:
        SKIP_LOCKED (PostgreSQL 12+) skips a table another import is analysing
        rather than waiting for that whole import to end.
        """
        if conn.dialect.name != "postgresql":
            return
        for name in sorted(tables):
            conn.exec_driver_sql(f'ANALYZE (SKIP_LOCKED) "{self.store.metadata.tables[name].name}"')

    def _existing(self, conn: sa.Connection, key_cols: list[str], keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Mapping[str, Any]]:
        """Stored rows with these keys; on PostgreSQL locked until commit, for the compare and update to follow."""
        t = self.table
        lock = conn.dialect.name == "postgresql"
        out: dict[tuple[Any, ...], Mapping[str, Any]] = {}
        # Sorted, and locked in that order: two imports locking overlapping
        # rows then never each hold a row the other waits for.
        keys = sorted(set(keys))
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            query = sa.select(t).where(_key_in(t, key_cols, part))
            if lock:
                query = query.order_by(*_key_order(t, key_cols)).with_for_update()
            found = {tuple(row[c] for c in key_cols): dict(row) for row in conn.execute(query).mappings()}
            if found and self._stored_scope is not None:
                st = self._scope_table
                reached = {tuple(r) for r in conn.execute(sa.select(*(st.c[c] for c in key_cols)).where(_key_in(st, key_cols, list(found)), self._stored_scope))}
                for key, row in found.items():
                    row[_IN_SCOPE] = key in reached
            out.update(found)
        self.kind.enrich_existing(conn, out)
        return out

    def _insert(
        self, conn: sa.Connection, key_cols: list[str], new: list[tuple[int, Any, dict[str, Any]]], batch_id: int | None
    ) -> tuple[list[tuple[Any, Any]], list[tuple[int, Any, dict[str, Any]]]]:
        """Insert new rows: (record, id) of those inserted, and the rows another writer inserted first."""
        rows = [d for _, _, d in new]
        for row, new_id in zip(rows, self._new_ids(conn, len(rows))):
            row["id"] = new_id
        for row in rows:
            row["import_batch_id"] = batch_id
        columns = [c.name for c in self.table.columns if c.name in rows[0]]
        if conn.dialect.name != "postgresql" or not self._on_conflict:
            # SQLite: this import holds the write lock. PostgreSQL without a unique
            # key: imports of this table take turns (advisory lock). Nobody inserts meanwhile.
            bulk.insert_rows(conn, self.table, rows, columns)
            return [(r, d.get("id")) for _, r, d in new], []
        done = self._insert_on_conflict(conn, key_cols, columns, rows)
        inserted = [(r, d.get("id")) for _, r, d in new if tuple(d[c] for c in key_cols) in done]
        raced = [row for row in new if tuple(row[2][c] for c in key_cols) not in done]
        return inserted, raced

    def _insert_on_conflict(self, conn: sa.Connection, key_cols: list[str], columns: list[str], rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
        """COPY rows into a staging table, then insert those whose key is still free; their keys."""
        q = conn.dialect.identifier_preparer.quote
        if self._staging is None:
            # One per import, gone at commit. Made from a query rather than LIKE:
            # it has the columns and their types but no NOT NULL or defaults, so
            # the id column neither refuses the COPY nor draws sequence numbers.
            self._staging = f"fupin_staging_{self.table.name}"
            conn.exec_driver_sql(f"CREATE TEMP TABLE {q(self._staging)} ON COMMIT DROP AS SELECT * FROM {q(self.table.name)} WITH NO DATA")
        else:
            conn.exec_driver_sql(f"TRUNCATE {q(self._staging)}")
        bulk.insert_values(conn, self.table, columns, [[row[c] for c in columns] for row in rows], into=self._staging)
        names = ", ".join(q(c) for c in columns)
        keys = ", ".join(q(c) for c in key_cols)
        order = ", ".join(str(c.compile(dialect=conn.dialect)) for c in _key_order(self.table, key_cols, qualified=False))
        # In key order, like the locks of _existing; a key another import has
        # just inserted waits for that import to end, then is skipped if it committed.
        result = conn.exec_driver_sql(
            f"INSERT INTO {q(self.table.name)} ({names}) SELECT {names} FROM {q(self._staging)} ORDER BY {order} "
            f"ON CONFLICT ({keys}) DO NOTHING RETURNING {keys}"
        )
        return {tuple(row) for row in result}

    def _update(self, conn: sa.Connection, key_cols: list[str], updates: list[tuple[Any, dict, dict]], batch_id: int | None) -> None:
        t = self.table
        has_version = "version" in t.c
        audit = []
        now = dt.datetime.now(dt.UTC)
        for _record, old, diff in updates:
            values = {c: v for c, v in diff.items() if not c.startswith("_")} | {"import_batch_id": batch_id}
            if has_version:
                values["version"] = old["version"] + 1
            conn.execute(t.update().where(*(t.c[c] == old[c] for c in key_cols)).values(**values))
            audit.append(
                {
                    "at": now, "unit": self.store.actor.unit, "user": self.store.actor.user, "operation": "update",
                    "table_name": t.name, "record_key": "/".join(str(old[c]) for c in key_cols),
                    "old": {c: _json_value(old[c]) for c in diff}, "new": {c: _json_value(v) for c, v in diff.items()},
                    "reason": f"import batch {batch_id}",
                }
            )
        audit_chain.append(conn, audit)


#: The label of the column telling whether a stored row is in the actor's scope (see Importer._existing).
_IN_SCOPE = "_fupin_in_scope"
#: Why a row is refused for scope: the actor and the permission, nothing of the record stored.
_OUT_OF_SCOPE = "权限不足 / permission denied: {actor} lacks {permission} (不在权限范围内 / outside your scope)"


def _largest_id(conn: sa.Connection, table: sa.Table) -> int:
    """The largest id in ``table``, 0 when it is empty; SQLite numbers new rows on from it."""
    return conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0


class _Writer:
    """Writes chunks on the import's connection in a thread of its own (PostgreSQL).

    The server takes longer over a chunk's COPY than this process over
    checking the next one. Done in turn, each waited for the other and a core
    stood idle; side by side, the server works while the next chunk is
    checked (the look-ups of other tables go to a second connection
    meanwhile, see :meth:`Lookups.read_elsewhere`). One chunk is written at a
    time, each in a savepoint of its own that the thread rolls back if the
    write fails; the failure is raised by the next :meth:`wait`.
    """

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="fupin-import-writer")
        self._pending: concurrent.futures.Future[None] | None = None

    def submit(self, write: Callable[[], None]) -> None:
        """Start ``write()`` once the previous write is done (raising its error instead, if it failed)."""
        self.wait()
        self._pending = self._thread.submit(self._in_savepoint, write)

    def wait(self) -> None:
        """Wait for the write in progress; raise its error if it failed (the error is raised once)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the write in progress, dropping its error, and end the thread."""
        try:
            self.wait()
        except Exception:  # noqa: BLE001 - the import is failing or settled already
            pass
        finally:
            self._thread.shutdown()

    def _in_savepoint(self, write: Callable[[], None]) -> None:
        savepoint = self.conn.begin_nested()
        try:
            write()
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()


class _InsertedSince:
    """The rows of a table numbered after its largest id at this moment, to delete on rollback()."""

    def __init__(self, conn: sa.Connection, table: sa.Table) -> None:
        self.conn = conn
        self.table = table
        self.last = _largest_id(conn, table)

    def rollback(self) -> None:
        self.conn.execute(self.table.delete().where(self.table.c.id > self.last))

    def commit(self) -> None:
        pass  # nothing to undo


#: The young generation's collection threshold during an import (net new container objects).
_IMPORT_GC_THRESHOLD = 10_000


@contextlib.contextmanager
def _collector_eased() -> Iterator[None]:
    """Keep the garbage collector out of an import's way, for its duration.

    An import makes a few container objects per row (records, tuples, lists),
    none of them in a cycle; they are freed by reference counting when their
    chunk is written. The collector walked them anyway, and more:

    * the objects that exist before the import (SQLAlchemy's, the plugins',
      the vocabulary) are frozen: full collections walked every one of them
      again and again, a third of the import's time;
    * the young generation is collected after 10,000 new objects instead of
      700: a chunk's records were walked at each collection while they lived
      (a persons file of 250,000 households: 9.4 s against 10.1 s). Cycles
      made meanwhile are still collected, later. At 30,000 and more the
      importing process peaked 20 MB higher at that size, and higher the
      larger the file.

    The forked parsing worker inherits both settings.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], _IMPORT_GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _key_in(table: sa.Table, key_cols: list[str], keys: list[tuple[Any, ...]]) -> sa.ColumnElement[bool]:
    """``key IN (...)`` for a one-column or composite natural key, bound."""
    if len(key_cols) == 1:
        return table.c[key_cols[0]].in_([k[0] for k in keys])
    return sa.tuple_(*(table.c[c] for c in key_cols)).in_(keys)


def _key_order(table: sa.Table, key_cols: list[str], qualified: bool = True) -> list[sa.ColumnElement[Any]]:
    """The key columns to ORDER BY, text by code point (COLLATE "C") as Python sorts it."""
    columns = [table.c[c] if qualified else sa.column(c) for c in key_cols]
    return [sa.collate(c, "C") if isinstance(table.c[c.name].type, sa.String) else c for c in columns]


def _has_unique(table: sa.Table, columns: list[str]) -> bool:
    """Whether ``columns`` are exactly the primary key, a unique constraint or a (non-partial) unique index."""
    wanted = set(columns)
    if {c.name for c in table.primary_key.columns} == wanted:
        return True
    if len(columns) == 1 and table.c[columns[0]].unique:
        return True
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and {c.name for c in constraint.columns} == wanted:
            return True
    for index in table.indexes:
        plain = len(index.expressions) == len(index.columns) and index.dialect_options["postgresql"].get("where") is None
        if index.unique and plain and {c.name for c in index.columns} == wanted:
            return True
    return False


def _refused_value(exc: BaseException) -> bool:
    """Whether a write failed on a value the database refuses (too long, out of range, NUL, NOT NULL, CHECK), not on the database itself."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if isinstance(orig, OverflowError):
        return True  # sqlite3: an integer beyond 64 bits
    state = getattr(orig, "sqlstate", None) or ""
    return state.startswith("22") or state in ("23502", "23514") or getattr(orig, "sqlite_errorname", None) in (
        "SQLITE_CONSTRAINT_NOTNULL", "SQLITE_CONSTRAINT_CHECK", "SQLITE_TOOBIG"
    )


def _unique_violation(exc: BaseException) -> bool:
    """Whether a write failed on a unique index: SQLAlchemy's error, or the driver's own from a bulk write on its cursor."""
    orig = exc.orig if isinstance(exc, sa.exc.IntegrityError) else exc
    return getattr(orig, "sqlstate", None) == "23505" or getattr(orig, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_UNIQUE"


class _Refused(list):  # type: ignore[type-arg]
    """A row's problems (a list of Problem), with the row's natural key when it could be read, else None."""

    def __init__(self, problems: Iterable[Problem], key: tuple[Any, ...] | None) -> None:
        super().__init__(problems)
        self.key = key


def _duplicate(kind: ImportKind, key: tuple[Any, ...], first_row: int | None) -> Problem:
    zh, en = (f"第 {first_row} 行", f"row {first_row}") if first_row else ("本文件前面的一行", "an earlier row of this file")
    return Problem(kind.key[0], f"与{zh}重复 / duplicate of {en}", "/".join(map(str, key)))


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, Decimal) and old is not None:
        return Decimal(str(old)) == new
    if isinstance(new, (list, tuple)) and old is not None:
        return list(old) == list(new)
    return old == new


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, Decimal)):
        return str(value)
    return value


def import_files(store: Any, kind: str | ImportKind, paths: Sequence[Path | str], **options: Any) -> ImportResult:
    """Import ``paths`` as records of ``kind`` into ``store``.

    Args:
        store: an initialised :class:`fupin.Store`.
        kind: an import kind name (``"households"``) or object.
        paths: CSV, XLSX or JSON-lines files.
        **options: ``encoding``, ``sheet``, ``on_error`` ("abort" or "skip"),
            ``dry_run``, ``batch_size``, ``progress``, ``parallel``, ``limits``
            (a :class:`fupin.io.files.ReadLimits`: the bounds an XLSX file must stay
            within before it is read).

    Returns:
        The counts (inserted, updated, unchanged, rejected) and every error.
    """
    if isinstance(kind, str):
        kind = import_kinds(store)[kind] if kind in import_kinds(store) else _unknown_kind(store, kind)
    return Importer(store, kind, **options).run([Path(p) for p in paths])


def _line_count(path: Path) -> int:
    """Lines of a text file (the last one without its line break counted too): its rows at most, for progress."""
    lines, last = 0, b"\n"
    try:
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
    except OSError:
        return 0  # the import says why it cannot read it
    return lines + (last != b"\n")


def import_kinds(store: Any) -> dict[str, ImportKind]:
    """Every import kind: the core's and the plugins'."""
    return store.hooks.importers()


def _unknown_kind(store: Any, name: str) -> ImportKind:
    known = ", ".join(sorted(import_kinds(store)))
    raise ValidationError.of("kind", f"未知的导入类型 / unknown import kind; known: {known}", name)
