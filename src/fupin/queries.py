"""SQL pieces for counting a plan's records: the one place the core's targets, reports and
worklists and the plugins' get them from.

They are written against the store's tables (``store.table(name)`` returns the same
objects), so a plugin builds its queries from them without reaching into fupin's storage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from fupin.storage import schema as S

if TYPE_CHECKING:
    from fupin.plans import Plan


def plan_villages_condition(plan: Plan) -> sa.ColumnElement[bool]:
    """SQL condition on ``households``: in one of the plan's villages (by the villager group's code)."""
    return sa.func.substr(S.households.c.group_code, 1, 12).in_(sorted(v.code for v in plan.villages))


def unit_tree(conn: sa.Connection, root: str) -> set[str]:
    """Unit ``root`` and every unit below it."""
    units = dict(conn.execute(sa.select(S.units.c.code, S.units.c.parent_code)).all())
    tree, changed = {root}, True
    while changed:
        changed = False
        for code, parent in units.items():
            if parent in tree and code not in tree:
                tree.add(code)
                changed = True
    return tree


def plan_units(conn: sa.Connection, plan: Plan) -> list[str]:
    """The plan's helping unit and every unit below it, sorted."""
    return sorted(unit_tree(conn, plan.helping_unit.code))


def status_on(day: dt.date) -> sa.Subquery:
    """Household id -> status in force on ``day`` (the latest dated status row up to that day, the last
    recorded of a day with two).

    Written as "no later row of the household up to the day" rather than a window function: a
    household has a few status rows, found through the index on ``household_id``, so this avoids
    sorting every row of the table (SQLite and PostgreSQL alike run it faster).
    """
    hs = S.household_status
    later = hs.alias("later")
    newer = sa.or_(later.c.effective > hs.c.effective, sa.and_(later.c.effective == hs.c.effective, later.c.id > hs.c.id))
    return (
        sa.select(hs.c.household_id, hs.c.status, hs.c.id)
        .where(hs.c.effective <= day, ~sa.exists().where(later.c.household_id == hs.c.household_id, later.c.effective <= day, newer))
        .subquery()
    )


def materialized(cte: sa.CTE, dialect: sa.Dialect) -> sa.CTE:
    """``cte`` computed once, before the query that reads it (``AS MATERIALIZED``), where the database
    understands it (SQLite 3.35 and PostgreSQL 12 on): else the planner may copy its correlated
    subqueries into every place the query names one of its columns."""
    version = dialect.dbapi.sqlite_version_info if dialect.name == "sqlite" else dialect.server_version_info
    minimum = (3, 35) if dialect.name == "sqlite" else (12,)
    return cte.prefix_with("MATERIALIZED") if version is not None and tuple(version) >= minimum else cte


def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """SQL aggregate: how many rows meet ``condition`` (0 for none)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, sa.literal(1)), else_=0)), 0)


def _written(**templates: str) -> Callable[[type], type]:
    """Class decorator for a SQL function: how each dialect writes it, ``{0}``, ``{1}`` ... its arguments."""

    def register(cls: type) -> type:
        for dialect, template in templates.items():

            def write(element: Any, compiler: Any, _template: str = template, **kw: Any) -> str:
                return _template.format(*(compiler.process(c, **kw) for c in element.clauses))

            compiles(cls, dialect)(write)
        return cls

    return register


@_written(sqlite="group_concat({0}, char(31))", postgresql="string_agg(CAST({0} AS TEXT), chr(31))")
class joined(sa.sql.functions.FunctionElement):  # noqa: N801  (reads as SQL)
    """SQL aggregate: the values joined by U+001F, so a province's evidence comes back as one string, not a row each."""

    type = sa.Text()
    inherit_cache = True
    name = "joined"


@_written(sqlite="CAST(julianday({0}) - julianday({1}) AS INTEGER)", postgresql="({0} - {1})")
class days_between(sa.sql.functions.FunctionElement):  # noqa: N801  (reads as SQL)
    """SQL: the whole days from the second date to the first (``days_between(a, b)`` is a - b)."""

    type = sa.Integer()
    inherit_cache = True
    name = "days_between"


@_written(sqlite="date({0}, '+' || {1} || ' days')", postgresql="({0} + {1})")
class plus_days(sa.sql.functions.FunctionElement):  # noqa: N801  (reads as SQL)
    """SQL: the date ``plus_days(d, n)``, ``n`` (>= 0) days after ``d``."""

    type = sa.Date()
    inherit_cache = True
    name = "plus_days"


@_written(sqlite="date({0}, 'start of year', '+2 years', '-1 day')",
          postgresql="CAST(date_trunc('year', {0}) + interval '2 years' - interval '1 day' AS DATE)")
class year_end_after(sa.sql.functions.FunctionElement):  # noqa: N801  (reads as SQL)
    """SQL: 31 December of the year after the date's."""

    type = sa.Date()
    inherit_cache = True
    name = "year_end_after"


def key(prefix: str, column: sa.ColumnElement) -> sa.ColumnElement:
    """SQL: the evidence key ``prefix:value`` of a record."""
    return sa.literal(f"{prefix}:") + sa.cast(column, sa.Text)


def split(text: str | None) -> list[str]:
    """The evidence keys of a :class:`joined` aggregate."""
    return text.split("\x1f") if text else []


def own_records(table: sa.Table, plan: Plan, units: Iterable[str], *, plan_less: bool = False) -> sa.ColumnElement[bool]:
    """SQL condition on a table with ``plan_name`` and ``unit_code``: a record counts for a commitment
    only when one of the plan's own units registered it *and* it names this plan.

    A record of another unit naming the plan, or one of the plan's units naming another plan (a unit helps
    several villages under several plans), never proves the plan's work. One naming no plan counts only
    with ``plan_less``, for targets that tie the record to the plan's villages or cadres another way.
    """
    named = table.c.plan_name == plan.name
    return sa.and_(sa.or_(named, table.c.plan_name.is_(None)) if plan_less else named, table.c.unit_code.in_(sorted(units)))
