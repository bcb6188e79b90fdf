"""The hash chain of the audit log: canonical form, hashing, appending, verifying.

Every audit entry carries ``prev_hash`` (the hash of the entry before it, or
:data:`GENESIS` for the first) and ``hash``: SHA-256 over the canonical form of
its id, time, unit, user, operation, table, key, old and new values, reason and
``prev_hash`` (:func:`canonical`). Changing, deleting or inserting an entry
breaks the chain after it; :func:`verify` finds the first broken entry.

The head of the chain (its last id and hash, and the number of entries) is
also kept in the one-row table ``audit_anchor``. Appending reads the head
from there, not from the log, so a log that was emptied (``TRUNCATE``) or cut
short no longer matches its anchor. Both tables are append-only for the
application: triggers refuse UPDATE and DELETE of entries (and TRUNCATE on
PostgreSQL) and any move of the anchor backwards, and on PostgreSQL the
application's role (``fupin init --app-role``) may neither change those
triggers nor truncate. The limit: whoever can rewrite *both* tables
consistently (the schema's owner, the SQLite file's owner) is caught only
against a copy of the head kept elsewhere (``fupin audit head``, then
``fupin audit verify --expect HASH``).

Entries are appended when their transaction commits, not when they are made:
the store and the importer hand them to :func:`append`, and a commit hook
numbers and chains them after taking the head. So the head is locked
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write lock already
serialises writers) only for the moment of the commit, concurrent writers
never fork the chain, and a long import does not hold every other writer
back. Entries of a savepoint rolled back, or of a transaction rolled back,
are dropped with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from fupin.errors import StorageError
from fupin.serial import Serialisable
from fupin.storage import schema as S

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64
#: Version of the canonical form, hashed with every entry.
FORMAT = 1
#: Execution option of fupin's own writes to the log and its anchor (the commit
#: hook, migrations); any other INSERT into them is refused (see :func:`install`).
CHAIN_OPTION = "fupin_audit_chain"
CHAIN = {CHAIN_OPTION: True}

_FIELDS = ("id", "at", "unit", "user", "operation", "table_name", "record_key", "old", "new", "reason", "prev_hash")


# -- canonical form and hash ---------------------------------------------------------


def _at_text(at: dt.datetime | str) -> str:
    """The time in UTC, to the microsecond: what SQLite (naive text) and PostgreSQL (timestamptz) both give back."""
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


_SCALARS = (str, int, float, bool, type(None))


def json_value(value: Any) -> Any:
    """``value`` as it comes back from a JSON column (tuples as lists, keys as strings)."""
    if value is None:
        return None
    # Most entries are flat dicts of plain values, already what the column gives back: no round trip.
    if type(value) is dict and all(type(k) is str and type(v) in _SCALARS for k, v in value.items()):
        return value
    return json.loads(json.dumps(value))


def canonical(entry: Mapping[str, Any]) -> bytes:
    """The bytes hashed for an entry: its fields as sorted, compact JSON in UTF-8.

    ``entry`` has the columns of ``audit_log`` (``table_name``, ``record_key`` ...);
    ``old`` and ``new`` are taken as their JSON column gives them back.
    """
    fields = {name: entry[name] for name in _FIELDS}
    fields["at"] = _at_text(entry["at"])
    fields["v"] = FORMAT
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of :func:`canonical` ``(entry)``; ``entry["prev_hash"]`` must be set."""
    return hashlib.sha256(canonical(entry)).hexdigest()


def chain(entries: Iterable[Mapping[str, Any]], first_id: int, prev_hash: str) -> list[dict[str, Any]]:
    """Number ``entries`` from ``first_id`` and link them after ``prev_hash``; rows ready to insert."""
    rows = []
    for number, entry in enumerate(entries, start=first_id):
        row = {**entry, "id": number, "prev_hash": prev_hash}
        row["hash"] = prev_hash = entry_hash(row)
        rows.append(row)
    return rows


# -- appending at commit ---------------------------------------------------------------


class _Pending:
    """Entries made in a connection's transaction, and where each open savepoint began."""

    __slots__ = ("entries", "savepoints")

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.savepoints: list[int] = []


_pending: weakref.WeakKeyDictionary[sa.Connection, _Pending] = weakref.WeakKeyDictionary()


def append(conn: sa.Connection, entries: Iterable[Mapping[str, Any]]) -> None:
    """Append entries to the log when ``conn``'s transaction commits (dropped if it rolls back).

    Each entry has ``at``, ``unit``, ``user``, ``operation``, ``table_name``,
    ``record_key``, ``old``, ``new`` and ``reason``; ``old`` and ``new`` must
    be JSON-ready. The engine must have the hooks of :func:`install`.
    """
    if not conn.in_transaction():
        conn.begin()  # an entry belongs to a transaction: without one it would never be written
    pending = _pending.get(conn)
    if pending is None:
        pending = _pending[conn] = _Pending()
    for entry in entries:
        pending.entries.append({**entry, "old": json_value(entry.get("old")), "new": json_value(entry.get("new"))})


_LOG = sa.table(
    "audit_log", sa.column("at", sa.DateTime(timezone=True)), sa.column("unit"), sa.column("user"), sa.column("operation"),
    sa.column("table_name"), sa.column("record_key"), sa.column("old", sa.JSON), sa.column("new", sa.JSON), sa.column("reason"),
)


def record(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append audit entries written outside the store, such as a plugin's migration.

    Each row has ``at``, ``unit``, ``user``, ``operation``, ``table_name``, ``record_key``,
    ``old``, ``new`` and ``reason``. Once the log is a hash chain (the core's migration 0006
    has run), the entries join it when ``conn``'s transaction commits; before that they
    are written as they are, and migration 0006 chains them with the rest.
    """
    if not rows:
        return
    if sa.inspect(conn).has_table("audit_anchor"):
        install(conn.engine)
        append(conn, rows)
    else:
        conn.execute(_LOG.insert().execution_options(**CHAIN), [dict(r) for r in rows])


def _lock_head(conn: sa.Connection) -> Any:
    a = S.audit_anchor
    head = conn.execute(sa.select(a).where(a.c.id == 1).with_for_update()).first()
    if head is None:
        raise StorageError("审计日志的锚点不见了 / the audit log's anchor row is missing: run `fupin audit verify`; nothing was written")
    return head


def _flush(conn: sa.Connection) -> None:
    """Chain and insert the transaction's pending entries, and move the anchor: just before COMMIT."""
    pending = _pending.pop(conn, None)
    if pending is None or not pending.entries:
        return
    head = _lock_head(conn)
    # Go on from the anchor's head; an id taken by a row written around the chain
    # is skipped (verify reports that row) rather than refusing every write after it.
    largest = conn.execute(sa.select(sa.func.max(S.audit_log.c.id))).scalar() or 0
    rows = chain(pending.entries, max(head.last_id, largest) + 1, head.head_hash)
    conn.execute(S.audit_log.insert().execution_options(**CHAIN), rows)
    conn.execute(
        S.audit_anchor.update().where(S.audit_anchor.c.id == 1).execution_options(**CHAIN)
        .values(last_id=rows[-1]["id"], head_hash=rows[-1]["hash"], count=head.count + len(rows), updated_at=dt.datetime.now(dt.UTC))
    )


def _savepoint(conn: sa.Connection, _name: str | None) -> None:
    # Also before the transaction's first entry: entries made inside the savepoint go with it.
    pending = _pending.get(conn)
    if pending is None:
        pending = _pending[conn] = _Pending()
    pending.savepoints.append(len(pending.entries))


def _release_savepoint(conn: sa.Connection, _name: str, _context: Any) -> None:
    pending = _pending.get(conn)
    if pending is not None and pending.savepoints:
        pending.savepoints.pop()


def _rollback_savepoint(conn: sa.Connection, _name: str, _context: Any) -> None:
    pending = _pending.get(conn)
    if pending is not None and pending.savepoints:
        del pending.entries[pending.savepoints.pop():]


def _rollback(conn: sa.Connection) -> None:
    _pending.pop(conn, None)


_WRITE_AROUND = re.compile(
    r"^\s*(?:(?:INSERT\s+INTO|COPY)\s+[\"`\[]?audit_(?:log|anchor)|UPDATE\s+(?:ONLY\s+)?[\"`\[]?audit_anchor)\b", re.I
)


def _guard(conn: sa.Connection, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
    """Refuse an INSERT into the log, or a move of its anchor, that does not come from the chain.

    A caller of the public API (``store.transaction()``) could otherwise add an
    entry in anyone's name; UPDATE and DELETE of entries the database's own
    triggers refuse.
    """
    if "audit_" not in statement:
        return
    if _WRITE_AROUND.match(statement) is None:
        return
    options = context.execution_options if context is not None else conn.get_execution_options()
    if not options.get(CHAIN_OPTION):
        raise StorageError("审计日志只能由 fupin 追加 / entries are added to the audit log only by fupin's own audit path")


def install(engine: sa.Engine) -> None:
    """Add the commit hook that appends pending entries, and the guard, to ``engine`` (once)."""
    if sa.event.contains(engine, "commit", _flush):
        return
    sa.event.listen(engine, "commit", _flush)
    sa.event.listen(engine, "rollback", _rollback)
    sa.event.listen(engine, "savepoint", _savepoint)
    sa.event.listen(engine, "release_savepoint", _release_savepoint)
    sa.event.listen(engine, "rollback_savepoint", _rollback_savepoint)
    sa.event.listen(engine, "before_cursor_execute", _guard)


# -- head and verification ---------------------------------------------------------------


@attrs.frozen
class AuditHead(Serialisable):
    """The head of the chain: its last entry's id and hash, and how many entries it has."""

    id: int
    hash: str
    count: int



@attrs.frozen
class AuditBreak(Serialisable):
    """Where the chain is broken: the entry (None when the whole log is gone) and what is wrong."""

    id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"条目 / entry {self.id}" if self.id is not None else "审计日志 / audit log"
        return f"{where}: {self.reason}"


@attrs.frozen
class AuditVerdict(Serialisable):
    """What :meth:`fupin.Store.verify_audit` found: the entries read, the head in the log and in the anchor, the first break."""

    entries: int
    head: AuditHead | None
    anchor: AuditHead | None
    broken: AuditBreak | None
    expected_found: bool | None = None

    @property
    def ok(self) -> bool:
        """Whether the chain is whole, matches its anchor, and holds the expected head (if one was given)."""
        return self.broken is None

    # to_dict(): the fields and ``ok``.
    __dict_extra__ = ("ok",)


#: The names the rest of fupin and its tests use.
Head = AuditHead
Break = AuditBreak
Verdict = AuditVerdict


def anchor(conn: sa.Connection) -> Head | None:
    """The head as the anchor table records it (None if its row is gone)."""
    row = conn.execute(sa.select(S.audit_anchor).where(S.audit_anchor.c.id == 1)).first()
    return None if row is None else Head(row.last_id, row.head_hash, row.count)


def _rows(conn: sa.Connection, batch: int = 2000) -> Iterator[Mapping[str, Any]]:
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(sa.select(S.audit_log).order_by(S.audit_log.c.id))
    for row in result.mappings():
        yield row


def verify(conn: sa.Connection, expect: str | None = None) -> Verdict:
    """Walk the log in id order, check every link and hash, then compare the end with the anchor.

    ``expect``: a head hash kept elsewhere earlier (``fupin audit head``); the
    chain must still hold an entry with that hash.
    """
    expect = expect.strip().lower() if expect else None
    prev, count, last, found = GENESIS, 0, None, None
    broken: Break | None = None
    for row in _rows(conn):
        count += 1
        if broken is not None:
            continue  # count the rest, for the report
        if not row["hash"]:
            broken = Break(row["id"], "没有哈希, 不是经 fupin 写入的 / no hash: written around fupin's audit path")
        elif row["prev_hash"] != prev:
            before = f"条目 {last.id} / entry {last.id}" if last else "链首 / the start of the chain"
            broken = Break(row["id"], f"不接续 {before}: 其间有条目被删除、插入或改动 / does not follow {before}: "
                                      "an entry before it was deleted, inserted or changed")
        elif entry_hash(row) != row["hash"]:
            broken = Break(row["id"], "内容与哈希不符, 条目被改动 / its content does not match its hash: the entry was changed")
        else:
            prev = row["hash"]
            last = Head(row["id"], row["hash"], count)
            if expect and row["hash"] == expect:
                found = last
    recorded = anchor(conn)
    if broken is None:
        broken = _against_anchor(count, last, recorded)
    expected_found = None
    if expect:
        expected_found = found is not None
        if broken is None and not expected_found:
            broken = Break(None, f"链中没有所给的链头 {expect[:16]}…, 日志在记下它之后被重写 / the expected head is not in the chain: "
                                 "the log was rewritten after that head was copied")
    return Verdict(count, last, recorded, broken, expected_found)


def _against_anchor(count: int, last: Head | None, recorded: Head | None) -> Break | None:
    if recorded is None:
        return Break(None, "锚点行不见了 / the anchor row (audit_anchor) is missing")
    last_id = last.id if last else 0
    last_hash = last.hash if last else GENESIS
    if (recorded.id, recorded.hash, recorded.count) == (last_id, last_hash, count):
        return None
    if count == 0:
        return Break(None, f"日志是空的, 锚点却记有 {recorded.count} 条 (至 {recorded.id}): 被清空 / the log is empty but its anchor "
                           f"records {recorded.count} entries up to id {recorded.id}: it was emptied (TRUNCATE or DELETE)")
    if count < recorded.count or last_id < recorded.id:
        return Break(last_id + 1 if last else None,
                     f"日志止于 {last_id}, 锚点记有 {recorded.count} 条至 {recorded.id}: 末尾条目被删除 / the log ends at id {last_id} "
                     f"({count} entries) but its anchor records {recorded.count} up to id {recorded.id}: entries at the end were deleted")
    return Break(last_id, f"链头与锚点不符 (锚点: {recorded.count} 条至 {recorded.id}) / the head does not match the anchor "
                          f"({recorded.count} entries up to id {recorded.id}): entries were added around fupin or the anchor was reset")


def head(conn: sa.Connection) -> Head | None:
    """The head recorded in the anchor (None for a log never written), to copy elsewhere."""
    found = anchor(conn)
    return None if found is None or found.count == 0 else found
