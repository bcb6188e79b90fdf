"""funding: projects get an owning unit; funds and projects can be shared with a plan, with an amount.

Revision ID: funding_0003
Revises: funding_0002
Create Date: 2027-01-10

Issue #16: a plan's commitments count only its own funds and projects (of one
of its units *and* naming it) and those explicitly shared with it. What this
does to a database made by funding_0002:

1. ``funding_projects.owner_unit``: the unit that runs the project. An
   existing project gets the helping unit of its plan (``plan_name``); a
   project of no plan gets the helping unit of the stored plans when they all
   have the same one; any other keeps NULL and counts for no plan (only a
   platform administrator can tell whose it is and set it).
2. Records of no plan used to count for every plan (projects) or for the plan
   of their owner (funds). Now they count for none, so each is given a plan
   where that is unambiguous: a project or fund of no plan whose owner is the
   helping unit (or a unit below it) of exactly one stored plan gets that
   plan's name. Any other keeps NULL and counts for no plan until its owner
   names the plan or shares it (``fupin funding share``). Each such
   attribution is written to the audit log (operation ``update``, by
   ``fupin:migration funding_0003``).
3. ``funding_shares``: a fund or project shared with another plan, with the
   amount that is that plan's, who shared it and when (empty at first).

Downgrade drops the shares and the projects' owner column; the plans given
in step 2 stay (they were what the records counted for before).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from fupin_funding.migrating import log

revision = "funding_0003"
down_revision = "funding_0002"
branch_labels = None
depends_on = None

_funds = sa.table("funding_funds", sa.column("code"), sa.column("plan_name"), sa.column("owner_unit"))
_projects = sa.table("funding_projects", sa.column("code"), sa.column("plan_name"), sa.column("owner_unit"))
_plans = sa.table("plans", sa.column("name"), sa.column("helping_unit"))
_units = sa.table("units", sa.column("code"), sa.column("parent_code"))


def upgrade() -> None:
    with op.batch_alter_table("funding_projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_unit", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_funding_projects_owner_unit"), ["owner_unit"], unique=False)
    op.create_table(
        "funding_shares",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_name", sa.String(length=64), nullable=False),
        sa.Column("fund_code", sa.String(length=32), nullable=True),
        sa.Column("project_code", sa.String(length=32), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("shared_by", sa.String(length=64), nullable=False),
        sa.Column("shared_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), server_default="", nullable=False),
        sa.CheckConstraint("(fund_code IS NULL) <> (project_code IS NULL)", name=op.f("ck_funding_shares_fund_or_project")),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_funding_shares_positive_share")),
        sa.ForeignKeyConstraint(["fund_code"], ["funding_funds.code"], name=op.f("fk_funding_shares_fund_code_funding_funds")),
        sa.ForeignKeyConstraint(["project_code"], ["funding_projects.code"], name=op.f("fk_funding_shares_project_code_funding_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_shares")),
    )
    with op.batch_alter_table("funding_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_funding_shares_plan_name"), ["plan_name"], unique=False)
    _attribute(op.get_bind())


def _attribute(conn: sa.Connection) -> None:
    """Owners of projects, plans of records of no plan (see the module docstring), audited."""
    helping = dict(conn.execute(sa.select(_plans.c.name, _plans.c.helping_unit)).all())
    only = next(iter(set(helping.values()))) if len(set(helping.values())) == 1 else None
    parents = dict(conn.execute(sa.select(_units.c.code, _units.c.parent_code)).all())

    def plan_of(owner: str | None) -> str | None:
        """The one stored plan whose helping unit is ``owner`` or above it, else None."""
        above, seen = set(), owner
        while seen is not None and seen not in above:
            above.add(seen)
            seen = parents.get(seen)
        found = [name for name, unit in helping.items() if unit in above]
        return found[0] if len(found) == 1 else None

    now = dt.datetime.now(dt.UTC)
    logged = []
    for table, key in ((_projects, "funding_projects"), (_funds, "funding_funds")):
        for code, plan_name, owner in conn.execute(sa.select(table.c.code, table.c.plan_name, table.c.owner_unit).order_by(table.c.code)).all():
            new = {}
            if owner is None and table is _projects:
                owner = helping.get(plan_name) if plan_name else only
                if owner is not None:
                    new["owner_unit"] = owner
            if plan_name is None and (plan := plan_of(owner)) is not None:
                new["plan_name"] = plan
            if not new:
                continue
            conn.execute(table.update().where(table.c.code == code).values(**new))
            logged.append({
                "at": now, "unit": "fupin", "user": "migration funding_0003", "operation": "update", "table_name": key,
                "record_key": code, "old": {k: None for k in new}, "new": new,
                "reason": "归属单位和方案 / owning unit and plan attributed (issue #16)",
            })
    log(conn, logged)


def downgrade() -> None:
    with op.batch_alter_table("funding_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_funding_shares_plan_name"))
    op.drop_table("funding_shares")
    with op.batch_alter_table("funding_projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_funding_projects_owner_unit"))
        batch_op.drop_column("owner_unit")
