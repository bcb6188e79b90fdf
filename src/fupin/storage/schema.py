"""The core tables (SQLAlchemy Core).

The schema in a database is created and upgraded by the alembic migrations in
``fupin/storage/migrations``; these Table objects are what the code queries,
and a test proves the migrations build exactly this schema. Plugins add their
tables to the same ``metadata`` through ``fupin_tables``.

Money columns end in ``_fen`` and hold integer fen. Natural keys (户编号,
证件号码, unit and cadre codes) are unique; households and persons also have a
surrogate integer id so a corrected number does not break references.
"""

from __future__ import annotations

import sqlalchemy as sa

#: Constraint names are fixed so migrations can refer to them on every backend.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Every versioned table has this column: it starts at 1 and grows with each
#: update, so an edit based on stale data can be detected.
def _version() -> sa.Column:
    return sa.Column("version", sa.Integer, nullable=False, server_default="1")


#: Rows written by a batch import name it: which file created or last changed them.
def _batch() -> sa.Column:
    return sa.Column("import_batch_id", sa.Integer, nullable=True)


areas = sa.Table(
    "areas",
    metadata,
    sa.Column("code", sa.String(15), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("parent_code", sa.String(15), sa.ForeignKey("areas.code"), nullable=True, index=True),
    _version(),
    _batch(),
)

village_profiles = sa.Table(
    "village_profiles",
    metadata,
    sa.Column("village_code", sa.String(15), sa.ForeignKey("areas.code"), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("households", sa.Integer, nullable=False),
    sa.Column("population", sa.Integer, nullable=False),
    sa.Column("poor_households", sa.Integer),
    sa.Column("poor_people", sa.Integer),
    sa.Column("area_km2", sa.Numeric(10, 2)),
    sa.Column("altitude_m", sa.Integer),
    sa.Column("mean_temp_c", sa.Numeric(5, 1)),
    sa.Column("rainfall_mm", sa.Integer),
    sa.Column("arable_mu", sa.Numeric(12, 2)),
    sa.Column("net_income_per_capita_fen", sa.BigInteger),
    sa.Column("earth_wood_houses", sa.Integer),
    sa.Column("migrant_workers", sa.Integer),
    _version(),
)

households = sa.Table(
    "households",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("group_code", sa.String(15), sa.ForeignKey("areas.code"), nullable=False, index=True),
    sa.Column("head_name", sa.String(50), nullable=False),
    sa.Column("attribute", sa.String(32), nullable=False),
    sa.Column("main_cause", sa.String(32), nullable=False),
    sa.Column("other_causes", sa.JSON, nullable=False),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("ident_standard", sa.String(16)),
    sa.Column("first_identified", sa.Date),
    sa.Column("planned_exit_year", sa.Integer),
    sa.Column("phone", sa.String(32)),
    sa.Column("housing_structure", sa.String(32)),
    sa.Column("dilapidated", sa.Boolean),
    sa.Column("safe_water", sa.Boolean),
    sa.Column("house_area_m2", sa.Numeric(10, 2)),
    sa.Column("net_income_per_capita_fen", sa.BigInteger),
    sa.Column("bank", sa.String(100)),
    sa.Column("bank_account", sa.String(40)),
    _version(),
    _batch(),
)

household_status = sa.Table(
    "household_status",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("household_id", sa.Integer, sa.ForeignKey("households.id"), nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("effective", sa.Date, nullable=False),
    sa.Column("reason", sa.String(200), nullable=False, server_default=""),
)

persons = sa.Table(
    "persons",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id_number", sa.String(20), nullable=False, unique=True),
    sa.Column("household_id", sa.Integer, sa.ForeignKey("households.id"), nullable=False, index=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("relation", sa.String(16), nullable=False),
    sa.Column("sex", sa.String(4), nullable=False),
    sa.Column("birth_date", sa.Date, nullable=False),
    sa.Column("ethnicity", sa.String(16)),
    sa.Column("education", sa.String(16)),
    sa.Column("student_status", sa.String(16)),
    sa.Column("health", sa.String(16)),
    sa.Column("labour", sa.String(16)),
    sa.Column("work_status", sa.String(16)),
    sa.Column("work_months", sa.Integer),
    sa.Column("phone", sa.String(32)),
    _version(),
    _batch(),
    # Exactly one head per household, kept by the database itself: two writers
    # adding different heads at the same moment cannot both succeed.
    sa.Index(
        "ux_persons_one_head",
        "household_id",
        unique=True,
        sqlite_where=sa.text("relation = '户主'"),
        postgresql_where=sa.text("relation = '户主'"),
    ),
)

person_tags = sa.Table(
    "person_tags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.id"), nullable=False, index=True),
    sa.Column("tag", sa.String(32), nullable=False, index=True),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("end", sa.Date),
    sa.Column("note", sa.String(200), nullable=False, server_default=""),
    _batch(),
)

units = sa.Table(
    "units",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("parent_code", sa.String(32), sa.ForeignKey("units.code"), index=True),
    sa.Column("area_code", sa.String(15), sa.ForeignKey("areas.code")),
    _version(),
    _batch(),
)

cadres = sa.Table(
    "cadres",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("unit_code", sa.String(32), sa.ForeignKey("units.code"), nullable=False, index=True),
    sa.Column("rank", sa.String(16), nullable=False),
    sa.Column("title", sa.String(100), nullable=False, server_default=""),
    sa.Column("sex", sa.String(4)),
    sa.Column("phone", sa.String(32)),
    _version(),
    _batch(),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("helping_unit", sa.String(32), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    # The TOML text itself: a plan is data, kept exactly as loaded.
    sa.Column("source", sa.Text, nullable=False),
    _version(),
)

support_actions = sa.Table(
    "support_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False, index=True),
    sa.Column("start_date", sa.Date, nullable=False, index=True),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("unit_code", sa.String(32), sa.ForeignKey("units.code"), nullable=False, index=True),
    sa.Column("plan_name", sa.String(64), sa.ForeignKey("plans.name"), index=True),
    sa.Column("title", sa.String(200), nullable=False, server_default=""),
    # The registering unit's own id for the action (a ledger number): the natural
    # key that makes re-imports of an action file idempotent.
    sa.Column("ref", sa.String(64), nullable=True),
    sa.Column("amount_fen", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("quantities", sa.JSON, nullable=False),
    sa.Column("details", sa.JSON),
    _version(),
    _batch(),
    # A unique index, not a constraint: SQLite adds it without rebuilding the table.
    sa.Index("ux_support_actions_ref", "ref", unique=True),
)

action_helpers = sa.Table(
    "action_helpers",
    metadata,
    sa.Column("action_id", sa.Integer, sa.ForeignKey("support_actions.id"), primary_key=True),
    sa.Column("cadre_code", sa.String(32), sa.ForeignKey("cadres.code"), primary_key=True, index=True),
)

action_beneficiaries = sa.Table(
    "action_beneficiaries",
    metadata,
    sa.Column("action_id", sa.Integer, sa.ForeignKey("support_actions.id"), primary_key=True),
    sa.Column("type", sa.String(16), primary_key=True),
    sa.Column("ref", sa.String(32), primary_key=True),
    sa.Index("ix_action_beneficiaries_type_ref", "type", "ref"),
)

#: The villages a plan helps (from its TOML), so scopes can be computed in SQL.
plan_villages = sa.Table(
    "plan_villages",
    metadata,
    sa.Column("plan_name", sa.String(64), sa.ForeignKey("plans.name"), primary_key=True),
    sa.Column("village_code", sa.String(15), primary_key=True),
)

#: Users of the platform: a login of a unit, with roles (names from roles.toml)
#: and what scopes them (area codes for area users, a cadre code for cadres).
users = sa.Table(
    "users",
    metadata,
    sa.Column("unit", sa.String(32), primary_key=True),
    sa.Column("user", sa.String(64), primary_key=True),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("areas", sa.JSON),
    sa.Column("cadre", sa.String(32)),
    # The PostgreSQL role (session user) this user acts through on the command line.
    sa.Column("login", sa.String(63), index=True),
    _version(),
)

#: Values of the store itself (the key of masked exports' record tokens ...), by name.
settings = sa.Table(
    "settings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

#: One row per imported file: what was read, by whom, and what it changed.
import_batches = sa.Table(
    "import_batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False, index=True),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("inserted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("user", sa.String(64), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)

#: Append-only: the migrations add triggers that refuse UPDATE and DELETE.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("user", sa.String(64), nullable=False),
    sa.Column("operation", sa.String(16), nullable=False),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("record_key", sa.String(64), nullable=False),
    sa.Column("old", sa.JSON),
    sa.Column("new", sa.JSON),
    sa.Column("reason", sa.String(200)),
    # The hash chain (fupin.audit): NULL only in a row written around fupin.
    sa.Column("prev_hash", sa.String(64)),
    sa.Column("hash", sa.String(64)),
    sa.Index("ix_audit_log_table_key", "table_name", "record_key"),
)

#: One row: the head of the audit log's hash chain (last id and hash, number of
#: entries), moved forward with every append; triggers refuse to move it back or delete it.
audit_anchor = sa.Table(
    "audit_anchor",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_id", sa.Integer, nullable=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("id = 1", name="one_row"),
)

#: 挂包帮: a leader to a village (挂点), a unit to a village (包村), a cadre to a
#: household (帮户, kind 重点帮扶 or 联系). A change of helper ends one row and
#: starts another, so the history stays; ``end_date`` is NULL while it holds.
pairings = sa.Table(
    "pairings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("cadre_code", sa.String(32), sa.ForeignKey("cadres.code"), index=True),
    sa.Column("unit_code", sa.String(32), sa.ForeignKey("units.code")),
    sa.Column("household_id", sa.Integer, sa.ForeignKey("households.id"), index=True),
    sa.Column("village_code", sa.String(15), sa.ForeignKey("areas.code")),
    sa.Column("kind", sa.String(16)),
    sa.Column("plan_name", sa.String(64), sa.ForeignKey("plans.name"), index=True),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date),
    sa.Column("end_reason", sa.String(200), nullable=False, server_default=""),
    _version(),
    _batch(),
    # One pairing of a cadre with a household starts once on a given day (the import key).
    sa.Index("ux_pairings_cadre_household_start", "cadre_code", "household_id", "start_date", unique=True),
)

#: 转走访: a visit to a household or to the village, by one or more cadres, with
#: the answers to a versioned questionnaire (``questionnaire`` = ``name@version``).
visits = sa.Table(
    "visits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # The visit's number in the visiting unit's records: the import key.
    sa.Column("ref", sa.String(64), nullable=False, unique=True),
    sa.Column("visit_date", sa.Date, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("household_id", sa.Integer, sa.ForeignKey("households.id")),
    sa.Column("village_code", sa.String(15), sa.ForeignKey("areas.code")),
    sa.Column("plan_name", sa.String(64), sa.ForeignKey("plans.name")),
    sa.Column("questionnaire", sa.String(64)),
    # none_as_null: a visit without answers stores SQL NULL, so "has answers" is a plain IS NOT NULL.
    sa.Column("answers", sa.JSON(none_as_null=True)),
    sa.Column("findings", sa.Text, nullable=False, server_default=""),
    sa.Column("problems", sa.Text, nullable=False, server_default=""),
    sa.Column("follow_up", sa.Text, nullable=False, server_default=""),
    _version(),
    _batch(),
    # Coverage and worklists read a household's visits by date.
    sa.Index("ix_visits_household_date", "household_id", "visit_date"),
)

visit_cadres = sa.Table(
    "visit_cadres",
    metadata,
    sa.Column("visit_id", sa.Integer, sa.ForeignKey("visits.id"), primary_key=True),
    sa.Column("cadre_code", sa.String(32), sa.ForeignKey("cadres.code"), primary_key=True, index=True),
)

#: 民情日记 and the other sentiment work (talks, visitors, reports, feedback);
#: an entry with a ``case_ref`` is a follow-up of that case.
diary_entries = sa.Table(
    "diary_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(64), nullable=False, unique=True),
    sa.Column("entry_date", sa.Date, nullable=False, index=True),
    sa.Column("cadre_code", sa.String(32), sa.ForeignKey("cadres.code"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("household_id", sa.Integer, sa.ForeignKey("households.id"), index=True),
    sa.Column("village_code", sa.String(15), sa.ForeignKey("areas.code")),
    sa.Column("case_ref", sa.String(64), index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("problems", sa.Text, nullable=False, server_default=""),
    sa.Column("follow_up", sa.Text, nullable=False, server_default=""),
    _version(),
    _batch(),
)

#: Grievances, disputes and requests: opened, followed (diary entries), closed.
cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("opened", sa.Date, nullable=False, index=True),
    sa.Column("cadre_code", sa.String(32), sa.ForeignKey("cadres.code"), nullable=False, index=True),
    sa.Column("household_id", sa.Integer, sa.ForeignKey("households.id"), index=True),
    sa.Column("village_code", sa.String(15), sa.ForeignKey("areas.code")),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("closed", sa.Date),
    sa.Column("resolution", sa.Text, nullable=False, server_default=""),
    _version(),
    _batch(),
)

#: An exit assessment (C37): the figures and criteria a household was judged on,
#: kept as the evidence of a recorded exit.
exit_assessments = sa.Table(
    "exit_assessments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("household_id", sa.Integer, sa.ForeignKey("households.id"), nullable=False, index=True),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("assessed_on", sa.Date, nullable=False),
    sa.Column("income_per_capita_fen", sa.BigInteger),
    sa.Column("line_fen", sa.BigInteger, nullable=False),
    sa.Column("jurisdiction", sa.String(15), nullable=False),
    sa.Column("visit_id", sa.Integer, sa.ForeignKey("visits.id")),
    sa.Column("criteria", sa.JSON, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("user", sa.String(64), nullable=False),
)

#: Core tables in dependency order (parents first).
CORE_TABLES = tuple(metadata.sorted_tables)
