"""Helpers of the plugin's migrations (``migrations/``): what they write to the audit log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from fupin.ext import record_audit


def log(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Append audit rows a migration made (``at``, ``unit``, ``user``, ``operation``, ``table_name``, ``record_key``, ``old``, ``new``, ``reason``)."""
    record_audit(conn, rows)
