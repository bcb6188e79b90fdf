"""The store: every read and write of fupin's records goes through here.

A :class:`Store` wraps a database (SQLite file or PostgreSQL server), the
plugin hooks and the actor (unit and user) doing the work. Each write
validates the record (model invariants, vocabulary, references, plugins'
``fupin_validate_record``) and then, in one transaction, stores it and appends
an audit entry with the old and new values; if anything fails, nothing is
stored.
"""

from __future__ import annotations

import datetime as dt
import copy
import io
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

import attrs
import pluggy
import sqlalchemy as sa

from fupin import audit, model
from fupin.access import Access, AccessDenied, IdentityError, User
from fupin.actions import ActionKind, Beneficiary, SupportAction, action_row, reference_problems
from fupin.errors import FupinError, NotFound, Problem, StaleRecord, StorageError, ValidationError
from fupin.serial import Serialisable
from fupin.storage import schema
from fupin.storage.engine import WRITE, hide_secrets, make_engine, safe_url
from fupin.text import mask_account, mask_id, mask_phone

if TYPE_CHECKING:
    from fupin.checks import CheckResult
    from fupin.dedup import Candidate, MergeResult
    from fupin.exits import Assessment
    from fupin.io.engine import ImportResult
    from fupin.pairing import AutoResult, PairingRow, TransferResult
    from fupin.plans import Plan
    from fupin.overview import Overview
    from fupin.report import YearlyReport
    from fupin.search import HouseholdHit, Page, PersonHit
    from fupin.visits import DueItem

if TYPE_CHECKING:
    from fupin.plans import Plan

#: A row as read (``.mappings()``) or as about to be written.
DbRow = sa.RowMapping | Mapping[str, Any]

S = schema

#: The key column each kind of reference names (see :data:`fupin.actions.REFERENCES`).
REFERENCE_COLUMNS = {
    "unit": S.units.c.code,
    "plan": S.plans.c.name,
    "cadre": S.cadres.c.code,
    "household": S.households.c.number,
    "person": S.persons.c.id_number,
    "village": S.areas.c.code,
}


@attrs.frozen
class Actor(Serialisable):
    """Who does the work: a user of a unit. Recorded with every write."""

    unit: str
    user: str

    @classmethod
    def parse(cls, text: str) -> Actor:
        """Parse ``"UNIT:USER"`` (the ``--as`` option and ``FUPIN_ACTOR``)."""
        unit, sep, user = text.partition(":")
        if not sep or not unit.strip() or not user.strip():
            raise ValidationError.of("actor", "应写作 单位:用户 / write it as UNIT:USER", text)
        return cls(unit.strip(), user.strip())

    @classmethod
    def from_env(cls) -> Actor | None:
        """``FUPIN_ACTOR`` if set, else None: fupin never guesses who acts (no login name, no default)."""
        text = os.environ.get("FUPIN_ACTOR")
        return cls.parse(text) if text else None

    def __str__(self) -> str:
        return f"{self.unit}:{self.user}"


@attrs.frozen
class AuditEntry(Serialisable):
    """One line of the append-only audit log."""

    id: int
    at: dt.datetime
    unit: str
    user: str
    operation: str
    table_name: str
    record_key: str
    old: Any
    new: Any
    reason: str | None
    prev_hash: str | None = None
    hash: str | None = None


@attrs.frozen
class ImportBatch(Serialisable):
    """One import of one file, as :meth:`Store.import_batches` lists it.

    Attributes:
        id: The batch number.
        kind: The import kind.
        file_name: The file's name as given.
        content_hash: SHA-256 of the file's bytes.
        format: ``"csv"``, ``"xlsx"`` or ``"jsonl"``.
        status: How it ended (``committed``, ``rejected``, ``dry_run`` ...).
        rows, inserted, updated, unchanged, rejected: Its counts.
        unit, user: Who imported it.
        started_at, finished_at: When (UTC); ``finished_at`` is None while it runs.
    """

    id: int
    kind: str
    file_name: str
    content_hash: str
    format: str
    status: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    unit: str
    user: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


@attrs.frozen
class CardMember(Serialisable):
    """A member of a household as its card shows them: a :class:`fupin.Person`'s fields, and on a masked
    card (the default) the ID number keeping only its first 6 characters and the phone its first 3 and last 4."""

    id_number: str
    household: str
    name: str
    relation: str
    sex: str | None = None
    birth_date: dt.date | None = None
    ethnicity: str | None = None
    education: str | None = None
    student_status: str | None = None
    health: str | None = None
    labour: str | None = None
    work_status: str | None = None
    work_months: int | None = None
    phone: str | None = None

    @classmethod
    def of(cls, person: model.Person, *, masked: bool) -> CardMember:
        """The member as shown: ``person``, masked or not."""
        values = attrs.asdict(person, recurse=False)
        if masked:
            values["id_number"] = mask_id(person.id_number)
            values["phone"] = mask_phone(person.phone) or None
        return cls(**values)

    @property
    def is_head(self) -> bool:
        """Whether the member is the head of the household (户主)."""
        return self.relation == model.HEAD_RELATION


@attrs.frozen
class HouseholdCard(Serialisable):
    """A household with everything recorded about it, for display.

    Masked unless asked for unmasked (``masked`` says which): ID numbers keep
    their first 6 characters (tags' and beneficiaries' too), phones their
    first 3 and last 4, the bank account its first 6 and last 4; actions'
    details come as plain values with personal data masked.
    """

    household: model.Household
    members: tuple[CardMember, ...]
    tags: tuple[model.Tag, ...]
    status_history: tuple[model.StatusChange, ...]
    actions: tuple[SupportAction, ...]
    group: model.Area | None
    problems: tuple[Problem, ...]
    masked: bool = True


@attrs.frozen
class ExportResult(Serialisable):
    """What :meth:`Store.export` wrote.

    Attributes:
        kind: The import kind exported.
        format: ``"csv"``, ``"xlsx"`` or ``"jsonl"``.
        rows: Rows written (the header not counted).
        masked: Whether personal data was masked.
    """

    kind: str
    format: str
    rows: int
    masked: bool


def _plain(value: Any) -> Any:
    """JSON-ready form of a column value, for audit entries."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class _ThreadState(threading.local):
    """What one thread has open on a store: its write transaction and its read connection.

    Per thread, so one store serves many threads (a web platform's workers):
    a thread's reads and writes join the transaction *it* opened, never
    another thread's, and a thread never takes a second connection while it
    holds one (on SQLite it would wait on itself; in a pool it would wait for
    other threads to give theirs back).
    """

    #: The thread's open write transaction (``Store._transaction``), else None.
    active: sa.Connection | None = None
    #: The thread's open read connection (``Store._reading``), else None.
    reading: sa.Connection | None = None
    #: The actor's access as read inside ``active`` (sees its uncommitted writes; not shared with other threads).
    access: Access | None = None


class Store:
    """Records of one database, read and written as one actor.

    Open it with :meth:`open`; call :meth:`init` once to create or upgrade the
    schema. Use it as a context manager to dispose of the engine.

    One store may serve many threads at once (the engine's pool gives each its
    connection; a transaction belongs to the thread that opened it), and
    :meth:`acting_as` makes a cheap copy for each request's actor, sharing the
    engine and the plugins.
    """

    def __init__(self, engine: sa.Engine, *, pm: pluggy.PluginManager | None = None, actor: Actor | None = None) -> None:
        from fupin.hooks import Hooks
        from fupin.plugins import get_plugin_manager

        self.engine = engine
        audit.install(engine)  # entries are chained when their transaction commits
        self.pm = pm if pm is not None else get_plugin_manager()
        self.hooks = Hooks(self.pm)
        #: Who does the work; None until given (then nothing is permitted).
        self.actor = actor
        self._local = _ThreadState()
        self._initialised = False
        self.vocab = self.hooks.vocabulary()
        # A private copy of the core tables, so plugins' tables never leak
        # between stores (tests build many, each with its own plugins).
        self.metadata = sa.MetaData(naming_convention=S.metadata.naming_convention)
        for table in S.metadata.sorted_tables:
            table.to_metadata(self.metadata)
        self.hooks.tables(self.metadata)
        # A plugin whose roles or permissions are refused is left out of them (fupin plugins lists it).
        setup = self.hooks.access_setup()
        self.roles = setup.roles
        #: Every permission (the core's and the plugins'), with what it allows.
        self.permissions = {name: p.en for name, p in setup.permissions.items()}
        #: The actor's access as committed, shared by the threads; read again after a change of users, units or plans.
        self._access: Access | None = None
        self._access_changes = 0
        self._access_lock = threading.Lock()
        #: Stored plans parsed, by (name, version): shared by the stores ``acting_as`` derives.
        self._plans: dict[tuple[str, int], Plan] = {}

    @classmethod
    def open(cls, url: str | None = None, *, pm: pluggy.PluginManager | None = None, actor: Actor | None = None) -> Store:
        """Open the database at ``url`` (default: ``FUPIN_DATABASE_URL`` or ``sqlite:///fupin.db``)."""
        return cls(make_engine(url), pm=pm, actor=actor)

    def acting_as(self, actor: Actor) -> Store:
        """This store, on the same database and plugins, doing the work as ``actor``."""
        other = copy.copy(self)
        other.actor = actor
        other._local = _ThreadState()
        other._access = None
        other._access_lock = threading.Lock()
        return other

    @property
    def access(self) -> Access:
        """What the actor may do (read from the database once; refreshed after changes to users, units, plans).

        Read through the connection the thread already holds, if any: never
        on a second one. Inside a write transaction it is read through the
        transaction (so it sees what the transaction wrote) and kept for that
        thread until the transaction ends.
        """
        access = self._access
        if access is not None:
            return access
        local = self._local
        if local.active is not None:
            if local.access is None:
                local.access = Access(local.active, self.actor, self.roles)
            return local.access
        changes = self._access_changes
        self._require_schema()  # an uninitialised database says so, not "permission denied"
        with self._reading() as conn:
            access = Access(conn, self.actor, self.roles)
        with self._access_lock:
            if self._access_changes == changes:  # else a change since: this one may not have seen it
                self._access = access
        return access

    def _refresh_access(self) -> None:
        with self._access_lock:
            self._access_changes += 1
            self._access = None
        self._local.access = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"<Store {self.url} as {self.actor}>"

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return safe_url(self.engine.url)

    # -- schema -------------------------------------------------------------

    def init(self) -> None:
        """Create the schema, or upgrade it to the newest revision of every branch."""
        if self.is_initialised() and not self.access.bootstrap:
            # Upgrading changes what everyone works with: only an administrator may.
            self.access.require("users.manage")
        if self.actor is None:
            raise IdentityError(f"没有指定用户 / no actor given: say who initialises {self.url} (--as UNIT:USER); they become its administrator")
        try:
            from fupin.storage import migrate  # alembic: only to create or upgrade the schema

            migrate.upgrade(self.engine, self.hooks.migrations())
        except sa.exc.OperationalError as exc:
            raise StorageError(f"无法初始化数据库 / cannot initialise {self.url}: {hide_secrets(str(exc.orig))}") from None
        self._refresh_access()
        if self.access.bootstrap:
            # The first actor to initialise a database becomes its administrator,
            # acting through the database login that initialised it.
            self._put_user(User(self.actor.unit, self.actor.user, ("platform_admin",), login=self.session_login()))

    def grant_app_role(self, role: str) -> bool:
        """PostgreSQL: create (if missing) the application's role ``role`` and grant it what fupin's work needs,
        but no way to rewrite the audit log (:func:`fupin.storage.roles.grant_app_role`). Needs users.manage;
        run as the schema's owner. True if the role was created."""
        self.access.require("users.manage")
        from fupin.storage.roles import grant_app_role

        return grant_app_role(self.engine, role)

    def reset(self) -> None:
        """Drop every fupin table (history included) and create the schema anew.

        Only for throwaway databases (``fupin demo --force``, tests).
        """
        if self.is_initialised() and not self.access.bootstrap:
            self.access.require("users.manage")
        if self.actor is None:
            raise IdentityError("没有指定用户 / no actor given (--as UNIT:USER)")
        from fupin.storage import migrate

        migrate.drop_everything(self.engine)
        self._initialised = False
        self._refresh_access()
        self.init()

    def is_initialised(self) -> bool:
        """Whether the core tables exist (once seen, remembered: only :meth:`reset` drops them)."""
        if not self._initialised:
            held = self._local.active if self._local.active is not None else self._local.reading
            self._initialised = sa.inspect(held if held is not None else self.engine).has_table("audit_log")
        return self._initialised

    def is_empty(self) -> bool:
        """Whether no registry record, unit or action is stored."""
        if not self.is_initialised():
            return True
        with self._reading() as conn:
            for table in (S.areas, S.households, S.units, S.support_actions, S.plans):
                if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                    return False
        return True

    def _require_schema(self) -> None:
        if not self.is_initialised():
            raise StorageError(f"数据库未初始化 / database not initialised: {self.url} (run `fupin init`)")

    # -- users --------------------------------------------------------------

    def add_user(self, user: User) -> None:
        """Register a user or change their roles, areas and cadre (needs users.manage)."""
        self.access.require("users.manage")
        self._put_user(user)

    def _put_user(self, user: User) -> None:
        unknown = [r for r in user.roles if r not in self.roles]
        if unknown:
            raise ValidationError.of("roles", f"未知角色 / unknown roles; known: {', '.join(sorted(self.roles))}", ", ".join(unknown))
        values = {"unit": user.unit, "user": user.user, "roles": list(user.roles), "areas": list(user.areas), "cadre": user.cadre, "login": user.login}
        with self._transaction() as conn:
            where = (S.users.c.unit == user.unit) & (S.users.c.user == user.user)
            old = conn.execute(sa.select(S.users).where(where)).mappings().first()
            if old is None:
                self._insert(conn, S.users, values, user.key)
            else:
                conn.execute(S.users.update().where(where).values(**values, version=old["version"] + 1))
                self._audit(conn, "update", S.users, user.key, {k: old[k] for k in values}, values)
        self._refresh_access()

    def session_login(self) -> str | None:
        """The database login this store's connections authenticate as (PostgreSQL's session user), else None."""
        if self.engine.dialect.name != "postgresql":
            return None
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT session_user")).scalar_one()

    def login_actor(self, requested: Actor | None = None) -> Actor:
        """Who a command-line session acts as: the database's authentication decides.

        On PostgreSQL the login (session user) is mapped to fupin users
        (``users.login``): with one mapped user that user acts; ``requested``
        (``--as``) may only choose among the users mapped to the login. SQLite
        has no login, so the actor must be named (and whoever may write the file
        may name any: protect the file). Before any user exists, ``requested``
        is who will initialise the database.

        Raises:
            IdentityError: no actor can be established, or not that one.
        """
        if requested is None and self.engine.dialect.name != "postgresql":
            raise IdentityError("没有指定用户 / no actor given: --as UNIT:USER (or FUPIN_ACTOR)")
        login = self.session_login()
        if login is None or not self.is_initialised() or self.access_for(requested).bootstrap:
            if requested is None:
                raise IdentityError("没有指定用户 / no actor given: --as UNIT:USER (or FUPIN_ACTOR)")
            return requested
        with self.engine.connect() as conn:
            mapped = [Actor(r.unit, r.user) for r in conn.execute(sa.select(S.users.c.unit, S.users.c.user).where(S.users.c.login == login).order_by(S.users.c.unit, S.users.c.user))]
        if requested is not None:
            if requested in mapped:
                return requested
            raise IdentityError(f"登录 {login} 不能以 {requested} 的身份操作 / login {login} may not act as {requested}"
                                f" (its users: {', '.join(map(str, mapped)) or 'none'}; fupin users add UNIT:USER --db-login {login})")
        if len(mapped) == 1:
            return mapped[0]
        if not mapped:
            raise IdentityError(f"登录 {login} 没有对应的用户 / login {login} is mapped to no fupin user (fupin users add UNIT:USER --db-login {login})")
        raise IdentityError(f"登录 {login} 对应多个用户, 请用 --as 选择 / login {login} has several users, choose one with --as: {', '.join(map(str, mapped))}")

    def access_for(self, actor: Actor | None) -> Access:
        """What ``actor`` may do in this store (read now)."""
        with self._reading() as conn:
            return Access(conn, actor, self.roles)

    def user_holding(self, key: str, permission: str) -> User | None:
        """The registered user ``UNIT:USER`` if one of their roles grants ``permission``, else None.

        For four-eyes rules (an approver must hold an approval permission); it
        tells only whether the named user may, nothing else about them.
        """
        unit, _sep, name = key.partition(":")
        with self._reading() as conn:
            row = conn.execute(sa.select(S.users).where(S.users.c.unit == unit.strip(), S.users.c.user == name.strip())).mappings().first()
        if row is None:
            return None
        user = User.from_row(row)
        if any(permission in self.roles[r].permissions for r in user.roles if r in self.roles):
            return user
        return None

    def users(self) -> list[User]:
        """Registered users (needs users.manage or audit.read)."""
        if not self.access.has("audit.read"):
            self.access.require("users.manage")
        with self._reading() as conn:
            rows = conn.execute(sa.select(S.users).order_by(S.users.c.unit, S.users.c.user)).mappings()
            return [User.from_row(r) for r in rows]

    # -- writing ------------------------------------------------------------

    @contextmanager
    def transaction(self, permission: str | None = None) -> Iterator[sa.Connection]:
        """One transaction: everything inside is stored, or nothing is.

        Writes made inside ``with store.transaction(...):`` join it, so a batch of
        ``add_*`` calls commits once (and rolls back whole on any error).

        The connection is raw: whatever runs on it is not scoped. So the caller
        names the permission the work needs (a plugin writing its own tables
        names its own, ``"psychology.write"``) and does its own scoping with
        :attr:`access` (``household_condition`` ...); the actor must hold it, else
        :class:`AccessDenied` before anything is opened. Without a permission
        the actor needs ``database.raw``, which only a platform administrator has.
        """
        self.access.require(permission or "database.raw")
        with self._transaction() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        """The store's own transaction (its callers have checked access): the thread's open one, else a new one."""
        local = self._local
        if local.active is not None:
            yield local.active
            return
        self._require_schema()
        try:
            with self.engine.execution_options(**WRITE).begin() as conn:
                local.active = conn
                try:
                    yield conn
                finally:
                    local.active = None
                    local.access = None
        except sa.exc.IntegrityError as exc:
            raise StorageError(f"数据库拒绝写入 / the database refused the write: {exc.orig}") from None

    def table(self, name: str) -> sa.Table:
        """A table to query: the core's own Table object (the one access conditions are
        written against), else a plugin's from ``metadata``."""
        core = S.metadata.tables.get(name)
        return core if core is not None else self.metadata.tables[name]

    @contextmanager
    def reading(self, permission: str | None = None) -> Iterator[sa.Connection]:
        """A connection to read with: the open transaction's (so reads see its writes), else a new one.

        Raw like :meth:`transaction`, and checked the same way: the actor must
        hold ``permission`` (without one, ``database.raw``).
        """
        self.access.require(permission or "database.raw")
        with self._reading() as conn:
            yield conn

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        """The store's own read connection (its callers have checked access): the thread's open
        transaction or read connection, else a new one, given back to the pool at the end."""
        local = self._local
        held = local.active if local.active is not None else local.reading
        if held is not None:
            yield held
            return
        with self.engine.connect() as conn:
            local.reading = conn
            try:
                yield conn
            finally:
                local.reading = None

    def _audit(
        self,
        conn: sa.Connection,
        operation: str,
        table: sa.Table,
        key: object,
        old: DbRow | None,
        new: DbRow | None,
        reason: str | None = None,
    ) -> None:
        # Every entry is signed by the store's own actor, who must be registered
        # (or be the first administrator, on a database with no users yet).
        if self.actor is None or (self.access.user is None and not self.access.bootstrap):
            raise AccessDenied(self.actor, "audit", "未登记的用户不能写入审计日志 / an unregistered user cannot write to the audit log")
        audit.append(conn, [{
            "at": dt.datetime.now(dt.UTC),
            "unit": self.actor.unit,
            "user": self.actor.user,
            "operation": operation,
            "table_name": table.name,
            "record_key": str(key),
            "old": None if old is None else _plain(dict(old)),
            "new": None if new is None else _plain(dict(new)),
            "reason": reason,
        }])

    def audit_event(self, operation: str, table: str, key: str, details: Mapping[str, Any], reason: str | None = None) -> None:
        """Append an audit entry for something done outside a record write (an unmasked export ...).

        The entry names the store's actor, who must be a registered user
        (:class:`AccessDenied` otherwise); it is written when the transaction
        it joins commits (at once, outside one).
        """
        with self._transaction() as conn:
            self._audit(conn, operation, self.metadata.tables[table], key, None, details, reason)

    def _validate(self, record: Any, record_type: str, problems: list[Problem]) -> None:
        problems = model.check_vocab(record, self.vocab) + problems
        problems += self.hooks.validate_record(record, record_type)
        if problems:
            raise ValidationError(problems, record=f"{record_type} {_key_of(record)}")

    def _insert(self, conn: sa.Connection, table: sa.Table, row: Mapping[str, Any], key: object) -> Any:
        result = conn.execute(table.insert().values(**row))
        self._audit(conn, "insert", table, key, None, row)
        return result.inserted_primary_key[0] if result.inserted_primary_key else None

    def _exists(self, conn: sa.Connection, column: sa.Column[Any], value: object) -> bool:
        return conn.execute(sa.select(column).where(column == value).limit(1)).first() is not None

    def _require_area(self, code: str) -> None:
        """Raise unless registry.write reaches the area (or villager group) ``code``."""
        self.access.require("registry.write")
        if not self.access.group_allowed("registry.write", code):
            raise AccessDenied(self.actor, "registry.write", f"区划 {code} 不在权限范围内 / area outside your scope")

    def _person_duplicate(self, conn: sa.Connection, id_number: str) -> list[Problem]:
        """A problem naming the person already registered with ``id_number`` (15 and 18 digits alike).

        The person is named only if the actor may read their household; else the
        problem says only that the number is taken (no oracle of names and households).
        """
        from fupin.io.kinds import ALREADY_REGISTERED_ELSEWHERE

        readable = self.access.household_condition("registry.read")
        row = conn.execute(
            sa.select(S.persons.c.name, S.households.c.number, sa.case((readable, True), else_=False).label("readable"))
            .join(S.households, S.households.c.id == S.persons.c.household_id)
            .where(S.persons.c.id_number == id_number)
        ).first()
        if row is None:
            return []
        if not row.readable:
            return [Problem("id_number", ALREADY_REGISTERED_ELSEWHERE, id_number)]
        return [Problem("id_number", f"已登记为户 {row.number} 的 {row.name} / already registered as {row.name} of household {row.number}", id_number)]

    def _refuse_duplicate(self, conn: sa.Connection, column: sa.Column[Any], value: object, field: str) -> list[Problem]:
        if self._exists(conn, column, value):
            return [Problem(field, "已登记 / already registered", value)]
        return []

    def add_area(self, area: model.Area) -> None:
        """Register an area; its parent must exist and be one level up."""
        with self._transaction() as conn:
            self._add_area(conn, area)

    def add_areas(self, areas: Iterable[model.Area]) -> int:
        """Register several areas in one transaction (parents first); returns the count."""
        n = 0
        with self._transaction() as conn:
            for area in areas:
                self._add_area(conn, area)
                n += 1
        return n

    def _add_area(self, conn: sa.Connection, area: model.Area) -> None:
        self._require_area(area.code)
        problems = self._refuse_duplicate(conn, S.areas.c.code, area.code, "code")
        if area.parent_code:
            row = conn.execute(sa.select(S.areas).where(S.areas.c.code == area.parent_code)).first()
            if row is None:
                problems.append(Problem("parent_code", "上级区划未登记 / parent area not registered", area.parent_code))
            elif not area.is_child_of(_area(row)):
                problems.append(
                    Problem(
                        "parent_code",
                        f"上级应为上一级且代码前缀一致 / parent must be one level up with a matching code "
                        f"({row.level} {row.code})",
                        area.parent_code,
                    )
                )
        self._validate(area, "area", problems)
        self._insert(conn, S.areas, attrs.asdict(area), area.code)

    def put_village_profile(self, profile: model.VillageProfile) -> None:
        """Store a village's profile for a year, replacing the one stored for that year."""
        self._require_area(profile.village_code)
        with self._transaction() as conn:
            row = conn.execute(sa.select(S.areas.c.level).where(S.areas.c.code == profile.village_code)).first()
            problems = []
            if row is None or row.level != "village":
                problems.append(Problem("village_code", "不是已登记的行政村 / not a registered village", profile.village_code))
            self._validate(profile, "village_profile", problems)
            values = attrs.asdict(profile)
            where = (S.village_profiles.c.village_code == profile.village_code) & (
                S.village_profiles.c.year == profile.year
            )
            old = conn.execute(sa.select(S.village_profiles).where(where)).mappings().first()
            key = f"{profile.village_code}/{profile.year}"
            if old is None:
                self._insert(conn, S.village_profiles, values, key)
            else:
                conn.execute(S.village_profiles.update().where(where).values(**values, version=old["version"] + 1))
                self._audit(conn, "update", S.village_profiles, key, old, values)

    def village_profile(self, village_code: str, year: int) -> model.VillageProfile:
        """A village's profile for ``year`` (aggregate figures: needs aggregates.read)."""
        self.access.require("aggregates.read")
        with self._reading() as conn:
            row = conn.execute(
                sa.select(S.village_profiles).where(
                    (S.village_profiles.c.village_code == village_code) & (S.village_profiles.c.year == year)
                )
            ).mappings().first()
        if row is None:
            raise NotFound(f"没有村情 / no profile for village {village_code} in {year}")
        return model.VillageProfile(**{k: v for k, v in row.items() if k != "version"})

    def add_household(self, household: model.Household, *, since: dt.date | None = None) -> int:
        """Register a household; its status history starts on ``since``
        (default: the date first identified, else today). Returns its id."""
        with self._transaction() as conn:
            return self._add_household(conn, household, since)

    def _add_household(self, conn: sa.Connection, h: model.Household, since: dt.date | None) -> int:
        self._require_area(h.group_code)
        problems = self._refuse_duplicate(conn, S.households.c.number, h.number, "number")
        group = conn.execute(sa.select(S.areas.c.level).where(S.areas.c.code == h.group_code)).first()
        if group is None or group.level != "group":
            problems.append(Problem("group_code", "不是已登记的村民小组 / not a registered villager group", h.group_code))
        self._validate(h, "household", problems)
        row = _household_row(h)
        hid: int = self._insert(conn, S.households, row, h.number)
        effective = since or h.first_identified or dt.date.today()
        conn.execute(S.household_status.insert().values(household_id=hid, status=h.status, effective=effective, reason="登记 / registered"))
        return hid

    def update_household(
        self,
        number: str,
        changes: Mapping[str, Any],
        *,
        effective: dt.date | None = None,
        reason: str = "",
        expected_version: int | None = None,
    ) -> model.Household:
        """Change fields of a household's card; a status change is dated (``effective``).

        Values are checked as on entry (``Household.new``); the audit log keeps
        the old and new values. With ``expected_version`` (the version the
        caller read), an edit based on stale data is refused with
        :class:`StaleRecord` instead of overwriting someone else's change.
        """
        with self._transaction() as conn:
            # FOR UPDATE: a concurrent edit waits here until this one commits, then reads its version.
            old_row = conn.execute(sa.select(S.households).where(S.households.c.number == number).with_for_update()).mappings().first()
            if old_row is None:
                raise NotFound(f"户 {number} 未登记 / household not registered")
            self.access.require_household(conn, "registry.write", number)
            if expected_version is not None and old_row["version"] != expected_version:
                raise StaleRecord(
                    f"户 {number} 已被他人修改 (版本 {old_row['version']}, 你的是 {expected_version}) / "
                    f"household changed by someone else since you read it (version {old_row['version']}, yours {expected_version})"
                )
            current = _household(old_row)
            merged = {**attrs.asdict(current, recurse=False), **changes}
            updated = model.Household.new(vocab=self.vocab, **merged)
            problems = []
            if updated.number != number:
                problems.append(Problem("number", "户编号不能修改 / the household number cannot change", updated.number))
            if updated.group_code != current.group_code:
                # A move needs scope over the new villager group as well as the household as stored.
                self._require_area(updated.group_code)
                group = conn.execute(sa.select(S.areas.c.level).where(S.areas.c.code == updated.group_code)).first()
                if group is None or group.level != "group":
                    problems.append(Problem("group_code", "不是已登记的村民小组 / not a registered villager group", updated.group_code))
            self._validate(updated, "household", problems)
            new_row = _household_row(updated)
            diff_old = {k: old_row[k] for k in new_row if old_row[k] != new_row[k]}
            if not diff_old:
                return current
            diff_new = {k: new_row[k] for k in diff_old}
            conn.execute(
                S.households.update()
                .where(S.households.c.id == old_row["id"])
                .values(**new_row, version=old_row["version"] + 1)
            )
            if updated.status != current.status:
                conn.execute(
                    S.household_status.insert().values(
                        household_id=old_row["id"],
                        status=updated.status,
                        effective=effective or dt.date.today(),
                        reason=reason,
                    )
                )
            self._audit(conn, "update", S.households, number, diff_old, diff_new, reason or None)
            return updated

    def add_person(self, person: model.Person) -> int:
        """Register a member of an existing household; at most one head (户主) per household."""
        with self._transaction() as conn:
            return self._add_person(conn, person)

    def _add_person(self, conn: sa.Connection, p: model.Person) -> int:
        problems = self._person_duplicate(conn, p.id_number)
        hid = conn.execute(sa.select(S.households.c.id).where(S.households.c.number == p.household)).scalar()
        if hid is None:
            problems.append(Problem("household", "户未登记 / household not registered", p.household))
        else:
            self.access.require_household(conn, "registry.write", p.household)
        if hid is not None and p.is_head:
            head = conn.execute(
                sa.select(S.persons.c.name).where(
                    (S.persons.c.household_id == hid) & (S.persons.c.relation == model.HEAD_RELATION)
                )
            ).first()
            if head is not None:
                problems.append(
                    Problem("relation", f"户 {p.household} 已有户主 {head.name} / already has a head", p.relation)
                )
        self._validate(p, "person", problems)
        row = attrs.asdict(p)
        row["household_id"] = hid
        del row["household"]
        person_id: int = self._insert(conn, S.persons, row, p.id_number)
        return person_id

    def add_tag(self, tag: model.Tag) -> None:
        """Give a person a dated tag (留守儿童, 孤寡老人 ...)."""
        with self._transaction() as conn:
            found = conn.execute(
                sa.select(S.persons.c.id, S.households.c.number)
                .join(S.households, S.households.c.id == S.persons.c.household_id)
                .where(S.persons.c.id_number == tag.id_number)
            ).first()
            pid = None if found is None else found.id
            problems = [] if pid is not None else [Problem("id_number", "人员未登记 / person not registered", tag.id_number)]
            if found is not None:
                self.access.require_household(conn, "registry.write", found.number)
            self._validate(tag, "tag", problems)
            row = attrs.asdict(tag)
            del row["id_number"]
            self._insert(conn, S.person_tags, {**row, "person_id": pid}, f"{tag.id_number}/{tag.tag}")

    def add_unit(self, unit: model.Unit) -> None:
        """Register a unit (the university, a department, a school ...)."""
        self.access.require("units.write")
        if not (self.access.unit_allowed("units.write", unit.parent_code) or "all" in self.access.scopes("units.write")):
            raise AccessDenied(self.actor, "units.write", f"上级单位 {unit.parent_code} 不在权限范围内 / parent unit outside your scope")
        with self._transaction() as conn:
            problems = self._refuse_duplicate(conn, S.units.c.code, unit.code, "code")
            if unit.parent_code and not self._exists(conn, S.units.c.code, unit.parent_code):
                problems.append(Problem("parent_code", "上级单位未登记 / parent unit not registered", unit.parent_code))
            if unit.area_code and not self._exists(conn, S.areas.c.code, unit.area_code):
                problems.append(Problem("area_code", "区划未登记 / area not registered", unit.area_code))
            self._validate(unit, "unit", problems)
            self._insert(conn, S.units, attrs.asdict(unit), unit.code)
        self._refresh_access()

    def add_cadre(self, cadre: model.Cadre) -> None:
        """Register a cadre of a registered unit."""
        if not self.access.unit_allowed("units.write", cadre.unit):
            raise AccessDenied(self.actor, "units.write", f"单位 {cadre.unit} 不在权限范围内 / unit outside your scope")
        with self._transaction() as conn:
            problems = self._refuse_duplicate(conn, S.cadres.c.code, cadre.code, "code")
            if not self._exists(conn, S.units.c.code, cadre.unit):
                problems.append(Problem("unit", "单位未登记 / unit not registered", cadre.unit))
            self._validate(cadre, "cadre", problems)
            row = attrs.asdict(cadre)
            row["unit_code"] = row.pop("unit")
            self._insert(conn, S.cadres, row, cadre.code)

    def save_plan(self, plan: Plan) -> None:
        """Store a plan (:class:`fupin.plans.Plan`) with its TOML source, replacing an older copy."""
        if not self.access.plan_allowed("plans.write", plan.helping_unit.code):
            raise AccessDenied(self.actor, "plans.write", f"方案 {plan.name}")
        from fupin.checks import validate_plan

        validate_plan(plan, self.hooks.targets(), self.hooks.plan_settings())
        values = {
            "name": plan.name,
            "title": plan.title_zh,
            "helping_unit": plan.helping_unit.code,
            "period_start": plan.period_start,
            "period_end": plan.period_end,
            "source": plan.text,
        }
        with self._transaction() as conn:
            old = conn.execute(sa.select(S.plans).where(S.plans.c.name == plan.name)).mappings().first()
            conn.execute(S.plan_villages.delete().where(S.plan_villages.c.plan_name == plan.name))
            if old is None:
                self._insert(conn, S.plans, values, plan.name)
            elif any(old[k] != v for k, v in values.items()):
                conn.execute(S.plans.update().where(S.plans.c.name == plan.name).values(**values, version=old["version"] + 1))
                self._audit(conn, "update", S.plans, plan.name, {k: old[k] for k in values if k != "source"}, {k: v for k, v in values.items() if k != "source"})
            villages = sorted({v.code for v in plan.villages})
            if villages:
                conn.execute(S.plan_villages.insert(), [{"plan_name": plan.name, "village_code": v} for v in villages])
        for key in [k for k in self._plans if k[0] == plan.name]:
            self._plans.pop(key, None)
        self._refresh_access()

    def plan(self, name: str | Plan | None = None) -> Plan:
        """A stored plan, parsed from the TOML it was stored with (once per version: parsed plans are kept).

        Without ``name``: the only plan stored, else the only one of the
        actor's helping unit. A :class:`~fupin.plans.Plan` given is returned as it is.

        Raises:
            NotFound: No plan of that name is stored (or none at all).
            ValidationError: No name, and several plans could be meant (they are listed).
        """
        from fupin.plans import Plan

        if isinstance(name, Plan):
            return name
        query = sa.select(S.plans.c.name, S.plans.c.version).order_by(S.plans.c.name)
        if name is not None:
            query = query.where(S.plans.c.name == name)
        with self._reading() as conn:
            rows = conn.execute(query).all()
        if len(rows) > 1 and self.actor is not None and self.is_initialised():
            own = self.access.plans()
            rows = [r for r in rows if r.name in own] or rows
        if not rows:
            if name is None:
                raise NotFound("没有已载入的方案 / no plan is stored (fupin plan load NAME)")
            raise NotFound(f"方案 {name} 未载入 / plan {name} is not stored (fupin plan load NAME)")
        if len(rows) > 1:
            raise ValidationError.of(
                "plan", "有多个方案, 请指定一个 / several plans are stored: name one (--plan NAME)", ", ".join(r.name for r in rows)
            )
        key = (rows[0].name, rows[0].version)
        cached = self._plans.get(key)
        if cached is None:
            with self._reading() as conn:
                source: str = conn.execute(sa.select(S.plans.c.source).where(S.plans.c.name == key[0])).scalar_one()
            cached = Plan.from_toml(source, source=f"plan {key[0]} (stored)")
            self._plans[key] = cached
        return cached

    def record_action(self, action: SupportAction) -> SupportAction:
        """Store a support action; returns it with its id.

        The kind must be registered and the details valid for it; helpers,
        beneficiaries, the unit and the plan must exist.
        """
        kind = self.hooks.action_kind(action.kind)
        self.access.require("actions.write")
        if not self.access.action_allowed("actions.write", action):
            raise AccessDenied(self.actor, "actions.write", f"单位 {action.unit} 不在权限范围内 / unit outside your scope")
        if not action.ref:
            # Every action gets a ledger number, so an export always imports back as the same action.
            action = attrs.evolve(action, ref=f"{action.unit}-{action.start:%Y%m%d}-{uuid.uuid4().hex[:8]}")
        with self._transaction() as conn:
            if not self.access.beneficiaries_allowed(conn, "actions.write", action):
                raise AccessDenied(self.actor, "actions.write", "受益户不在权限范围内 / a beneficiary outside your scope")
            problems = self._action_problems(conn, kind, action)
            if self._exists(conn, S.support_actions.c.ref, action.ref):
                problems.append(Problem("ref", "记录编号已存在 / an action with this number is already recorded", action.ref))
            self._validate(action, "action", problems)
            row = action_row(action)
            try:
                # A savepoint, so the transaction can still ask why the insert failed.
                with conn.begin_nested():
                    inserted = conn.execute(S.support_actions.insert().values(**row)).inserted_primary_key
                    assert inserted is not None  # an INSERT of one row
                    action_id = inserted[0]
            except sa.exc.IntegrityError:
                if not self._exists(conn, S.support_actions.c.ref, action.ref):
                    raise
                # Another writer recorded the same ref since the check above.
                raise ValidationError(Problem("ref", "记录编号已存在 / an action with this number is already recorded", action.ref),
                                      record=f"action {_key_of(action)}") from None
            if action.helpers:
                conn.execute(S.action_helpers.insert(), [{"action_id": action_id, "cadre_code": c} for c in action.helpers])
            if action.beneficiaries:
                conn.execute(
                    S.action_beneficiaries.insert(),
                    [{"action_id": action_id, "type": b.type, "ref": b.ref} for b in action.beneficiaries],
                )
            audit_new = {
                **row,
                "helpers": list(action.helpers),
                "beneficiaries": [str(b) for b in action.beneficiaries],
            }
            self._audit(conn, "insert", S.support_actions, action_id, None, audit_new)
        return attrs.evolve(action, id=action_id)

    def _action_problems(self, conn: sa.Connection, kind: ActionKind, action: SupportAction) -> list[Problem]:
        problems: list[Problem] = []
        if kind.details is not None and not isinstance(action.details, kind.details):
            problems.append(Problem("details", f"应为 {kind.details.__name__} / must be the kind's details class"))

        def known(what: str, keys: set[str]) -> set[str]:
            column = REFERENCE_COLUMNS[what]
            return set(conn.execute(sa.select(column).where(column.in_(list(keys)))).scalars())

        return problems + reference_problems(action, known)

    # -- reading ------------------------------------------------------------

    def get_household(self, number: str) -> model.Household:
        """The household registered as ``number`` (needs registry.read over it)."""
        with self._reading() as conn:
            row = conn.execute(sa.select(S.households).where(S.households.c.number == number)).mappings().first()
            if row is None:
                self.access.require("registry.read")
                raise NotFound(f"户 {number} 未登记 / household {number} is not registered")
            self.access.require_household(conn, "registry.read", number)
        return _household(row)

    def household_card(self, number: str, *, unmasked: bool = False) -> HouseholdCard:
        """Everything recorded about a household: card, members, tags, status history, actions.

        Masked by default (see :class:`HouseholdCard`). ``unmasked=True`` shows
        ID numbers, phones and the bank account in full: it needs
        ``export.unmasked`` as ``fupin export --unmasked`` does, and leaves an
        audit entry (``read_unmasked`` on the household) before the card is returned.

        Raises:
            NotFound: No household is registered as ``number``.
            AccessDenied: ``registry.read`` does not reach it (or ``export.unmasked`` is missing).
        """
        if unmasked:
            self.access.require("export.unmasked", f"户 {number} 的完整信息 / household {number} unmasked")
        card = self._household_card(number)
        if unmasked:
            self.audit_event("read_unmasked", "households", number, {"household": number, "unmasked": True}, "unmasked household card")
            return card
        return _masked_card(card)

    def _household_card(self, number: str) -> HouseholdCard:
        household = self.get_household(number)
        with self._reading() as conn:
            hid: int = conn.execute(sa.select(S.households.c.id).where(S.households.c.number == number)).scalar_one()
            members = tuple(self._persons(conn, S.persons.c.household_id == hid, number))
            tag_rows = conn.execute(
                sa.select(S.person_tags, S.persons.c.id_number)
                .join(S.persons, S.persons.c.id == S.person_tags.c.person_id)
                .where(S.persons.c.household_id == hid)
                .order_by(S.person_tags.c.start, S.person_tags.c.id)
            ).mappings()
            tags = tuple(model.Tag(r["id_number"], r["tag"], r["start"], r["end"], r["note"]) for r in tag_rows)
            history = tuple(
                model.StatusChange(number, r.status, r.effective, r.reason)
                for r in conn.execute(
                    sa.select(S.household_status)
                    .where(S.household_status.c.household_id == hid)
                    .order_by(S.household_status.c.effective, S.household_status.c.id)
                )
            )
            group_row = conn.execute(sa.select(S.areas).where(S.areas.c.code == household.group_code)).first()
            ids = [m.id_number for m in members]
            action_ids: Sequence[int] = conn.execute(
                sa.select(S.action_beneficiaries.c.action_id).where(
                    ((S.action_beneficiaries.c.type == "household") & (S.action_beneficiaries.c.ref == number))
                    | ((S.action_beneficiaries.c.type == "person") & S.action_beneficiaries.c.ref.in_(ids))
                )
            ).scalars().all()
        # The help received, as far as the actor may see actions.
        actions = tuple(self.actions(ids=sorted(set(action_ids)))) if action_ids and self.access.has("actions.read") else ()
        return HouseholdCard(
            household=household,
            members=tuple(CardMember.of(m, masked=False) for m in members),
            tags=tags,
            status_history=history,
            actions=actions,
            group=_area(group_row) if group_row else None,
            problems=tuple(model.check_members(number, members)),
            masked=False,
        )

    def _persons(self, conn: sa.Connection, where: Any, household: str | None = None) -> Iterator[model.Person]:
        query = (
            sa.select(S.persons, S.households.c.number.label("household_number"))
            .join(S.households, S.households.c.id == S.persons.c.household_id)
            .where(where)
            .order_by(S.persons.c.id)
        )
        for row in conn.execute(query).mappings():
            yield _person(row)

    def get_person(self, id_number: str) -> model.Person:
        """The person registered with ``id_number`` (any accepted form of the number)."""
        from fupin.idnumber import IdNumber

        canonical = IdNumber.parse(id_number).number
        self.access.require("registry.read")
        with self._reading() as conn:
            found = list(self._persons(conn, (S.persons.c.id_number == canonical) & self.access.household_condition("registry.read")))
        if not found:
            raise NotFound(f"证件号码 {canonical[:6]}…{canonical[-4:]} 未登记 / person not registered")
        return found[0]

    def units(self) -> list[model.Unit]:
        """All registered units, by code (the organisation chart: needs aggregates.read)."""
        self.access.require("aggregates.read")
        with self._reading() as conn:
            rows = conn.execute(sa.select(S.units).order_by(S.units.c.code)).mappings()
            return [model.Unit(r["code"], r["name"], r["kind"], r["parent_code"], r["area_code"]) for r in rows]

    def cadres(self, unit: str | None = None) -> list[model.Cadre]:
        """Registered cadres (of ``unit`` if given), by code."""
        self.access.require("aggregates.read")
        query = sa.select(S.cadres).order_by(S.cadres.c.code)
        if unit:
            query = query.where(S.cadres.c.unit_code == unit)
        with self._reading() as conn:
            return [
                model.Cadre(r["code"], r["name"], r["unit_code"], r["rank"], r["title"], r["sex"], r["phone"])
                for r in conn.execute(query).mappings()
            ]

    def actions(self, *, kind: str | None = None, ids: list[int] | None = None) -> Iterator[SupportAction]:
        """Stored support actions in the actor's scope, oldest first, optionally of one kind or with given ids."""
        self.access.require("actions.read")
        query = (
            sa.select(S.support_actions)
            .where(self.access.action_condition("actions.read"))
            .order_by(S.support_actions.c.start_date, S.support_actions.c.id)
        )
        if kind:
            query = query.where(S.support_actions.c.kind == kind)
        if ids is not None:
            query = query.where(S.support_actions.c.id.in_(ids))
        kinds = self.hooks.action_kinds()
        with self._reading() as conn:
            rows = conn.execute(query).mappings().all()
            wanted = [r["id"] for r in rows]
            helpers: dict[int, list[str]] = {}
            bens: dict[int, list[Beneficiary]] = {}
            for chunk in _chunks(wanted, 500):
                for r in conn.execute(
                    sa.select(S.action_helpers).where(S.action_helpers.c.action_id.in_(chunk)).order_by(S.action_helpers.c.cadre_code)
                ):
                    helpers.setdefault(r.action_id, []).append(r.cadre_code)
                for r in conn.execute(
                    sa.select(S.action_beneficiaries).where(S.action_beneficiaries.c.action_id.in_(chunk))
                ):
                    bens.setdefault(r.action_id, []).append(Beneficiary(r.type, r.ref))
        from fupin.convert import structure

        for rec in rows:
            kind_obj = kinds.get(rec["kind"])
            details = rec["details"]
            if kind_obj is not None and kind_obj.details is not None and details is not None:
                details = structure(details, kind_obj.details, field="details", vocab=self.vocab)
            yield SupportAction(
                kind=rec["kind"],
                start=rec["start_date"],
                end=rec["end_date"],
                unit=rec["unit_code"],
                plan=rec["plan_name"],
                helpers=tuple(helpers.get(rec["id"], ())),
                beneficiaries=tuple(sorted(bens.get(rec["id"], ()), key=str)),
                quantities=rec["quantities"],
                amount_fen=rec["amount_fen"],
                details=details,
                title=rec["title"],
                ref=rec["ref"],
                id=rec["id"],
            )

    def count(self, table: str) -> int:
        """Number of rows in a table (``"households"``, ``"persons"`` ...): an aggregate figure."""
        self.access.require("aggregates.read")
        t = self.metadata.tables[table]
        with self._reading() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()

    def audit_entries(
        self,
        *,
        table: str | None = None,
        key: str | None = None,
        user: str | None = None,
        operation: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        masked: bool = False,
    ) -> list[AuditEntry]:
        """The audit log, oldest first (needs audit.read), as stored: personal values unmasked.

        Optionally only entries of one table, record key, operation, user
        (``UNIT:USER``, or ``USER`` of any unit), and written at or after
        ``since`` and before ``until``. ``masked``: ID numbers, phones and
        accounts in the record key and the old and new values masked as the
        export masks them (the hashes stay those of the stored values).
        """
        self.access.require("audit.read")
        query = sa.select(S.audit_log).order_by(S.audit_log.c.id)
        if table:
            query = query.where(S.audit_log.c.table_name == table)
        if key:
            query = query.where(S.audit_log.c.record_key == str(key))
        log = S.audit_log
        if operation:
            query = query.where(log.c.operation == operation)
        if user:
            unit, sep, name = user.rpartition(":")
            query = query.where(log.c.user == name, *([log.c.unit == unit] if sep else []))
        if since is not None:
            query = query.where(log.c.at >= _utc(since))
        if until is not None:
            query = query.where(log.c.at < _utc(until))
        with self._reading() as conn:
            entries = [AuditEntry(**r) for r in conn.execute(query).mappings()]
        if masked:
            from fupin.io.export import mask_personal

            entries = [attrs.evolve(e, record_key=mask_personal(e.record_key), old=mask_personal(e.old),
                                    new=mask_personal(e.new)) for e in entries]
        return entries

    def verify_audit(self, expect: str | None = None) -> audit.AuditVerdict:
        """Check the audit log's hash chain (needs audit.read): every entry's hash and link, and its anchor.

        ``expect``: a head hash kept elsewhere earlier (:meth:`audit_head`), which
        must still be in the chain. The verdict's ``ok`` is whether all holds;
        ``broken`` names the first broken entry.
        """
        self.access.require("audit.read")
        with self._reading() as conn:
            return audit.verify(conn, expect)

    def audit_head(self) -> audit.AuditHead | None:
        """The head of the audit log's chain (needs audit.read): last entry's id and hash, and the count; None if empty."""
        self.access.require("audit.read")
        with self._reading() as conn:
            return audit.head(conn)

    def import_batches(self, *, limit: int = 50) -> list[ImportBatch]:
        """The last ``limit`` import batches, newest first (needs audit.read)."""
        self.access.require("audit.read")
        query = sa.select(S.import_batches).order_by(S.import_batches.c.id.desc()).limit(limit)
        with self._reading() as conn:
            return [ImportBatch(**r) for r in conn.execute(query).mappings()]

    # -- the platform API ---------------------------------------------------------------
    # Thin doors to the services, each checking what its service checks; see docs/embedding.md.

    def import_file(
        self, kind: str, source: str | os.PathLike[str] | BinaryIO, *, name: str | None = None, **options: Any
    ) -> ImportResult:
        """Import one file, or a binary stream (an upload), as records of ``kind``.

        A stream is copied to a private temporary folder as ``name`` (its file
        name: the format comes from its extension, and errors name it), at most
        as many bytes as ``limits.max_total_mb`` (:class:`fupin.ReadLimits`)
        allows: a larger stream is refused once that much is read, and the copy
        is removed afterwards.

        Args:
            kind: The import kind (``"households"``, ``"persons"``, a plugin's ...).
            source: A path, or a binary stream opened for reading.
            name: The stream's file name (``"户籍.xlsx"``); required for a stream.
            **options: As :meth:`import_files`.

        Raises:
            ValidationError: No ``name`` for a stream (a refused import does not raise: its
                rows' errors are in the result).
            FileTooLarge: The stream is larger than ``limits.max_total_mb``.
        """
        if isinstance(source, (str, os.PathLike)):
            return self.import_files(kind, [source], **options)
        if not name or not str(name).strip():
            raise ValidationError.of("name", "从数据流导入须给文件名 / a stream needs name=, its file name (households.csv)")
        from fupin.io.files import FileTooLarge, ReadLimits

        shown = _upload_name(name)
        limits: ReadLimits = options.get("limits") or ReadLimits()
        most = limits.max_total_mb << 20
        with tempfile.TemporaryDirectory(prefix="fupin-upload-") as folder:
            path = Path(folder) / shown
            copied = 0
            with open(path, "wb") as out:
                while chunk := source.read(min(1 << 20, most + 1 - copied)):
                    copied += len(chunk)
                    if copied > most:
                        raise FileTooLarge(
                            f"{shown}: 超过 {limits.max_total_mb} MiB, 未导入 / larger than {limits.max_total_mb} MiB "
                            "(ReadLimits.max_total_mb): not imported"
                        )
                    out.write(chunk)
            try:
                return self.import_files(kind, [path], **options)
            except FupinError as exc:
                raise _renamed(exc, str(path), shown) from None

    def import_files(self, kind: str, paths: Sequence[str | os.PathLike[str]], **options: Any) -> ImportResult:
        """Import files as records of ``kind`` in one transaction (all or nothing by default).

        Args:
            kind: The import kind.
            paths: CSV (UTF-8, with BOM, GB18030), XLSX or JSON-lines files.
            **options: ``encoding``, ``sheet``, ``on_error`` ("abort" or "skip"), ``dry_run``,
                ``batch_size``, ``limits`` (:class:`fupin.ReadLimits`), ``progress``.

        Returns:
            The counts (inserted, updated, unchanged, rejected) and every refused row.
        """
        from fupin.io.engine import import_files

        return import_files(self, kind, [Path(p) for p in paths], **options)

    def export(
        self,
        kind: str,
        stream: IO[bytes] | IO[str] | str | os.PathLike[str],
        *,
        name: str | None = None,
        fmt: str = "csv",
        where: Sequence[str] | None = None,
        unmasked: bool = False,
        english: bool = False,
        progress: Callable[[int, int], object] | None = None,
    ) -> ExportResult:
        """Write the records of ``kind`` the actor may read to ``stream``, as a file ``import`` reads back.

        Masked unless ``unmasked`` (needs ``export.unmasked``); every export is
        audited before its first row is written (see ``fupin export``).

        Args:
            kind: The import kind.
            stream: A binary stream (any format), a text stream (CSV and JSON lines) or a path.
            name: What the audit entry calls the file (default: the path, or ``"(stream)"``).
            fmt: ``"csv"``, ``"xlsx"`` or ``"jsonl"``.
            where: Filters like ``"贫困户属性=低保贫困户"`` (ANDed).
            unmasked: ID numbers, phones and accounts in full.
            english: English headers instead of the Chinese ones.
            progress: Called as ``progress(done, total)`` (rows) at the start and after each chunk
                of rows written; ``total`` is counted only when it is given.
        """
        from fupin.io.engine import import_kinds
        from fupin.io.export import export_rows
        from fupin.io.files import FORMATS, write_table

        if fmt not in FORMATS:
            raise ValidationError.of("fmt", f"格式应为 / the format is one of {', '.join(FORMATS)}", fmt)
        kinds = import_kinds(self)
        if kind not in kinds:
            raise ValidationError.of("kind", f"未知的导入类型 / unknown import kind; known: {', '.join(sorted(kinds))}", kind)
        text = isinstance(stream, io.TextIOBase)
        if text and fmt == "xlsx":
            raise ValidationError.of("stream", "XLSX 须写入二进制流 / XLSX needs a binary stream", fmt)
        headers, rows = export_rows(self, kinds[kind], where=tuple(where or ()), unmasked=unmasked, english=english,
                                    details={"format": fmt, "file": name or _file_name(stream)}, progress=progress)
        target: IO[bytes] | str | os.PathLike[str] = _TextSink(stream) if text else stream  # type: ignore[assignment,arg-type]
        count = write_table(target, fmt, headers, rows)
        return ExportResult(kind, fmt, count, not unmasked)

    def worklist(self, plan: Plan | str, *, as_of: dt.date, cadre: str | None = None) -> list[DueItem]:
        """Households of ``plan`` due or overdue for a visit on ``as_of``, overdue first (of ``cadre`` if given).

        The actor sees the households its ``registry.read`` reaches.
        """
        from fupin.visits import due_list

        return due_list(self, self.plan(plan), as_of=as_of, cadre=cadre)

    def check(self, plan: Plan | str, year: int, *, as_of: dt.date | None = None) -> list[CheckResult]:
        """Every commitment of ``plan`` checked for ``year`` as known on ``as_of`` (default today)."""
        from fupin.checks import check_plan

        return check_plan(self, self.plan(plan), year, as_of=as_of)

    def report(self, plan: Plan | str, year: int, *, as_of: dt.date | None = None) -> YearlyReport:
        """The yearly report of ``plan`` as known on ``as_of`` (default: the year's last day, or today while the year
        runs); render it with :func:`fupin.render_report`."""
        from fupin.report import build_report

        return build_report(self, self.plan(plan), year, as_of=as_of)

    def overview(self, year: int, *, as_of: dt.date | None = None) -> Overview:
        """The yearly reports of every plan the actor may read, with a summary table and charts comparing them
        (``fupin report --all-plans``); render it with :func:`fupin.render_overview`.

        Raises:
            AccessDenied: the actor may read no plan's figures.
        """
        from fupin.overview import build_overview

        return build_overview(self, year, as_of=as_of)

    def pair(self, pairing: model.Pairing) -> int:
        """Store a pairing (cadre and household, or unit and village); returns its id (needs pairing.write)."""
        from fupin.pairing import add_pairing

        return add_pairing(self, pairing)

    def end_pairing(self, pairing_id: int, end: dt.date, reason: str) -> None:
        """End pairing ``pairing_id`` on ``end`` for ``reason``; its history is kept."""
        from fupin.pairing import end_pairing

        end_pairing(self, pairing_id, end, reason)

    def transfer(
        self, from_cadre: str, to_cadre: str, *, on: dt.date, reason: str, plan: Plan | str | None = None
    ) -> TransferResult:
        """Move every pairing ``from_cadre`` holds on ``on`` to ``to_cadre`` in one transaction
        (quota warnings against ``plan`` if given)."""
        from fupin.pairing import transfer

        return transfer(self, from_cadre, to_cadre, on=on, reason=reason, plan=None if plan is None else self.plan(plan))

    def auto_pair(self, plan: Plan | str, *, on: dt.date, dry_run: bool = False) -> AutoResult:
        """Pair every unpaired poor household of ``plan`` with its cadres, within the quotas."""
        from fupin.pairing import auto_pair

        return auto_pair(self, self.plan(plan), on=on, dry_run=dry_run)

    def pairings(
        self,
        *,
        cadre: str | None = None,
        household: str | None = None,
        active_on: dt.date | None = None,
        level: str | None = None,
    ) -> list[PairingRow]:
        """Pairings in the actor's scope, filtered; history included unless ``active_on`` is given."""
        from fupin.pairing import pairings

        return pairings(self, cadre=cadre, household=household, active_on=active_on, level=level)

    def assess_exits(self, plan: Plan | str, year: int, *, households: Sequence[str] | None = None) -> list[Assessment]:
        """Assess every poor household of ``plan``'s villages (or only ``households``) for exit in ``year``."""
        from fupin.exits import assess

        return assess(self, self.plan(plan), year, households=households)

    def record_exit(self, number: str, year: int, *, on: dt.date, plan: Plan | str | None = None) -> Assessment:
        """Record household ``number``'s exit on ``on`` if its assessment for ``year`` passes
        (:class:`ValidationError` listing the reasons otherwise)."""
        from fupin.exits import record_exit

        return record_exit(self, number, year, on=on, plan=None if plan is None else self.plan(plan))

    def close_case(self, ref: str, *, closed: dt.date, resolution: str) -> None:
        """Close case ``ref`` on ``closed`` with its ``resolution`` (needs visits.write; the audit log keeps the change)."""
        from fupin.visits import close_case

        close_case(self, ref, closed=closed, resolution=resolution)

    def find_duplicates(self, *, village: str | None = None, min_score: float = 0.6) -> list[Candidate]:
        """People who are likely one person registered twice, most likely first."""
        from fupin.dedup import scan

        return scan(self, village=village, min_score=min_score)

    def merge_persons(self, keep: str, drop: str, *, reason: str = "") -> MergeResult:
        """Fold the person ``drop`` into ``keep`` (tags, actions, empty fields), in one audited transaction."""
        from fupin.dedup import merge

        return merge(self, keep, drop, reason=reason)

    def search_people(self, query: str, *, page: int = 1, per_page: int = 50) -> Page[PersonHit]:
        """People the actor may read by name, pinyin or ID number, masked, a page at a time (see :mod:`fupin.search`)."""
        from fupin.search import search_people

        return search_people(self, query, page=page, per_page=per_page)

    def search_households(self, query: str, *, page: int = 1, per_page: int = 50) -> Page[HouseholdHit]:
        """Households the actor may read by head's name, pinyin, a member's ID number or household number."""
        from fupin.search import search_households

        return search_households(self, query, page=page, per_page=per_page)


# -- row <-> record -----------------------------------------------------------


def _key_of(record: Any) -> str:
    for name in ("number", "id_number", "code", "village_code", "kind"):
        if hasattr(record, name):
            return str(getattr(record, name))
    return ""


def _area(row: Any) -> model.Area:
    return model.Area(row.code, row.name, row.level, row.parent_code)


def _household_row(h: model.Household) -> dict[str, Any]:
    row = attrs.asdict(h, recurse=False)
    row["other_causes"] = list(h.other_causes)
    return row


def _household(row: DbRow) -> model.Household:
    fields = {f.name for f in attrs.fields(model.Household)}
    values = {k: v for k, v in row.items() if k in fields}
    values["other_causes"] = tuple(values["other_causes"] or ())
    return model.Household(**values)


def _person(row: DbRow) -> model.Person:
    fields = {f.name for f in attrs.fields(model.Person)} - {"household"}
    values = {k: v for k, v in row.items() if k in fields}
    return model.Person(household=row["household_number"], **values)


def _utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC (a naive one taken as UTC already), as entries are stored."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _masked_card(card: HouseholdCard) -> HouseholdCard:
    """``card`` with personal data masked, so that none of it can be rebuilt from what is shown."""
    from fupin.convert import unstructure
    from fupin.io.export import mask_personal

    h = card.household
    household = attrs.evolve(h, phone=mask_phone(h.phone) or None, bank_account=mask_account(h.bank_account) or None)
    members = tuple(
        attrs.evolve(m, id_number=mask_id(m.id_number), phone=mask_phone(m.phone) or None) for m in card.members
    )
    tags = tuple(attrs.evolve(t, id_number=mask_id(t.id_number), note=mask_personal(t.note)) for t in card.tags)

    def beneficiary(b: Beneficiary) -> Beneficiary:
        return Beneficiary(b.type, mask_id(b.ref)) if b.type == "person" else b

    actions = tuple(
        attrs.evolve(
            a,
            beneficiaries=tuple(beneficiary(b) for b in a.beneficiaries),
            details=None if a.details is None else mask_personal(_plain(unstructure(a.details))),
            title=mask_personal(a.title),
        )
        for a in card.actions
    )
    problems = tuple(attrs.evolve(p, value=mask_personal(p.value, p.field)) for p in card.problems)
    return attrs.evolve(card, household=household, members=members, tags=tags, actions=actions, problems=problems, masked=True)


def _file_name(target: object) -> str:
    """What an export's audit entry calls its file: a path as given, a stream ``(stream)``."""
    return os.fspath(target) if isinstance(target, (str, os.PathLike)) else "(stream)"


def _upload_name(name: str) -> str:
    """The file name an upload is kept and named under: its last path part, without control characters."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    if not base:
        raise ValidationError.of("name", "不是可用的文件名 / not a usable file name", name)
    return base[:200]


def _renamed(exc: FupinError, path: str, name: str) -> FupinError:
    """``exc`` naming the upload's ``name`` where it named the temporary copy's ``path``."""
    if isinstance(exc, ValidationError):
        exc.problems = [
            attrs.evolve(p, location=p.location.replace(path, name), value=p.value.replace(path, name) if isinstance(p.value, str) else p.value)
            for p in exc.problems
        ]
        exc.record = exc.record.replace(path, name)
        exc.args = (str(exc),)
    elif exc.args and isinstance(exc.args[0], str):
        exc.args = (exc.args[0].replace(path, name), *exc.args[1:])
    return exc


class _TextSink(io.RawIOBase):
    """A binary stream that writes, decoded as UTF-8, into a text stream (an export into ``io.StringIO``)."""

    def __init__(self, text: IO[str]) -> None:
        import codecs

        self._text = text
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._text.write(self._decoder.decode(chunk))
        return len(chunk)

    def flush(self) -> None:
        self._text.flush()
