"""funding: funds, ledger entries and lines, projects, foster homes.

Revision ID: funding_0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "funding_0001"
down_revision = None
branch_labels = ("funding",)
depends_on = "core"


def upgrade() -> None:
    op.create_table('funding_foster_homes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('elder', sa.String(length=20), nullable=False),
    sa.Column('household', sa.String(length=32), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=200), server_default='', nullable=False),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_foster_homes')),
    sa.UniqueConstraint('elder', 'household', 'start', name=op.f('uq_funding_foster_homes_elder'))
    )
    op.create_table('funding_funds',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('plan_name', sa.String(length=64), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_funding_funds'))
    )
    op.create_table('funding_projects',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('key_project', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('village', sa.String(length=15), nullable=True),
    sa.Column('crop', sa.String(length=32), nullable=True),
    sa.Column('area_mu', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('contiguous', sa.Boolean(), nullable=True),
    sa.Column('plan_name', sa.String(length=64), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_funding_projects'))
    )
    op.create_table('funding_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('voucher', sa.String(length=64), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('flow', sa.String(length=16), nullable=False),
    sa.Column('fund_code', sa.String(length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=True),
    sa.Column('programme', sa.String(length=32), nullable=True),
    sa.Column('aid_year', sa.Integer(), nullable=True),
    sa.Column('person', sa.String(length=20), nullable=True),
    sa.Column('household', sa.String(length=32), nullable=True),
    sa.Column('project_code', sa.String(length=32), nullable=True),
    sa.Column('donor', sa.String(length=100), nullable=True),
    sa.Column('description', sa.String(length=200), server_default='', nullable=False),
    sa.Column('entered_by', sa.String(length=64), nullable=False),
    sa.Column('approved_by', sa.String(length=64), nullable=False),
    sa.Column('plan_name', sa.String(length=64), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_funding_entries_positive_amount')),
    sa.ForeignKeyConstraint(['fund_code'], ['funding_funds.code'], name=op.f('fk_funding_entries_fund_code_funding_funds')),
    sa.ForeignKeyConstraint(['project_code'], ['funding_projects.code'], name=op.f('fk_funding_entries_project_code_funding_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_entries')),
    sa.UniqueConstraint('voucher', name=op.f('uq_funding_entries_voucher'))
    )
    op.create_index(op.f('ix_funding_entries_entry_date'), 'funding_entries', ['entry_date'], unique=False)
    op.create_index(op.f('ix_funding_entries_fund_code'), 'funding_entries', ['fund_code'], unique=False)
    op.create_table('funding_lines',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('fund_code', sa.String(length=32), nullable=False),
    sa.Column('account', sa.String(length=48), nullable=False),
    sa.Column('debit_fen', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('credit_fen', sa.BigInteger(), server_default='0', nullable=False),
    sa.CheckConstraint('debit_fen >= 0 AND credit_fen >= 0', name=op.f('ck_funding_lines_non_negative')),
    sa.ForeignKeyConstraint(['entry_id'], ['funding_entries.id'], name=op.f('fk_funding_lines_entry_id_funding_entries')),
    sa.ForeignKeyConstraint(['fund_code'], ['funding_funds.code'], name=op.f('fk_funding_lines_fund_code_funding_funds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_lines'))
    )
    op.create_index(op.f('ix_funding_lines_entry_id'), 'funding_lines', ['entry_id'], unique=False)
    op.create_index(op.f('ix_funding_lines_fund_code'), 'funding_lines', ['fund_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_funding_lines_fund_code'), table_name='funding_lines')
    op.drop_index(op.f('ix_funding_lines_entry_id'), table_name='funding_lines')
    op.drop_table('funding_lines')
    op.drop_index(op.f('ix_funding_entries_fund_code'), table_name='funding_entries')
    op.drop_index(op.f('ix_funding_entries_entry_date'), table_name='funding_entries')
    op.drop_table('funding_entries')
    op.drop_table('funding_projects')
    op.drop_table('funding_funds')
    op.drop_table('funding_foster_homes')
