"""psychology: the fingerprint of the note key (psychology_key)

Revision ID: psychology_0002
Revises: psychology_0001

One row, made here without a fingerprint: a migration never sees the key. On a
new database the first note written sets it; on a database that already holds
notes, the first write of a note with a key that opens the earliest stored
note sets it, and a key that does not is refused (fupin_psychology.keys).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "psychology_0002"
down_revision = "psychology_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    key = op.create_table(
        "psychology_key",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("scheme", sa.String(length=32), nullable=True),
        sa.Column("salt", sa.String(length=64), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("set_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_psychology_key_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psychology_key")),
    )
    # The row exists from the start, so writers of notes always have a row to lock.
    op.bulk_insert(key, [{"id": 1}])


def downgrade() -> None:
    op.drop_table("psychology_key")
