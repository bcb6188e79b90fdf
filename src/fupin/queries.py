"""SQL pieces for counting a plan's records: the one place the core's targets, reports and
worklists and the plugins' get them from.

They are written against the store's tables (``store.table(name)`` returns the same
objects), so a plugin builds its queries from them without reaching into fupin's storage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from fupin.storage import schema as S


def plan_villages_condition(plan: Any) -> sa.ColumnElement[bool]:
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


def plan_units(conn: sa.Connection, plan: Any) -> list[str]:
    """The plan's helping unit and every unit below it, sorted."""
    return sorted(unit_tree(conn, plan.helping_unit.code))


def of_plan(table: sa.Table, plan: Any, units: Iterable[str]) -> sa.ColumnElement[bool]:
    """SQL condition on a table with ``plan_name`` and ``unit_code`` (support actions, a plugin's
    records): counting for the plan, by its name or as registered by one of its units."""
    return sa.or_(table.c.plan_name == plan.name, table.c.unit_code.in_(sorted(units)))


def status_on(day: dt.date) -> sa.Subquery:
    """Household id -> status in force on ``day`` (the latest dated status row up to that day)."""
    hs = S.household_status
    ranked = sa.select(
        hs.c.household_id, hs.c.status, hs.c.id,
        sa.func.row_number().over(partition_by=hs.c.household_id, order_by=(hs.c.effective.desc(), hs.c.id.desc())).label("n"),
    ).where(hs.c.effective <= day).subquery()
    return sa.select(ranked.c.household_id, ranked.c.status, ranked.c.id).where(ranked.c.n == 1).subquery()


def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """SQL aggregate: how many rows meet ``condition`` (0 for none)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, sa.literal(1)), else_=0)), 0)


class joined(sa.sql.functions.FunctionElement):  # noqa: N801  (reads as SQL)
    """SQL aggregate: the values joined by U+001F, so a province's evidence comes back as one string, not a row each."""

    type = sa.Text()
    inherit_cache = True
    name = "joined"


@compiles(joined, "sqlite")
def _joined_sqlite(element: joined, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, char(31))"


@compiles(joined, "postgresql")
def _joined_postgresql(element: joined, compiler: Any, **kw: Any) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), chr(31))"


def key(prefix: str, column: sa.ColumnElement) -> sa.ColumnElement:
    """SQL: the evidence key ``prefix:value`` of a record."""
    return sa.literal(f"{prefix}:") + sa.cast(column, sa.Text)


def split(text: str | None) -> list[str]:
    """The evidence keys of a :class:`joined` aggregate."""
    return text.split("\x1f") if text else []
