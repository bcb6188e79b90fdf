"""Identity: the database login each user is mapped to, and the store's own settings.

``users.login`` names the PostgreSQL role (the session user) a fupin user acts
through on the command line: PostgreSQL's own authentication then decides who
a clerk is. ``settings`` keeps values of the store itself, such as the secret
that keys the record tokens of masked exports.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('login', sa.String(length=63), nullable=True))
        batch.create_index(batch.f('ix_users_login'), ['login'], unique=False)
    op.create_table('settings',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_settings'))
    )


def downgrade() -> None:
    op.drop_table('settings')
    with op.batch_alter_table('users') as batch:
        batch.drop_index(batch.f('ix_users_login'))
        batch.drop_column('login')
