"""The plugin's own tables (``fupin_tables``), created by its migrations (``migrations/``).

Money is integer fen everywhere. The ledger is double-entry: every entry has
lines whose debits equal its credits; a fund's balance is the sum of its
``fund`` lines (debit minus credit), and is never allowed below zero.
"""

from __future__ import annotations

import sqlalchemy as sa

FUNDS = "funding_funds"
ENTRIES = "funding_entries"
LINES = "funding_lines"
PROJECTS = "funding_projects"
FOSTER = "funding_foster_homes"
GRANTS = "funding_grants"
SHARES = "funding_shares"


def define(metadata: sa.MetaData) -> None:
    """Add the seven tables to ``metadata``."""
    sa.Table(
        FUNDS, metadata,
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),          # budget / foundation / restricted
        sa.Column("purpose", sa.String(32)),                        # restricted funds: the only purpose
        sa.Column("year", sa.Integer),                              # budget funds: the budget year
        sa.Column("plan_name", sa.String(64)),
        sa.Column("import_batch_id", sa.Integer),
        # The unit whose money it is: its users (and its plan office) may spend it; others
        # only with a grant (funding_grants). NULL only for a fund migration 0002 could not
        # attribute: then only users of scope ``all`` reach it.
        sa.Column("owner_unit", sa.String(32), index=True),
    )
    sa.Table(
        PROJECTS, metadata,
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("area", sa.String(16), nullable=False),          # water / roads / culture / industry
        sa.Column("key_project", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("budget_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("status", sa.String(16), nullable=False),        # planned / in_progress / completed / cancelled
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date),
        sa.Column("village", sa.String(15)),
        sa.Column("crop", sa.String(32)),
        sa.Column("area_mu", sa.Numeric(10, 2)),
        sa.Column("households", sa.Integer),
        sa.Column("contiguous", sa.Boolean),
        # The plan it is for: it counts for that plan only (and for plans it is shared with,
        # funding_shares). NULL: for no plan until shared.
        sa.Column("plan_name", sa.String(64)),
        sa.Column("import_batch_id", sa.Integer),
        # The unit that runs and pays for it (required for new projects; NULL only for a project
        # migration funding_0003 could not attribute: it then counts for no plan).
        sa.Column("owner_unit", sa.String(32), index=True),
    )
    sa.Table(
        ENTRIES, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("voucher", sa.String(64), nullable=False, unique=True),
        sa.Column("entry_date", sa.Date, nullable=False, index=True),
        sa.Column("flow", sa.String(16), nullable=False),          # appropriation / donation / spending / aid
        sa.Column("fund_code", sa.String(32), sa.ForeignKey(f"{FUNDS}.code"), nullable=False, index=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("purpose", sa.String(32)),
        sa.Column("programme", sa.String(32)),
        sa.Column("aid_year", sa.Integer),
        sa.Column("person", sa.String(20)),
        sa.Column("household", sa.String(32)),
        sa.Column("project_code", sa.String(32), sa.ForeignKey(f"{PROJECTS}.code")),
        sa.Column("donor", sa.String(100)),
        sa.Column("description", sa.String(200), nullable=False, server_default=""),
        sa.Column("entered_by", sa.String(64), nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=False),
        sa.Column("plan_name", sa.String(64)),
        sa.Column("import_batch_id", sa.Integer),
        sa.CheckConstraint("amount_fen > 0", name="positive_amount"),
    )
    sa.Table(
        LINES, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey(f"{ENTRIES}.id"), nullable=False, index=True),
        sa.Column("fund_code", sa.String(32), sa.ForeignKey(f"{FUNDS}.code"), nullable=False, index=True),
        sa.Column("account", sa.String(48), nullable=False),       # fund / income:FLOW / expense:PURPOSE
        sa.Column("debit_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("credit_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.CheckConstraint("debit_fen >= 0 AND credit_fen >= 0", name="non_negative"),
    )
    sa.Table(
        FOSTER, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("elder", sa.String(20), nullable=False),         # ID number of the 孤寡老人
        sa.Column("household", sa.String(32), nullable=False),     # number of the family that took them in
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("end", sa.Date),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("import_batch_id", sa.Integer),
        sa.UniqueConstraint("elder", "household", "start"),
    )
    sa.Table(
        GRANTS, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fund_code", sa.String(32), sa.ForeignKey(f"{FUNDS}.code"), nullable=False, index=True),
        sa.Column("unit_code", sa.String(32), sa.ForeignKey("units.code"), nullable=False, index=True),
        sa.Column("granted_by", sa.String(64), nullable=False),     # UNIT:USER of the owner who granted it
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("end", sa.Date),                                  # NULL: until further notice
        sa.UniqueConstraint("fund_code", "unit_code", "start"),
    )
    sa.Table(
        SHARES, metadata,
        # A fund or a project of one plan (or of none) shared with another plan, with the amount
        # that is that plan's: the owner says so explicitly, nothing is shared by default.
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_name", sa.String(64), nullable=False, index=True),
        sa.Column("fund_code", sa.String(32), sa.ForeignKey(f"{FUNDS}.code")),
        sa.Column("project_code", sa.String(32), sa.ForeignKey(f"{PROJECTS}.code")),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("shared_by", sa.String(64), nullable=False),      # UNIT:USER of the owner who shared it
        sa.Column("shared_on", sa.Date, nullable=False),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.CheckConstraint("amount_fen > 0", name="positive_share"),
        sa.CheckConstraint("(fund_code IS NULL) <> (project_code IS NULL)", name="fund_or_project"),
    )
