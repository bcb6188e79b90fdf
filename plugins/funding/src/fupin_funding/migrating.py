"""Helpers of the plugin's migrations (``migrations/``): what they write to the audit log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from fupin import audit

_audit = sa.table(
    "audit_log", sa.column("at", sa.DateTime(timezone=True)), sa.column("unit"), sa.column("user"), sa.column("operation"),
    sa.column("table_name"), sa.column("record_key"), sa.column("old", sa.JSON), sa.column("new", sa.JSON), sa.column("reason"),
)


def log(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Append audit rows a migration made (``at``, ``unit``, ``user``, ``operation``, ``table_name``, ``record_key``, ``old``, ``new``, ``reason``)."""
    if not rows:
        return
    if sa.inspect(conn).has_table("audit_anchor"):
        # The log is a hash chain (core 0006): entries join it when this transaction commits.
        audit.install(conn.engine)
        audit.append(conn, rows)
    else:
        # Before the chain exists: the core's migration 0006 chains these with the rest.
        conn.execute(_audit.insert().execution_options(**audit.CHAIN), rows)
