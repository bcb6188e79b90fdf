"""Which funds an actor reaches, who may spend them, and who may approve (issue #14).

A fund belongs to a unit (``funding_funds.owner_unit``). A permission reaches
a fund when the actor's role reaches its owner the way the core decides for
units (:meth:`fupin.access.Access.unit_allowed`: scope ``unit`` is the
actor's unit tree, ``plans`` the whole helping unit its plan office runs,
``all`` everything), or when the owner granted the fund to a unit the actor
acts for (``funding_grants``: the actor's unit tree, or for a cadre their own
unit). Reading (``actions.read``) counts every grant ever made, so a
department still sees what it spent; spending (``actions.write``) needs the
grant in force on the entry's date.

An entry is approved by someone else: a registered user who holds
``funding.approve`` over the fund's owner (four eyes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import attrs
import sqlalchemy as sa

from fupin import Actor, Problem
from fupin.ext import Access

from fupin_funding.tables import FUNDS, GRANTS

READ = "actions.read"
WRITE = "actions.write"
APPROVE = "funding.approve"

#: The plugin's permission (the ``fupin_permissions`` hook): approving is done in a plan office or a unit.
PERMISSIONS = [
    {"name": APPROVE, "zh": "审批权限范围内资金的账目(第二双眼睛)", "en": "approve ledger entries of funds in scope: the second pair of eyes",
     "scopes": ["all", "plans", "unit"]},
]

#: Who holds it (the ``fupin_roles`` hook): the plan office.
ROLES = {"roles": {"plan_office": {"extend": True, "permissions": [APPROVE]}}}


@attrs.frozen
class Reach:
    """The funds one permission of the actor reaches: all of them, or those of ``owners`` and those granted to ``grantees``."""

    everything: bool
    owners: frozenset[str] = frozenset()
    grantees: frozenset[str] = frozenset()

    def owns(self, owner: str | None) -> bool:
        """Whether the fund's owner is reached (a fund without an owner only by scope ``all``)."""
        return self.everything or (owner is not None and owner in self.owners)

    def granted(self, grants: Iterable[Any], day: dt.date | None = None) -> bool:
        """Whether one of a fund's grants names a unit the actor acts for (in force on ``day``, if given)."""
        return any(g.unit_code in self.grantees and (day is None or (g.start <= day and (g.end is None or g.end >= day))) for g in grants)


def reach(store: Any, conn: sa.Connection, permission: str) -> Reach:
    """What ``permission`` reaches for the store's actor (no scope at all: nothing).

    Only the units that own a fund or were granted one are asked about (a
    province has thousands of units and a few dozen funds); the core decides
    each (:meth:`fupin.access.Access.unit_allowed`).
    """
    access = store.access
    scopes = access.scopes(permission)
    if "all" in scopes:
        return Reach(True)
    if not scopes:
        return Reach(False)
    f, g = store.table(FUNDS), store.table(GRANTS)
    owning = conn.execute(sa.select(f.c.owner_unit).where(f.c.owner_unit.is_not(None)).distinct()).scalars().all()
    granted = conn.execute(sa.select(g.c.unit_code).distinct()).scalars().all()
    owners = {code for code in owning if access.unit_allowed(permission, code)}
    grantees = {code for code in granted if access.unit_allowed(permission, code)}
    if "cadre" in scopes:
        grantees.add(store.actor.unit)  # a cadre acts for their own unit only, never for the units below it
    return Reach(False, frozenset(owners), frozenset(grantees))


def fund_condition(store: Any, conn: sa.Connection, permission: str = READ) -> sa.ColumnElement[bool]:
    """SQL condition on ``funding_funds`` for the funds ``permission`` reaches (any grant, past ones included)."""
    return _condition(store, reach(store, conn, permission))


def _condition(store: Any, r: Reach) -> sa.ColumnElement[bool]:
    if r.everything:
        return sa.true()
    f, g = store.table(FUNDS), store.table(GRANTS)
    granted = sa.select(g.c.fund_code).where(g.c.unit_code.in_(sorted(r.grantees)))
    return sa.or_(f.c.owner_unit.in_(sorted(r.owners)), f.c.code.in_(granted))


def funds_condition(
    store: Any, conn: sa.Connection, column: sa.ColumnElement[Any], permission: str = READ, *, reached: Reach | None = None
) -> sa.ColumnElement[bool]:
    """SQL condition on a table's fund code ``column`` (entries, lines) for the funds ``permission``
    reaches (``reached``: what :func:`reach` already answered)."""
    r = reached or reach(store, conn, permission)
    if r.everything:
        return sa.true()
    f = store.table(FUNDS)
    return column.in_(sa.select(f.c.code).where(_condition(store, r)))


def grants_of(conn: sa.Connection, metadata: sa.MetaData, codes: Iterable[str]) -> dict[str, list[Any]]:
    """Fund code -> its grants (rows of ``funding_grants``)."""
    g = metadata.tables[GRANTS]
    out: dict[str, list[Any]] = {}
    for row in conn.execute(sa.select(g).where(g.c.fund_code.in_(sorted(set(codes)))).order_by(g.c.fund_code, g.c.start)):
        out.setdefault(row.fund_code, []).append(row)
    return out


def denied_reason(fund: Any, day: dt.date) -> str:
    """Why the actor may not book on ``fund`` on ``day`` (the fund is neither theirs nor granted to them then)."""
    return (f"资金账户 {fund.code} 不属于你的单位, 且 {day} 未授权你的单位使用 / fund {fund.code} is not your unit's "
            f"and was not granted to your unit on {day} (the owner grants it: fupin funding grant)")


class Approvers:
    """Whether a named approver may approve an entry on a fund: registered, holding ``funding.approve``
    over the fund's owner, and not the actor. Answers are kept for the length of one check."""

    def __init__(self, store: Any, conn: sa.Connection) -> None:
        self.store, self.conn = store, conn
        self._access: dict[str, Access | None] = {}

    def problem(self, approver: str | None, owner: str | None, fund: str) -> Problem | None:
        """None if ``approver`` may approve an entry on ``fund`` (owned by ``owner``), else why not."""
        key = normalise_user(approver)
        if key == str(self.store.actor):
            return Problem("approved_by", "不能审批自己经办的款项 (两人经手) / you cannot approve an entry you record yourself (four eyes)", approver)
        if key not in self._access:
            user = self.store.user_holding(key, APPROVE) if ":" in key else None
            # The approver's own scope, read on this connection (an import's holds the fund rows locked).
            self._access[key] = None if user is None else Access(self.conn, Actor(user.unit, user.user), self.store.roles)
        access = self._access[key]
        if access is None:
            return Problem("approved_by", f"审批人须为已登记且有 {APPROVE} 权限的用户 (单位:用户) / "
                                          f"the approver must be a registered user (UNIT:USER) holding {APPROVE}", approver)
        if not (access.unit_allowed(APPROVE, owner) if owner is not None else "all" in access.scopes(APPROVE)):
            return Problem("approved_by", f"审批人的 {APPROVE} 不及于资金账户 {fund} (属 {owner}) / "
                                          f"the approver's {APPROVE} does not reach fund {fund} (owned by {owner})", approver)
        return None


def normalise_user(text: Any) -> str:
    """``" QJNU : office "`` -> ``"QJNU:office"`` (how users are keyed); other text stripped."""
    text = "" if text is None else str(text).strip()
    unit, sep, user = text.partition(":")
    return f"{unit.strip()}:{user.strip()}" if sep else text
