"""Bulk writes: many rows of one table in one round trip.

SQLAlchemy Core's ``conn.execute(table.insert(), [dict, ...])`` handles each
row as a dictionary of bound parameters; at a million rows that costs about
as much as SQLite's own work. These helpers send the same statement the same
way the driver wants it: one DBAPI ``executemany`` of plain sequences on
SQLite (values converted by the columns' own bind processors, so what is
stored is what Core would store), ``COPY`` on PostgreSQL.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
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
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table.name, table, columns, rows)
    else:
        executemany(conn, table, columns, rows)


def executemany(conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """One DBAPI executemany of the INSERT of ``columns``, values converted by the columns' bind processors."""
    dialect = conn.dialect
    sql = str(table.insert().compile(dialect=dialect, column_keys=list(columns)))
    processed = [(i, p) for i, c in enumerate(columns) if (p := table.c[c].type.bind_processor(dialect)) is not None]
    get = operator.itemgetter(*columns)
    params: list[Any] = [get(row) for row in rows] if len(columns) > 1 else [(get(row),) for row in rows]
    if processed:
        converted = []
        for values in params:
            values = list(values)
            for i, process in processed:
                values[i] = process(values[i])
            converted.append(tuple(values))
        params = converted
    conn.exec_driver_sql(sql, params)


def copy_rows(conn: sa.Connection, into: str, table: sa.Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """COPY rows of ``table`` into the PostgreSQL table ``into`` (it, or a copy of it) in the connection's transaction."""
    json_cols = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    with cursor.copy(f"COPY {conn.dialect.identifier_preparer.quote(into)} ({names}) FROM STDIN") as copy:
        if json_cols:
            for row in rows:
                copy.write_row([json.dumps(row[c], ensure_ascii=False) if c in json_cols else row[c] for c in columns])
        else:
            get = operator.itemgetter(*columns)
            for row in rows:
                copy.write_row(get(row) if len(columns) > 1 else (get(row),))
