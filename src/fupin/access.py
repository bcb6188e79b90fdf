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
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
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
SCOPES = ("all", "plans", "unit", "cadre", "areas")


@attrs.frozen
class Permission:
    """A permission roles may grant: its name, what it allows (中文 / english), the scopes it makes sense in.

    The core's are :data:`CORE_PERMISSIONS`; a plugin declares its own with the
    ``fupin_permissions`` hook, named ``PLUGIN.what`` (``funding.approve``).

    Attributes:
        name: the dotted name roles list (``"funding.approve"``).
        zh: what it allows, in Chinese.
        en: what it allows, in English.
        scopes: the role scopes it may be granted in; a role of another scope
            naming it is refused.
        plugin: who declared it (``"core"`` or the plugin's name); set by fupin.
    """

    name: str
    zh: str
    en: str
    scopes: tuple[str, ...] = attrs.field(default=SCOPES, converter=tuple)
    plugin: str = "core"

    @scopes.validator
    def _known_scopes(self, _attr: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]) -> None:
        unknown = [s for s in value if s not in SCOPES]
        if unknown or not value:
            raise ValueError(f"permission {self.name}: scopes must be among {', '.join(SCOPES)}, got {', '.join(value) or 'none'}")

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form."""
        return {"name": self.name, "zh": self.zh, "en": self.en, "scopes": list(self.scopes), "plugin": self.plugin}


#: The core's permissions.
CORE_PERMISSIONS: tuple[Permission, ...] = tuple(
    Permission(name, zh, en)
    for name, zh, en in (
        ("registry.read", "读取权限范围内的户、人和标签", "read households, persons and tags in scope"),
        ("registry.personal", "查看权限范围内记录的个人信息(身份证号、电话)", "see personal details (ID numbers, phones) of records in scope"),
        ("registry.write", "增改权限范围内的区划、户、人和标签", "add and change areas, households, persons and tags in scope"),
        ("units.write", "增改权限范围内的单位和干部", "add and change units and cadres in scope"),
        ("units.reparent", "把单位移到另一上级单位下(改变其用户能看到的记录)",
         "move a unit under another parent unit (changes whose records a unit's users reach)"),
        ("actions.read", "列出、查看和导出权限范围内的帮扶措施", "list, show and export support actions in scope"),
        ("actions.write", "登记和导入权限范围内的帮扶措施", "record and import support actions in scope"),
        ("plans.write", "载入本单位的方案", "load plans of the user's unit"),
        ("aggregates.read", "读取汇总数字(报告和核查中的计数)", "read aggregate figures (counts in reports and checks) of every record"),
        ("export.unmasked", "不打码导出个人信息(留痕)", "export personal data unmasked (audited)"),
        ("audit.read", "读取审计日志和导入批次", "read the audit log and import batches"),
        ("users.manage", "添加用户并分配角色", "add users and give them roles"),
        ("database.raw", "直接打开数据库事务和连接(所有行, 不限范围)",
         "open raw transactions and connections (store.transaction(), store.reading() without a permission): every row, no scope"),
        ("psychology.read", "读取心理辅导记录(查看笔记需说明理由)", "read counselling records (notes need a stated reason)"),
        ("psychology.write", "登记权限范围内的心理辅导和社工个案", "record counselling sessions and social-work cases in scope"),
        ("dedup.merge", "合并重复的人员记录", "merge duplicate person records"),
        ("pairing.write", "结对、结束和移交权限范围内的帮扶关系",
         "pair cadres with households and villages, end and transfer pairings in scope"),
        ("visits.write", "登记权限范围内各户的走访、日志和个案", "record visits, diary entries and cases of households in scope"),
        ("exits.write", "登记权限范围内各户的脱贫退出(及其评估)", "record households' exits from poverty (with their assessment) in scope"),
    )
)

#: Every core permission, with what it allows (English): the names roles may list without a plugin.
PERMISSIONS: dict[str, str] = {p.name: p.en for p in CORE_PERMISSIONS}


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


#: A role's ``kinds`` entry: an action kind (``education.teacher_training``) or all of a plugin's (``psychology.*``).
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.(\*|[a-z][a-z0-9_]*)$")


def _kinds(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen
class Role:
    """A named set of permissions over one scope, optionally limited to some action kinds.

    Attributes:
        name: what ``users`` rows name (``plan_office``).
        zh: the Chinese label.
        en: the English label.
        scope: which records its permissions reach (one of :data:`SCOPES`).
        permissions: what it grants within that scope.
        kinds: ``None`` (every kind), or the action kinds its permissions reach
            among support actions: names or ``PLUGIN.*``. Other records (households,
            units ...) are not limited by it.
        plugin: who defined it (``"core"`` or a plugin's name).
    """

    name: str
    zh: str
    en: str
    scope: str = attrs.field(validator=attrs.validators.in_(SCOPES))
    permissions: frozenset[str] = attrs.field(converter=frozenset)
    kinds: tuple[str, ...] | None = attrs.field(default=None, converter=_kinds)
    plugin: str = "core"

    def reaches_kind(self, kind: str) -> bool:
        """Whether the role's permissions reach support actions of ``kind``."""
        return self.kinds is None or any(kind == k or (k.endswith(".*") and kind.startswith(k[:-1])) for k in self.kinds)


@attrs.frozen
class AccessSetup:
    """The roles and permissions in force, and the plugins whose roles or permissions were left out.

    Attributes:
        roles: every role by name (the core's, then the plugins', later ones replacing or extending).
        permissions: every permission by name.
        failures: ``(plugin, reason)`` for each plugin whose ``fupin_permissions`` or
            ``fupin_roles`` was refused; none of that plugin's roles and permissions are in force.
    """

    roles: dict[str, Role]
    permissions: dict[str, Permission]
    failures: tuple[tuple[str, str], ...] = ()


def _packaged_roles() -> Mapping[str, Any]:
    text = (importlib.resources.files("fupin") / "data" / "roles.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _as_source(source: Path | Mapping[str, Any]) -> Mapping[str, Any]:
    return source if isinstance(source, Mapping) else tomllib.loads(Path(source).read_text(encoding="utf-8"))


class _Refused(Exception):
    """One plugin's roles or permissions refused: the reason, on one line."""


def _declared(plugin: str, item: Any) -> Permission:
    if isinstance(item, Permission):
        return attrs.evolve(item, plugin=plugin)
    if isinstance(item, Mapping):
        try:
            return Permission(str(item["name"]), str(item.get("zh", item.get("en", ""))), str(item.get("en", item.get("zh", ""))),
                              tuple(item.get("scopes", SCOPES)), plugin)
        except (KeyError, TypeError, ValueError) as exc:
            raise _Refused(f"fupin_permissions returned a bad permission {dict(item)!r}: {exc}") from None
    raise _Refused(f"fupin_permissions returned {item!r}; expected a fupin.ext.Permission")


def _plugin_permissions(plugin: str, declared: Sequence[Any], sources: Sequence[Mapping[str, Any]]) -> list[Permission]:
    out = [_declared(plugin, item) for item in declared]
    # Older plugins declared theirs in the [permissions] table of their fupin_roles data (name = what it allows).
    for data in sources:
        for name, text in data.get("permissions", {}).items():
            out.append(Permission(str(name), str(text), str(text), SCOPES, plugin))
    return out


def _apply_roles(plugin: str, sources: Sequence[Mapping[str, Any]], roles: dict[str, Role], known: Mapping[str, Permission]) -> dict[str, Role]:
    """``roles`` with one plugin's (or the core's) role definitions applied; raises _Refused naming the role."""
    roles = dict(roles)
    for data in sources:
        for name, spec in data.get("roles", {}).items():
            where = f"role {name!r}"
            try:
                if spec.get("extend"):
                    if name not in roles:
                        raise _Refused(f"{where} extends a role that does not exist (known: {', '.join(sorted(roles))})")
                    old = roles[name]
                    role = attrs.evolve(old, permissions=old.permissions | frozenset(spec.get("permissions", ())))
                    added = set(spec.get("permissions", ()))
                else:
                    role = Role(name, spec.get("zh", name), spec.get("en", name), spec["scope"], spec.get("permissions", ()),
                                spec.get("kinds"), plugin)
                    added = set(role.permissions)
            except KeyError as exc:
                raise _Refused(f"{where} has no {exc.args[0]}") from None
            except (TypeError, ValueError) as exc:
                raise _Refused(f"{where}: {' '.join(str(exc).split())}") from None
            unknown = sorted(added - set(known))
            if unknown:
                raise _Refused(f"{where} names unknown permission(s) {', '.join(unknown)} (declare them with the fupin_permissions hook)")
            misplaced = sorted(p for p in added if role.scope not in known[p].scopes)
            if misplaced:
                raise _Refused(f"{where} grants {', '.join(misplaced)} in scope {role.scope!r}, which "
                               f"{'they do' if len(misplaced) > 1 else 'it does'} not take ({', '.join(known[misplaced[0]].scopes)})")
            bad = [k for k in role.kinds or () if not KIND_PATTERN.match(k)]
            if bad:
                raise _Refused(f"{where}: kinds must be action kinds or PLUGIN.*, got {', '.join(map(repr, bad))}")
            roles[name] = role
    return roles


def resolve_access(contributions: Sequence[tuple[str, Sequence[Any], Sequence[Path | Mapping[str, Any]]]]) -> AccessSetup:
    """The roles and permissions in force: the core's, then each plugin's, leaving out a plugin that is refused.

    Args:
        contributions: per plugin, in registration order: its name, what its
            ``fupin_permissions`` returned, and what its ``fupin_roles`` returned.

    A plugin is refused (and every role and permission it contributes left out,
    with the reason in :attr:`AccessSetup.failures`) when it declares a permission
    another one declares, a malformed permission, or a role naming an unknown
    permission, a scope the permission does not take, or a malformed kind.
    Leaving one out may leave another's role naming its permissions: that one is
    refused in turn.
    """
    sources = {plugin: [_as_source(s) for s in roles] for plugin, _declared_, roles in contributions}
    core = _packaged_roles()
    refused: dict[str, str] = {}
    while True:
        live = [(plugin, declared) for plugin, declared, _roles in contributions if plugin not in refused]
        known: dict[str, Permission] = {p.name: p for p in CORE_PERMISSIONS}
        problems: dict[str, str] = {}
        for plugin, declared in live:
            try:
                for permission in _plugin_permissions(plugin, declared, sources[plugin]):
                    if permission.name in known:
                        owner = known[permission.name].plugin
                        raise _Refused(f"permission {permission.name!r} is already declared by "
                                       f"{'the core' if owner == 'core' else f'plugin {owner!r}'}")
                    known[permission.name] = permission
            except _Refused as exc:
                problems.setdefault(plugin, str(exc))
        roles = _apply_roles("core", [core], {}, known)
        for plugin, _declared_ in live:
            if plugin in problems:
                continue
            try:
                roles = _apply_roles(plugin, sources[plugin], roles, known)
            except _Refused as exc:
                problems[plugin] = str(exc)
        if not problems:
            failures = tuple((plugin, refused[plugin]) for plugin, _d, _r in contributions if plugin in refused)
            return AccessSetup(roles, known, failures)
        refused.update(problems)


def _extension_setup(extensions: Iterable[Path | Mapping[str, Any]]) -> AccessSetup:
    setup = resolve_access([("extension", [], list(extensions))])
    for _plugin, reason in setup.failures:
        raise ValidationError.of("roles", f"角色定义有误 / bad role definitions: {reason}")
    return setup


def load_permissions(extensions: Iterable[Path | Mapping[str, Any]] = ()) -> dict[str, str]:
    """Every permission (name -> what it allows, in English): the core's, then those declared
    in the ``[permissions]`` table of role definitions in ``extensions``.

    Raises:
        ValidationError: the extensions are refused (see :func:`resolve_access`).
    """
    return {name: p.en for name, p in _extension_setup(extensions).permissions.items()}


def load_roles(extensions: Iterable[Path | Mapping[str, Any]] = ()) -> dict[str, Role]:
    """The packaged roles, then each extension (a TOML path or mapping in the same format) over them.

    Extensions may also add to a packaged role's permissions without replacing it
    (``[roles.NAME] extend = true``). Plugins go through :func:`resolve_access`
    instead, which leaves a refused plugin out rather than raising.

    Raises:
        ValidationError: a role names an unknown permission (or is otherwise refused).
    """
    return _extension_setup(extensions).roles


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
        #: permission -> the roles of the user granting it (their scope, and the action kinds they are limited to).
        self._grants: dict[str, list[Role]] = {}
        if self.user is not None:
            for role in filter(None, map(roles.get, self.user.roles)):
                for p in role.permissions:
                    self._scopes.setdefault(p, set()).add(role.scope)
                    self._grants.setdefault(p, []).append(role)

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

    def reaches_everything(self, permission: str, what: str | None = None) -> bool:
        """Whether some role grants ``permission`` over every record of a kind scoped by ``what``.

        A role of scope ``all`` limited to some action kinds reaches every record
        but not every support action (``what == "action"``).
        """
        return any(r.scope == "all" and (r.kinds is None or what != "action") for r in self._grants.get(permission, ()))

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
        """SQL condition on ``support_actions`` for the rows ``permission`` reaches (in scope, and of a kind its role reaches)."""
        parts = []
        for role in self._grants.get(permission, ()):
            scoped = self._action_scope_condition(permission, role.scope)
            if role.kinds is None:
                if scoped is TRUE:
                    return TRUE
                parts.append(scoped)
            else:
                parts.append(sa.and_(scoped, _kinds_condition(role.kinds)))
        return sa.or_(*parts) if parts else FALSE

    def _action_scope_condition(self, permission: str, scope: str) -> sa.ColumnElement[bool]:
        a = S.support_actions
        if scope == "all":
            return TRUE
        if scope == "unit":
            return a.c.unit_code.in_(sorted(self.unit_tree()))
        if scope == "plans":
            return sa.or_(a.c.unit_code.in_(sorted(self._subtree(self.root_unit()))), a.c.plan_name.in_(sorted(self.plans())))
        if scope == "cadre" and self.user and self.user.cadre:
            return a.c.id.in_(sa.select(S.action_helpers.c.action_id).where(S.action_helpers.c.cadre_code == self.user.cadre))
        if scope == "areas":
            households = sa.select(S.households.c.number).where(self.household_condition(permission))
            return a.c.id.in_(
                sa.select(S.action_beneficiaries.c.action_id).where(
                    S.action_beneficiaries.c.type == "household", S.action_beneficiaries.c.ref.in_(households)
                )
            )
        return FALSE

    def action_allowed(self, permission: str, action: SupportAction) -> bool:
        """Whether ``permission`` reaches an action: by its registering unit, its plan, or as its helper,
        through a role that reaches the action's kind."""
        for role in self._grants.get(permission, ()):
            if not role.reaches_kind(action.kind):
                continue
            scope = role.scope
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
        if kind.scope is None or self.reaches_everything(permission, kind.scope[0]):
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
        if kind.scope is None or self.reaches_everything(permission, kind.scope[0]):
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


def _kinds_condition(kinds: Sequence[str]) -> sa.ColumnElement[bool]:
    """SQL condition on ``support_actions.kind`` for a role's ``kinds`` (names, ``PLUGIN.*``)."""
    kind = S.support_actions.c.kind
    exact = [k for k in kinds if not k.endswith(".*")]
    parts: list[sa.ColumnElement[bool]] = [kind.startswith(k[:-1], autoescape=True) for k in kinds if k.endswith(".*")]
    if exact:
        parts.append(kind.in_(exact))
    return sa.or_(*parts) if parts else FALSE
