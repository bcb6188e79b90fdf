"""Who may do what: actors, roles as data, and the scope of each permission.

Every store call runs as an :class:`~fupin.store.Actor` (a user of a unit).
The actor's roles come from the ``users`` table; each role (``roles.toml``,
extended by a province through ``fupin_roles``) grants permissions within a
scope: all records, the plans of the user's unit, what the user's unit
registered, the households a cadre helps, or the households of some areas.
:class:`Access` answers "may this actor do P to that record?" and gives the SQL
condition that limits a query to what the actor may see; the store asks it
on every path (show, list, export, import, record, report), so there is one
place where access is decided.

Nobody holds any permission without being a registered user: a store opened
without an actor, or as an actor missing from ``users``, may do nothing. An
empty ``users`` table is the bootstrap state, in which only ``Store.init`` runs:
whoever initialises the database becomes its platform administrator.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from fupin.errors import FupinError, ValidationError
from fupin.model import AREA_DIGITS
from fupin.storage import schema as S

if TYPE_CHECKING:
    from fupin.actions import SupportAction
    from fupin.io.kinds import ImportKind
    from fupin.store import Actor

#: Every permission a role can grant, with what it allows.
PERMISSIONS = {
    "registry.read": "read households, persons and tags in scope",
    "registry.personal": "see personal details (ID numbers, phones) of records in scope",
    "registry.write": "add and change areas, households, persons and tags in scope",
    "units.write": "add and change units and cadres in scope",
    "units.reparent": "move a unit under another parent unit (changes whose records a unit's users reach)",
    "actions.read": "list, show and export support actions in scope",
    "actions.write": "record and import support actions in scope",
    "plans.write": "load plans of the user's unit",
    "aggregates.read": "read aggregate figures (counts in reports and checks) of every record",
    "export.unmasked": "export personal data unmasked (audited)",
    "audit.read": "read the audit log and import batches",
    "users.manage": "add users and give them roles",
    "database.raw": "open raw transactions and connections (store.transaction(), store.reading() without a permission): every row, no scope",
    "psychology.read": "read counselling records (notes need a stated reason)",
    "psychology.write": "record counselling sessions and social-work cases in scope",
    "dedup.merge": "merge duplicate person records",
    "pairing.write": "pair cadres with households and villages, end and transfer pairings in scope",
    "visits.write": "record visits, diary entries and cases of households in scope",
    "exits.write": "record households' exits from poverty (with their assessment) in scope",
}
SCOPES = ("all", "plans", "unit", "cadre", "areas")


class IdentityError(FupinError, PermissionError):
    """Who is acting cannot be established: no actor given, or one the login may not act as."""

    exit_code = 3


class AccessDenied(FupinError, PermissionError):
    """The actor lacks a permission (or the record is outside its scope); nothing was changed."""

    exit_code = 3

    def __init__(self, actor: object, permission: str, target: str = "") -> None:
        self.actor = actor
        self.permission = permission
        self.target = target
        where = f" ({target})" if target else ""
        super().__init__(f"权限不足 / permission denied: {actor} lacks {permission}{where}")


@attrs.frozen
class Role:
    """A named set of permissions over one scope."""

    name: str
    zh: str
    en: str
    scope: str = attrs.field(validator=attrs.validators.in_(SCOPES))
    permissions: frozenset[str] = attrs.field(converter=frozenset)


def _role_sources(extensions: Iterable[Path | Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    text = (importlib.resources.files("fupin") / "data" / "roles.toml").read_text(encoding="utf-8")
    sources: list[Mapping[str, Any]] = [tomllib.loads(text)]
    for ext in extensions:
        sources.append(ext if isinstance(ext, Mapping) else tomllib.loads(Path(ext).read_text(encoding="utf-8")))
    return sources


def load_permissions(extensions: Iterable[Path | Mapping[str, Any]] = ()) -> dict[str, str]:
    """Every permission: the core's (:data:`PERMISSIONS`), then those a plugin declares
    in the ``[permissions]`` table of its ``fupin_roles`` data (name = what it allows)."""
    permissions = dict(PERMISSIONS)
    for data in _role_sources(extensions):
        for name, text in data.get("permissions", {}).items():
            permissions.setdefault(str(name), str(text))
    return permissions


def load_roles(extensions: Iterable[Path | Mapping[str, Any]] = ()) -> dict[str, Role]:
    """The packaged roles, then each extension (a TOML path or mapping in the same format) over them.

    Extensions may also add to a packaged role's permissions without replacing it
    (``[roles.NAME] extend = true``), which is how a plugin gives its own
    permissions to the core's roles.
    """
    sources = _role_sources(extensions)
    known = load_permissions(extensions)
    roles: dict[str, Role] = {}
    for data in sources:
        for name, spec in data.get("roles", {}).items():
            if spec.get("extend") and name in roles:
                old = roles[name]
                roles[name] = attrs.evolve(old, permissions=old.permissions | frozenset(spec.get("permissions", ())))
                continue
            roles[name] = Role(name, spec.get("zh", name), spec.get("en", name), spec["scope"], spec["permissions"])
    for role in roles.values():
        unknown = sorted(role.permissions - set(known))
        if unknown:
            raise ValidationError.of(f"roles.{role.name}.permissions", f"未知权限 / unknown permissions: {', '.join(unknown)}")
    return roles


@attrs.frozen
class User:
    """A registered user: unit, login, roles, and what scopes them (areas, a cadre code)."""

    unit: str
    user: str
    roles: tuple[str, ...]
    areas: tuple[str, ...] = ()
    cadre: str | None = None
    #: The PostgreSQL role (session user) this user acts through on the command line, if any.
    login: str | None = None

    @classmethod
    def from_row(cls, row: sa.RowMapping | Mapping[str, Any]) -> User:
        """The user of a ``users`` row."""
        return cls(row["unit"], row["user"], tuple(row["roles"]), tuple(row["areas"] or ()), row["cadre"], row.get("login"))

    @property
    def key(self) -> str:
        return f"{self.unit}:{self.user}"


TRUE = sa.true()
FALSE = sa.false()


class Access:
    """What one actor may do, read from the database once (per store)."""

    def __init__(self, conn: sa.Connection, actor: Actor | None, roles: Mapping[str, Role]) -> None:
        self.actor = actor
        self.roles = roles
        initialised = sa.inspect(conn).has_table("users")
        #: No user is registered yet: only ``Store.init`` may run, and makes its actor the administrator.
        self.bootstrap = not initialised or conn.execute(sa.select(sa.func.count()).select_from(S.users)).scalar_one() == 0
        self.user: User | None = None
        self._units: dict[str, str | None] = {}
        self._area_levels: dict[str, str] = {}
        self._plan_villages: dict[str, set[str]] = {}
        self._plan_units: dict[str, str] = {}
        if initialised and actor is not None:
            self._load(conn)
        # permission -> the scopes in which some role of the user grants it. Nobody
        # holds anything without a registered user: not the unnamed, not the unknown,
        # not anyone while the users table is empty (the state before ``init``).
        self._scopes: dict[str, set[str]] = {}
        if self.user is not None:
            for role in filter(None, map(roles.get, self.user.roles)):
                for p in role.permissions:
                    self._scopes.setdefault(p, set()).add(role.scope)

    def _load(self, conn: sa.Connection) -> None:
        """Read the user, the unit tree, the user's areas and the plans' villages."""
        # Only the columns the database has: an administrator must be recognised
        # on a database made by an older release, to upgrade it.
        present = {c["name"] for c in sa.inspect(conn).get_columns("users")}
        row = conn.execute(
            sa.select(*(c for c in S.users.c if c.name in present)).where(S.users.c.unit == self.actor.unit, S.users.c.user == self.actor.user)
        ).mappings().first()
        if row is not None:
            self.user = User.from_row(row)
        self._units = dict(conn.execute(sa.select(S.units.c.code, S.units.c.parent_code)).all())
        if self.user and self.user.areas:
            self._area_levels = dict(
                conn.execute(sa.select(S.areas.c.code, S.areas.c.level).where(S.areas.c.code.in_(self.user.areas))).all()
            )
        for plan, village in conn.execute(sa.select(S.plan_villages.c.plan_name, S.plan_villages.c.village_code)):
            self._plan_villages.setdefault(plan, set()).add(village)
        self._plan_units = dict(conn.execute(sa.select(S.plans.c.name, S.plans.c.helping_unit)).all())

    # -- what the actor holds --------------------------------------------------------

    def has(self, permission: str) -> bool:
        """Whether any role grants ``permission`` (in some scope)."""
        return bool(self._scopes.get(permission))

    def require(self, permission: str, target: str = "") -> None:
        """Raise :class:`AccessDenied` unless some role grants ``permission``."""
        if not self.has(permission):
            raise AccessDenied(self.actor, permission, "; ".join(filter(None, (target, self._why()))))

    def _why(self) -> str:
        if self.actor is None:
            return "没有指定用户 / no actor given: open the store with actor= (or acting_as), or use --as UNIT:USER"
        if self.bootstrap:
            return "数据库还没有用户 / no user registered yet: the administrator runs `fupin init` first"
        if self.user is None:
            return f"未登记的用户 / unknown user {self.actor}: fupin users add"
        return ""

    def scopes(self, permission: str) -> set[str]:
        """The scopes in which ``permission`` is granted."""
        return self._scopes.get(permission, set())

    # -- the pieces scopes are made of --------------------------------------------------

    def unit_tree(self) -> set[str]:
        """The actor's unit and every unit below it."""
        own = self.actor.unit
        tree = {own}
        changed = True
        while changed:
            changed = False
            for code, parent in self._units.items():
                if parent in tree and code not in tree:
                    tree.add(code)
                    changed = True
        return tree

    def root_unit(self) -> str:
        """The top of the actor's unit tree: the helping unit whose plans a plan office runs."""
        code, seen = self.actor.unit, set()
        while self._units.get(code) and code not in seen:
            seen.add(code)
            code = self._units[code]
        return code

    def plans(self) -> set[str]:
        """Plans of the actor's helping unit."""
        root = self.root_unit()
        return {name for name, unit in self._plan_units.items() if unit == root}

    def plan_villages(self) -> set[str]:
        """Villages of the actor's plans."""
        return set().union(*(self._plan_villages.get(p, set()) for p in self.plans()))

    def area_prefixes(self) -> list[str]:
        """Code prefixes of the actor's areas (significant digits by level)."""
        return [code[: AREA_DIGITS.get(level, len(code))] for code, level in self._area_levels.items()]

    # -- households -------------------------------------------------------------------

    def household_condition(self, permission: str) -> sa.ColumnElement[bool]:
        """SQL condition on ``households`` for the rows ``permission`` reaches."""
        h = S.households
        parts = []
        for scope in self.scopes(permission):
            if scope == "all":
                return TRUE
            if scope == "plans":
                parts.append(sa.func.substr(h.c.group_code, 1, 12).in_(sorted(self.plan_villages())))
            elif scope == "areas":
                parts.extend(h.c.group_code.startswith(p) for p in self.area_prefixes())
            elif scope == "cadre" and self.user and self.user.cadre:
                parts.append(h.c.id.in_(self._paired_households()))
        return sa.or_(*parts) if parts else FALSE

    def _paired_households(self) -> sa.Select[Any]:
        """Ids of the households the user's cadre is paired with today (帮户).

        Pairings only: an action the cadre records naming a household as
        beneficiary must never widen what the cadre may read (it would let a
        cadre open any card by recording help for it).
        """
        p = S.pairings
        today = dt.date.today()
        return sa.select(p.c.household_id).where(
            p.c.cadre_code == self.user.cadre,  # type: ignore[union-attr]
            p.c.household_id.is_not(None),
            p.c.start_date <= today,
            sa.or_(p.c.end_date.is_(None), p.c.end_date >= today),
        )

    def beneficiaries_allowed(self, conn: sa.Connection, permission: str, action: SupportAction) -> bool:
        """Whether ``permission`` reaches every household and person an action names as beneficiary.

        Only a cadre's scope is bounded by households: a cadre records help for
        the households it is paired with, and no other. Other scopes record
        help for whoever receives it (the registry stays closed to them).
        """
        scopes = self.scopes(permission)
        if "all" in scopes or scopes - {"cadre"}:
            return True
        numbers = {b.ref for b in action.beneficiaries if b.type == "household"}
        persons = {b.ref for b in action.beneficiaries if b.type == "person"}
        if not numbers and not persons:
            return True
        if not (self.user and self.user.cadre):
            return False
        h = S.households
        mine = h.c.id.in_(self._paired_households())
        if numbers:
            found = set(conn.execute(sa.select(h.c.number).where(h.c.number.in_(sorted(numbers)), mine)).scalars())
            if found != numbers:
                return False
        if persons:
            found = set(conn.execute(
                sa.select(S.persons.c.id_number).join(h, h.c.id == S.persons.c.household_id).where(S.persons.c.id_number.in_(sorted(persons)), mine)
            ).scalars())
            if found != persons:
                return False
        return True

    def group_allowed(self, permission: str, group_code: str) -> bool:
        """Whether ``permission`` reaches a household of villager group ``group_code`` (or that area)."""
        for scope in self.scopes(permission):
            if scope == "all":
                return True
            if scope == "plans" and any(group_code.startswith(v) for v in self.plan_villages()):
                return True
            if scope == "areas" and any(group_code.startswith(p) for p in self.area_prefixes()):
                return True
        return False

    def require_household(self, conn: sa.Connection, permission: str, number: str) -> None:
        """Raise unless ``permission`` reaches household ``number``."""
        self.require(permission)
        found = conn.execute(
            sa.select(S.households.c.id).where(S.households.c.number == number, self.household_condition(permission))
        ).first()
        if found is None:
            raise AccessDenied(self.actor, permission, f"户 {number} 不在权限范围内 / household outside your scope")

    # -- units and actions -------------------------------------------------------------------

    def unit_allowed(self, permission: str, unit_code: str | None) -> bool:
        """Whether ``permission`` reaches unit ``unit_code`` (its cadres, its sub-units)."""
        for scope in self.scopes(permission):
            if scope == "all":
                return True
            if scope == "unit" and unit_code in self.unit_tree():
                return True
            if scope == "plans" and unit_code in self._subtree(self.root_unit()):
                return True
        return False

    def _subtree(self, root: str) -> set[str]:
        saved = self.actor
        try:
            self.actor = attrs.evolve(saved, unit=root)
            return self.unit_tree()
        finally:
            self.actor = saved

    def action_condition(self, permission: str) -> sa.ColumnElement[bool]:
        """SQL condition on ``support_actions`` for the rows ``permission`` reaches."""
        a = S.support_actions
        parts = []
        for scope in self.scopes(permission):
            if scope == "all":
                return TRUE
            if scope == "unit":
                parts.append(a.c.unit_code.in_(sorted(self.unit_tree())))
            elif scope == "plans":
                parts.append(a.c.unit_code.in_(sorted(self._subtree(self.root_unit()))))
                parts.append(a.c.plan_name.in_(sorted(self.plans())))
            elif scope == "cadre" and self.user and self.user.cadre:
                parts.append(a.c.id.in_(sa.select(S.action_helpers.c.action_id).where(S.action_helpers.c.cadre_code == self.user.cadre)))
            elif scope == "areas":
                households = sa.select(S.households.c.number).where(self.household_condition(permission))
                parts.append(
                    a.c.id.in_(
                        sa.select(S.action_beneficiaries.c.action_id).where(
                            S.action_beneficiaries.c.type == "household", S.action_beneficiaries.c.ref.in_(households)
                        )
                    )
                )
        return sa.or_(*parts) if parts else FALSE

    def action_allowed(self, permission: str, action: SupportAction) -> bool:
        """Whether ``permission`` reaches an action: by its registering unit, its plan, or as its helper."""
        for scope in self.scopes(permission):
            if scope == "all":
                return True
            if scope == "unit" and action.unit in self.unit_tree():
                return True
            if scope == "plans" and (action.unit in self._subtree(self.root_unit()) or action.plan in self.plans()):
                return True
            if scope == "cadre" and self.user is not None and self.user.cadre in action.helpers:
                return True
        return False

    def plan_allowed(self, permission: str, helping_unit: str) -> bool:
        """Whether ``permission`` reaches a plan of ``helping_unit``."""
        scopes = self.scopes(permission)
        return "all" in scopes or ("plans" in scopes and helping_unit == self.root_unit())

    # -- batch import and export ------------------------------------------------------

    def kind_condition(self, kind: ImportKind, permission: str, table: sa.Table) -> sa.ColumnElement[bool]:
        """SQL condition on ``kind``'s table for the rows ``permission`` reaches (exports)."""
        if kind.scope is None or "all" in self.scopes(permission):
            return TRUE if self.has(permission) else FALSE
        what, _field = kind.scope
        households = sa.select(S.households.c.id).where(self.household_condition(permission))
        if what == "group":
            return table.c.id.in_(households) if table.name == "households" else table.c.group_code.in_(
                sa.select(S.households.c.group_code).where(self.household_condition(permission))
            )
        if what == "household":
            return table.c.household_id.in_(households)
        if what == "person":
            return table.c.person_id.in_(sa.select(S.persons.c.id).where(S.persons.c.household_id.in_(households)))
        if what == "area":
            prefixes = self.area_prefixes() if "areas" in self.scopes(permission) else []
            prefixes += sorted(self.plan_villages()) if "plans" in self.scopes(permission) else []
            return sa.or_(*(table.c.code.startswith(p) for p in prefixes)) if prefixes else FALSE
        if what == "unit":
            column = table.c.code if table.name == "units" else table.c.unit_code
            allowed = sorted(u for u in self._units if self.unit_allowed(permission, u))
            return column.in_(allowed)
        if what == "action":
            return self.action_condition(permission)
        return FALSE

    def import_problems(self, conn: sa.Connection, kind: ImportKind, rows: list[tuple[int, Any]]) -> dict[int, str]:
        """Row number -> why ``kind.write_permission`` does not reach that record (imports)."""
        permission = kind.write_permission
        if kind.scope is None or "all" in self.scopes(permission):
            return {} if self.has(permission) else {n: permission for n, _ in rows}
        what, field = kind.scope
        keys = {getattr(r, field) for _, r in rows}
        if what == "household":
            allowed = set(conn.execute(
                sa.select(S.households.c.number).where(S.households.c.number.in_(keys), self.household_condition(permission))
            ).scalars())
        elif what == "person":
            allowed = set(conn.execute(
                sa.select(S.persons.c.id_number)
                .join(S.households, S.households.c.id == S.persons.c.household_id)
                .where(S.persons.c.id_number.in_(keys), self.household_condition(permission))
            ).scalars())
        out = {}
        for row_no, record in rows:
            key = getattr(record, field)
            village = getattr(record, "village", None)
            if key is None and village is not None and what == "household":
                ok = self.group_allowed(permission, village)  # a record about the village, not one household
            elif what in ("group", "area"):
                ok = self.group_allowed(permission, key)
            elif what in ("household", "person"):
                ok = key in allowed
            elif what == "unit":
                ok = self.unit_allowed(permission, key)
            else:
                ok = self.action_allowed(permission, record) and self.beneficiaries_allowed(conn, permission, record)
            if not ok:
                out[row_no] = permission
        return out
