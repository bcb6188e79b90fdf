"""funding: funds get an owning unit, grants to other units, vouchers without ID numbers.

Revision ID: funding_0002
Revises: funding_0001
Create Date: 2026-12-08

What it does to a database made by funding_0001 (issue #14, tenants that
cannot reach each other):

1. ``funding_funds.owner_unit``: the unit whose money a fund is. An existing
   fund gets the helping unit of its plan (``plan_name``); a fund without a
   plan gets the helping unit of the stored plans when they all have the same
   one. Any other fund keeps NULL, which only users of scope ``all`` reach
   (``fupin funding`` shows it to the platform administrator, who can tell
   whose it is).
2. ``funding_grants``: which other unit (a department) may spend a fund, from
   when to when, granted by whom (empty at first: until the owner grants,
   only the owner and its plan office spend).
3. Vouchers that carry an ID number (a run of 15 or more digits) are
   renumbered. Those the plugin generated (``ZXJ2017-<ID>``, ``CJWW2017-<ID>``,
   ``AXJL2017-<ID>``) become ``ZXJ2017-<owner unit>-000001``, numbered per
   programme prefix, year and unit in the order the entries were stored
   (after any number of that form already used); any other voucher has its
   digit run replaced by ``#`` and the entry's id (``V-#42-A``), with ``-2``,
   ``-3`` ... added should that be taken. The same database always gets the
   same numbers. Each renumbering is written to the audit log (operation
   ``update`` on ``funding_entries``, old and new voucher, by
   ``fupin:migration funding_0002``), so the trail from the old number to the
   new one is kept where only ``audit.read`` reaches it.

Downgrade drops the grants and the owner column; the old vouchers are not
restored (they were the leak).
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from alembic import op

from fupin_funding.migrating import log

revision = "funding_0002"
down_revision = "funding_0001"
branch_labels = None
depends_on = None

#: What the plugin generated before: a programme prefix, the year, the ID number.
GENERATED = re.compile(r"^(ZXJ|CJWW|AXJL)(\d{4})-(\d{17}[\dXx]|\d{15})$")
#: An ID number (or anything like one) inside any other voucher.
DIGITS = re.compile(r"\d{15,}[Xx]?")

_funds = sa.table("funding_funds", sa.column("code"), sa.column("plan_name"), sa.column("owner_unit"))
_entries = sa.table("funding_entries", sa.column("id"), sa.column("voucher"), sa.column("fund_code"), sa.column("plan_name"))
_plans = sa.table("plans", sa.column("name"), sa.column("helping_unit"))


def upgrade() -> None:
    with op.batch_alter_table("funding_funds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_unit", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_funding_funds_owner_unit"), ["owner_unit"], unique=False)
    op.create_table(
        "funding_grants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fund_code", sa.String(length=32), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["fund_code"], ["funding_funds.code"], name=op.f("fk_funding_grants_fund_code_funding_funds")),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"], name=op.f("fk_funding_grants_unit_code_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_grants")),
        sa.UniqueConstraint("fund_code", "unit_code", "start", name=op.f("uq_funding_grants_fund_code")),
    )
    with op.batch_alter_table("funding_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_funding_grants_fund_code"), ["fund_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_funding_grants_unit_code"), ["unit_code"], unique=False)
    conn = op.get_bind()
    owners = _attribute_funds(conn)
    _renumber_vouchers(conn, owners)


def _attribute_funds(conn: sa.Connection) -> dict[str, str | None]:
    """Give each fund its plan's helping unit (see the module docstring); fund code -> owner."""
    helping = dict(conn.execute(sa.select(_plans.c.name, _plans.c.helping_unit)).all())
    only = next(iter(set(helping.values()))) if len(set(helping.values())) == 1 else None
    owners = {}
    for code, plan_name in conn.execute(sa.select(_funds.c.code, _funds.c.plan_name).order_by(_funds.c.code)).all():
        owner = helping.get(plan_name) if plan_name else only
        owners[code] = owner
        if owner is not None:
            conn.execute(_funds.update().where(_funds.c.code == code).values(owner_unit=owner))
    return owners


def _renumber_vouchers(conn: sa.Connection, owners: dict[str, str | None]) -> None:
    rows = conn.execute(sa.select(_entries.c.id, _entries.c.voucher, _entries.c.fund_code).order_by(_entries.c.id)).all()
    taken = {r.voucher for r in rows}
    last: dict[str, int] = {}  # "ZXJ2017-QJNU-" -> the largest number of that form already used
    for r in rows:
        m = re.match(r"^(.*-)(\d{6})$", r.voucher)
        if m:
            last[m[1]] = max(last.get(m[1], 0), int(m[2]))
    now = dt.datetime.now(dt.UTC)
    renamed = []
    for r in rows:
        if not DIGITS.search(r.voucher):
            continue
        generated = GENERATED.match(r.voucher)
        if generated:
            owner = owners.get(r.fund_code)
            stem = f"{generated[1]}{generated[2]}-" + (f"{owner}-" if owner else "")
            new = None
            while new is None or new in taken:
                last[stem] = last.get(stem, 0) + 1
                new = f"{stem}{last[stem]:06d}"
        else:
            base = DIGITS.sub(f"#{r.id}", r.voucher)
            new, n = base, 1
            while new in taken:
                n += 1
                new = f"{base}-{n}"
        taken.add(new)
        conn.execute(_entries.update().where(_entries.c.id == r.id).values(voucher=new))
        renamed.append({
            "at": now, "unit": "fupin", "user": "migration funding_0002", "operation": "update", "table_name": "funding_entries",
            "record_key": new, "old": {"voucher": r.voucher}, "new": {"voucher": new},
            "reason": "凭证号去除身份证号 / ID number taken out of the voucher",
        })
    log(conn, renamed)


def downgrade() -> None:
    with op.batch_alter_table("funding_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_funding_grants_unit_code"))
        batch_op.drop_index(batch_op.f("ix_funding_grants_fund_code"))
    op.drop_table("funding_grants")
    with op.batch_alter_table("funding_funds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_funding_funds_owner_unit"))
        batch_op.drop_column("owner_unit")
