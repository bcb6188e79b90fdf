"""The plugin's own tables (created by the migrations in ``migrations/``).

``psychology_sessions``: one row per counselling session (individual or group),
the persons counselled as a JSON list of ID numbers, and the session note only
as ``note_cipher`` (Fernet token; the key never enters the database).
``psychology_cases``: social-work cases (C33) of a household.
``psychology_key``: one row, the fingerprint of the key the notes are
encrypted with (never the key; see :mod:`fupin_psychology.crypto`), with who
set it and when. The migration makes the row with no fingerprint; the first
note written sets it (:mod:`fupin_psychology.keys`). Being one row, it is also
what writers of notes and a key rotation lock to take turns on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

SESSIONS = "psychology_sessions"
CASES = "psychology_cases"
KEY = "psychology_key"
#: The id of the one row of ``psychology_key``.
KEY_ROW = 1


def define(metadata: sa.MetaData) -> None:
    """Add the plugin's tables to ``metadata``."""
    sa.Table(
        SESSIONS,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(40), nullable=False, unique=True),
        sa.Column("date", sa.Date, nullable=False, index=True),
        sa.Column("counsellor", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("duration_min", sa.Integer),
        sa.Column("persons", sa.JSON, nullable=False),
        sa.Column("topics", sa.JSON),
        sa.Column("risk_level", sa.String(16)),
        sa.Column("follow_up", sa.Date),
        sa.Column("referral", sa.String(16)),
        sa.Column("consent_by", sa.String(64)),
        sa.Column("consent_date", sa.Date),
        sa.Column("note_cipher", sa.Text),
        sa.Column("plan_name", sa.String(64)),
        sa.Column("unit_code", sa.String(32), nullable=False, index=True),
        sa.Column("import_batch_id", sa.Integer, nullable=True),
    )
    sa.Table(
        CASES,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(40), nullable=False, unique=True),
        sa.Column("household", sa.String(32), nullable=False, index=True),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("opened", sa.Date, nullable=False),
        sa.Column("closed", sa.Date),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("goals", sa.JSON, nullable=False),
        sa.Column("steps", sa.JSON),
        sa.Column("plan_name", sa.String(64)),
        sa.Column("unit_code", sa.String(32), nullable=False, index=True),
        sa.Column("import_batch_id", sa.Integer, nullable=True),
    )
    sa.Table(
        KEY,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("scheme", sa.String(32)),
        sa.Column("salt", sa.String(64)),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("set_at", sa.DateTime(timezone=True)),
        sa.Column("set_by", sa.String(100)),
        sa.CheckConstraint(f"id = {KEY_ROW}", name="one_row"),
    )
