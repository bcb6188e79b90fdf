"""Bulk writes: many rows of one table in one round trip.

SQLAlchemy Core's ``conn.execute(table.insert(), [dict, ...])`` handles each
row as a dictionary of bound parameters; at a million rows that costs about
as much as SQLite's own work. These helpers send the same statement the same
way the driver wants it: one DBAPI ``executemany`` of plain sequences on
SQLite (values converted as the columns' types convert them, so what is
stored is what Core would store), ``COPY`` on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Insert ``rows`` (dicts) into ``table`` inside the connection's transaction.

    Args:
        conn: an open connection (SQLite or PostgreSQL).
        table: the table written.
        rows: one mapping per row, each with every column written (other keys are ignored).
        columns: the columns written (default: the keys of the first row).
    """
    if not rows:
        return
    columns = list(columns if columns is not None else rows[0])
    insert_values(conn, table, columns, [[row[c] for c in columns] for row in rows])


def insert_values(conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: list[list[Any]], into: str | None = None) -> None:
    """Insert rows given as lists of values in the order of ``columns``.

    Python values as the columns' types take them (dates, lists for JSON,
    booleans, Decimals); on SQLite the lists are converted in place. On
    PostgreSQL ``into`` names another table of the same columns to COPY into
    (a staging copy of ``table``).
    """
    if conn.dialect.name == "postgresql":
        _copy(conn, into or table.name, table, columns, rows)
        return
    quote = conn.dialect.identifier_preparer.quote
    # Written out rather than compiled: a compiled INSERT lists its columns in the table's order.
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) VALUES ({', '.join('?' for _ in columns)})"
    for i, c in enumerate(columns):
        convert = _sqlite_converter(table.c[c].type, conn.dialect)
        if convert is not None:
            for values in rows:
                values[i] = convert(values[i])
    # The DBAPI cursor of the connection's transaction takes lists as they are
    # (exec_driver_sql wants tuples); its errors come unwrapped, as COPY's do.
    conn.connection.driver_connection.cursor().executemany(sql, rows)


def _sqlite_converter(type_: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> Callable[[Any], Any] | None:
    """What turns a Python value into what SQLite stores for this column type, or None when nothing does."""
    impl = type_.dialect_impl(dialect)
    if isinstance(impl, sa.Date) and not isinstance(impl, sa.DateTime):
        # SQLAlchemy stores dates as ISO text; isoformat() (C) writes the same text several times faster.
        return lambda value: None if value is None else value.isoformat()
    return impl.bind_processor(dialect)


def _copy(conn: sa.Connection, into: str, table: sa.Table, columns: Sequence[str], rows: list[list[Any]]) -> None:
    json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, sa.JSON)]
    cursor = conn.connection.driver_connection.cursor()
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    with cursor.copy(f"COPY {quote(into)} ({names}) FROM STDIN") as copy:
        for i in json_at:
            for values in rows:
                values[i] = json.dumps(values[i], ensure_ascii=False)
        for values in rows:
            copy.write_row(values)


def among(conn: sa.Connection, column: sa.ColumnElement[Any], keys: Sequence[Any]) -> Iterator[sa.ColumnElement[bool]]:
    """Conditions ``column`` among ``keys``, one per statement to run.

    One on PostgreSQL (``= ANY`` of an array, however many keys), one per 900
    keys on SQLite (its limit of bound parameters); none for no keys.
    """
    if conn.dialect.name == "postgresql":
        if keys:
            yield column == sa.any_(sa.bindparam("keys", list(keys), type_=sa.ARRAY(column.type)))
        return
    for i in range(0, len(keys), 900):
        yield column.in_(keys[i : i + 900])
