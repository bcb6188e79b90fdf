"""Export records of an import kind to CSV, XLSX or JSON lines, readable back by import.

Personal data (ID numbers, phone numbers, bank accounts) is masked unless the
caller asks for it unmasked (:mod:`fupin.io.masking`). Every export, masked or
not, leaves an audit entry committed before the first row leaves (so it stays
if the export fails or its reader stops early), and a second one with the row
count once every row is out. Filters (``--where``) are parsed against the
kind's columns and always bound as parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from fupin.access import AccessDenied
from fupin.errors import ValidationError
from fupin.io.kinds import CellParser, Column, ImportKind
from fupin.io import masking
from fupin.storage.engine import WRITE
from fupin.text import mask_id, mask_phone
from fupin.vocab import normalize_key

_WHERE = re.compile(r"^\s*(?P<column>[^=!<>~]+?)\s*(?P<op>!=|>=|<=|=|>|<|~)\s*(?P<value>.*)$")


#: An ID number or a mobile number inside other text (a record key ``ID/tag``, ``person:ID`` ...).
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _personal(key: str) -> str | None:
    """Which mask a value named ``key`` takes (the names the core and plugins store personal data under)."""
    key = key.lower()
    if key.endswith("id_number") or key in ("person", "persons", "merged_into"):
        return "id"
    if key.endswith("phone"):
        return "phone"
    if "account" in key:
        return "account"
    return key if key in ("answers", "beneficiaries") else None


def mask_personal(value: Any, key: str | None = None) -> Any:
    """``value`` (a JSON-like value, e.g. an audit entry's old or new values) with personal data masked.

    Values named like the export's personal columns (``id_number``, ``phone``,
    ``bank_account``, beneficiaries, questionnaire answers) take the export's
    masks; in any other text, valid ID numbers and mobile numbers are masked.
    """
    if isinstance(value, dict):
        return {k: mask_personal(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_personal(v, key) for v in value]
    if not isinstance(value, str):
        return value
    mask = masking.MASKS.get(_personal(key) or "") if key else None
    if mask is not None:
        return mask(value)
    from fupin.idnumber import is_valid

    value = _ID_IN_TEXT.sub(lambda m: mask_id(m[0]) if is_valid(m[0]) else m[0], value)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m[0]), value)


@attrs.frozen
class Filter:
    """One ``--where`` condition: a column, an operator and a typed value."""

    column: Column
    op: str
    value: Any

    @classmethod
    def parse(cls, kind: ImportKind, text: str, parser: CellParser) -> Filter:
        """Parse ``"贫困户属性=低保贫困户"`` / ``"first_identified>=2015-01-01"`` / ``"户主姓名~张"``."""
        m = _WHERE.match(text)
        if m is None:
            raise ValidationError.of("--where", "应写作 列=值 (或 != >= <= > < ~) / write COLUMN=VALUE (or != >= <= > < ~)", text)
        column = kind.header_index().get(normalize_key(m["column"]))
        if column is None:
            names = ", ".join(c.name for c in kind.columns)
            raise ValidationError.of("--where", f"没有此列 / no such column; columns: {names}", m["column"])
        raw = m["value"].strip()
        try:
            value = raw if m["op"] == "~" else parser.parse(attrs.evolve(column, type="text" if column.type == "list" else column.type), raw)
        except (ValueError, ValidationError) as exc:
            raise ValidationError.of("--where", f"{column.name}: {exc}", raw) from None
        return cls(column, m["op"], value)


def _db_column(kind: ImportKind, table: sa.Table, column: Column, joined: dict[str, sa.ColumnElement]) -> sa.ColumnElement:
    field = column.target
    if field in joined:
        return joined[field]
    renames = getattr(kind, "renames", {})
    name = renames.get(field, field)
    if name not in table.c:
        raise ValidationError.of("--where", "此列不能用于筛选 / this column cannot be filtered on", column.name)
    return table.c[name]


def _condition(f: Filter, col: sa.ColumnElement) -> sa.ColumnElement:
    if f.column.type == "list" and f.op in ("=", "~"):
        # A JSON list column: match the value inside it, as text, bound.
        return sa.cast(col, sa.String).contains(str(f.value))
    return {
        "=": lambda: col == f.value,
        "!=": lambda: col != f.value,
        ">=": lambda: col >= f.value,
        "<=": lambda: col <= f.value,
        ">": lambda: col > f.value,
        "<": lambda: col < f.value,
        "~": lambda: sa.cast(col, sa.String).contains(f.value, autoescape=True),
    }[f.op]()


def _query(store: Any, kind: ImportKind, filters: Sequence[Filter] = ()) -> tuple[sa.Select[Any], sa.Table, dict[str, sa.ColumnElement]]:
    """The query of ``kind``'s stored rows the actor may read, with its references' keys joined by field name."""
    # The core's own Table objects where they exist: the access conditions are written against them.
    table = store.table(kind.table)
    joined: dict[str, sa.ColumnElement] = {}
    query_from: sa.FromClause = table
    for ref in kind.references:
        if ref.id_column:
            ref_table = store.table(ref.table).alias(f"ref_{ref.field}")
            query_from = query_from.outerjoin(ref_table, ref_table.c[ref.id_column] == table.c[ref.db_column])
            joined[ref.field] = ref_table.c[ref.key]
    query = (
        sa.select(table, *(c.label(f) for f, c in joined.items()))
        .select_from(query_from)
        .where(store.access.kind_condition(kind, kind.read_permission, table))
    )
    own = kind.row_condition(table)
    if own is not None:
        query = query.where(own)
    for f in filters:
        query = query.where(_condition(f, _db_column(kind, table, f.column, joined)))
    order = [table.c[c] for c in ("id",) if c in table.c] or list(table.primary_key.columns)
    return query.order_by(*order), table, joined


def natural_key(kind: ImportKind, record: Mapping[str, Any]) -> tuple[Any, ...]:
    """The natural key of a stored row as :func:`_query` reads it (references by their joined keys)."""
    renames = getattr(kind, "renames", {})
    return tuple(record[f] if f in record else record[renames.get(f, f)] for f in kind.key)


def needs_token(store: Any, kind: ImportKind) -> bool:
    """Whether a masked export of ``kind`` masks its key, so that rows need a record token to be read back."""
    table = store.metadata.tables[kind.table]
    return "id" in table.c and any(c.personal and c.target in kind.key for c in kind.columns)


def export_rows(
    store: Any,
    kind: ImportKind,
    *,
    where: Sequence[str] = (),
    unmasked: bool = False,
    english: bool = False,
    batch_size: int = 5000,
    details: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[list[str], Iterator[list[Any]]]:
    """Headers and a lazy stream of rows of ``kind`` as they would be imported.

    Before it returns, an audit entry ``export`` (actor, kind, filters, masked
    or not, ``rows: "streaming"``) is committed in a transaction of its own;
    when the stream is exhausted, a second one, ``export_done``, gives the
    number of rows.

    Masked (the default), personal columns are masked so that they cannot be
    rebuilt, filters on them are refused (a filter would answer digit by
    digit), and where the key itself is masked each row carries its record
    token (:mod:`fupin.io.masking`), so the file reads back unchanged.

    Args:
        store: the store.
        kind: the import kind.
        where: filters like ``"贫困户属性=低保贫困户"``; ANDed.
        unmasked: write ID numbers, phones and accounts in full (the caller audits it).
        english: English headers instead of the Chinese ones.
        details: more to record in the audit entry (the format, the file).
        progress: called as ``progress(done, total)`` when the stream starts (``done`` 0) and
            after each chunk of ``batch_size`` rows; ``total`` is counted by the same query
            (only when ``progress`` is given), so rows stored meanwhile may make ``done`` pass it.
    """
    kind = kind.bind(store)
    store.access.require(kind.read_permission, f"导出 {kind.name} / export {kind.name}")
    if unmasked:
        store.access.require("export.unmasked")
    parser = CellParser(store.vocab)
    filters = [Filter.parse(kind, w, parser) for w in where]
    for f in filters:
        if f.column.personal and not store.access.has("export.unmasked"):
            raise AccessDenied(store.actor, "export.unmasked", f"按遮蔽列筛选 / a filter on the masked column {f.column.zh} ({f.column.name})")
    query, table, joined = _query(store, kind, filters)
    columns = [c for c in kind.columns if not c.import_only]
    headers = [c.name if english else c.zh for c in columns]
    secret = None
    if not unmasked and needs_token(store, kind):
        headers.append(masking.TOKEN_EN if english else masking.TOKEN_ZH)
        with store._transaction() as conn:
            secret = masking.token_secret(conn, create=True)
    facts = {"kind": kind.name, "where": list(where), "unmasked": unmasked, **(details or {})}
    _audit_export(store, kind, "export", {**facts, "rows": "streaming"}, "unmasked export" if unmasked else None)

    def rows() -> Iterator[list[Any]]:
        count = 0
        with store.engine.connect() as conn:
            total = 0
            if progress is not None:
                # The same rows, counted: the same scope and filters, without the order and the columns.
                total = conn.execute(query.with_only_columns(sa.func.count()).order_by(None)).scalar_one()
                progress(0, total)
            result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(query)
            for part in result.mappings().partitions(batch_size):
                records = {i: dict(r) for i, r in enumerate(part)}
                kind.enrich_existing(conn, records)
                for record in records.values():
                    values = kind.export_row(record)
                    out = []
                    for c in columns:
                        v = values.get(c.name)
                        if c.personal and not unmasked and v:
                            v = masking.mask(c.personal, v)
                        out.append(v)
                    if secret is not None:
                        out.append(masking.make_token(secret, table.name, record["id"], natural_key(kind, record)))
                    count += 1
                    yield out
                if progress is not None:
                    progress(count, total)
        # After the reading connection is closed: on SQLite a writer waits for readers.
        _audit_export(store, kind, "export_done", {**facts, "rows": count}, None)

    return headers, rows()


def _audit_export(store: Any, kind: ImportKind, operation: str, details: Mapping[str, Any], reason: str | None) -> None:
    """An audit entry for an export, committed at once on a connection of its own, whatever the caller's transaction does."""
    with store.engine.execution_options(**WRITE).begin() as conn:
        store._audit(conn, operation, store.table(kind.table), f"export:{kind.name}", None, details, reason)


def stored_cells(
    store: Any, conn: sa.Connection, kind: ImportKind, *, ids: Sequence[int] = (), keys: Sequence[tuple[Any, ...]] = ()
) -> list[tuple[int | None, tuple[Any, ...], dict[str, Any]]]:
    """Stored rows of ``kind`` by row id or by natural key, as an unmasked export writes them.

    Each is (row id, natural key, column name -> cell). Only rows the actor
    may read come back; the importer uses them to put stored values in place
    of masked cells, never to show them.
    """
    kind = kind.bind(store)
    query, table, joined = _query(store, kind)
    conditions = []
    if ids:
        conditions.append(table.c.id.in_(list(ids)))
    if keys:
        key_columns = [joined.get(f) if f in joined else table.c[getattr(kind, "renames", {}).get(f, f)] for f in kind.key]
        conditions.append(sa.tuple_(*key_columns).in_(list(keys)) if len(key_columns) > 1 else key_columns[0].in_([k[0] for k in keys]))
    if not conditions:
        return []
    out = []
    records = {i: dict(r) for i, r in enumerate(conn.execute(query.where(sa.or_(*conditions))).mappings())}
    kind.enrich_existing(conn, records)
    for record in records.values():
        out.append((record.get("id"), natural_key(kind, record), kind.export_row(record)))
    return out
