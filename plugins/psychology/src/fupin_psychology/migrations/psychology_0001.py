"""psychology: counselling sessions and social-work cases

Revision ID: psychology_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "psychology_0001"
down_revision = None
branch_labels = ("psychology",)
depends_on = "core"


def upgrade() -> None:
    op.create_table(
        "psychology_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("counsellor", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=True),
        sa.Column("persons", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=True),
        sa.Column("risk_level", sa.String(length=16), nullable=True),
        sa.Column("follow_up", sa.Date(), nullable=True),
        sa.Column("referral", sa.String(length=16), nullable=True),
        sa.Column("consent_by", sa.String(length=64), nullable=True),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("note_cipher", sa.Text(), nullable=True),
        sa.Column("plan_name", sa.String(length=64), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psychology_sessions")),
        sa.UniqueConstraint("ref", name=op.f("uq_psychology_sessions_ref")),
    )
    op.create_index(op.f("ix_psychology_sessions_date"), "psychology_sessions", ["date"], unique=False)
    op.create_index(op.f("ix_psychology_sessions_unit_code"), "psychology_sessions", ["unit_code"], unique=False)
    op.create_table(
        "psychology_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("household", sa.String(length=32), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("opened", sa.Date(), nullable=False),
        sa.Column("closed", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=True),
        sa.Column("plan_name", sa.String(length=64), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psychology_cases")),
        sa.UniqueConstraint("ref", name=op.f("uq_psychology_cases_ref")),
    )
    op.create_index(op.f("ix_psychology_cases_household"), "psychology_cases", ["household"], unique=False)
    op.create_index(op.f("ix_psychology_cases_unit_code"), "psychology_cases", ["unit_code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_psychology_cases_unit_code"), table_name="psychology_cases")
    op.drop_index(op.f("ix_psychology_cases_household"), table_name="psychology_cases")
    op.drop_table("psychology_cases")
    op.drop_index(op.f("ix_psychology_sessions_unit_code"), table_name="psychology_sessions")
    op.drop_index(op.f("ix_psychology_sessions_date"), table_name="psychology_sessions")
    op.drop_table("psychology_sessions")
