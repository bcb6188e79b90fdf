"""Audit log as a hash chain: prev_hash and hash on every entry, the chain's head in audit_anchor (issue 14)

Existing entries are chained in id order. The log also refuses TRUNCATE on
PostgreSQL now, and the anchor only moves forward.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from fupin.audit import CHAIN, GENESIS, entry_hash

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_ANCHOR_REFUSED = "audit_anchor only moves forward"


def upgrade() -> None:
    op.add_column('audit_log', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_table('audit_anchor',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_anchor_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchor'))
    )
    _chain_existing()
    _protect()


def downgrade() -> None:
    pg = op.get_context().dialect.name == "postgresql"
    if pg:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.drop_table('audit_anchor')
        op.execute("DROP FUNCTION IF EXISTS fupin_audit_anchor_forward()")
        op.drop_column('audit_log', 'hash')
        op.drop_column('audit_log', 'prev_hash')
    else:
        op.drop_table('audit_anchor')
        # Not batch mode: copying the table would lose its append-only triggers.
        op.execute("ALTER TABLE audit_log DROP COLUMN hash")
        op.execute("ALTER TABLE audit_log DROP COLUMN prev_hash")


def _chain_existing() -> None:
    """Chain the entries already there, in id order, and record the head in the anchor."""
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    text = ('unit', 'user', 'operation', 'table_name', 'record_key', 'reason', 'prev_hash', 'hash')
    log = sa.table('audit_log', sa.column('id', sa.Integer()), sa.column('at', sa.DateTime(timezone=True)),
                   *(sa.column(c, sa.String()) for c in text), sa.column('old', sa.JSON()), sa.column('new', sa.JSON()))
    # The append-only triggers refuse the UPDATE that sets the hashes: lift them for it (the owner runs migrations).
    if pg:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    prev, count, last_id = GENESIS, 0, 0
    update = log.update().where(log.c.id == sa.bindparam('b_id')).values(prev_hash=sa.bindparam('b_prev'), hash=sa.bindparam('b_hash'))
    batch: list[dict[str, object]] = []
    for row in conn.execute(sa.select(log).order_by(log.c.id)).mappings().all():
        entry = {**row, "prev_hash": prev}
        prev = entry_hash(entry)
        batch.append({"b_id": row["id"], "b_prev": entry["prev_hash"], "b_hash": prev})
        count, last_id = count + 1, row["id"]
        if len(batch) >= 1000:
            conn.execute(update, batch)
            batch = []
    if batch:
        conn.execute(update, batch)
    if pg:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )
    anchor = sa.table('audit_anchor', *(sa.column(c) for c in ('id', 'last_id', 'head_hash', 'count', 'updated_at')))
    conn.execute(anchor.insert().execution_options(**CHAIN),
                 {"id": 1, "last_id": last_id, "head_hash": prev, "count": count, "updated_at": dt.datetime.now(dt.UTC)})


def _protect() -> None:
    """The log refuses TRUNCATE too (PostgreSQL); the anchor refuses DELETE, TRUNCATE and any move back."""
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION fupin_audit_append_only()"
        )
        op.execute(
            f"""
            CREATE FUNCTION fupin_audit_anchor_forward() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.count >= OLD.count AND NEW.last_id >= OLD.last_id
                   AND (NEW.count > OLD.count OR NEW.head_hash = OLD.head_hash) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{_ANCHOR_REFUSED}';
            END $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_anchor_forward BEFORE UPDATE OR DELETE ON audit_anchor "
            "FOR EACH ROW EXECUTE FUNCTION fupin_audit_anchor_forward()"
        )
        op.execute(
            "CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor "
            "FOR EACH STATEMENT EXECUTE FUNCTION fupin_audit_anchor_forward()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor "
            "WHEN NEW.id != OLD.id OR NEW.count < OLD.count OR NEW.last_id < OLD.last_id "
            "OR (NEW.count = OLD.count AND NEW.head_hash != OLD.head_hash) "
            f"BEGIN SELECT RAISE(ABORT, '{_ANCHOR_REFUSED}'); END"
        )
        op.execute(f"CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor BEGIN SELECT RAISE(ABORT, '{_ANCHOR_REFUSED}'); END")
