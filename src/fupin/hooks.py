"""The typed facade over the plugin hooks: the only place ``pm.hook`` is called.

Code that needs what plugins contribute asks a :class:`Hooks`, never the plugin
manager directly::

    hooks = Hooks(pm)
    kind = hooks.action_kind("education.teacher_training")
    problems = hooks.validate_record(action, "action")

The registries (action kinds, targets) are built on first use and kept for the
life of the ``Hooks`` object; build a new one after registering more plugins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import pluggy

from fupin.actions import ActionKind
from fupin.checks import Param, TargetSpec
from fupin.errors import PluginError, Problem, ValidationError
from fupin.vocab import using_vocabulary

if TYPE_CHECKING:
    import click
    from sqlalchemy import MetaData

    from fupin.access import AccessSetup
    from fupin.io.kinds import ImportKind
    from fupin.plans import Plan
    from fupin.report import ReportSection
    from fupin.store import Store
    from fupin.vocab import Vocabulary

__all__ = ["Hooks", "validates"]

#: The attribute :func:`validates` sets on a hook implementation.
_RECORD_TYPES = "fupin_record_types"

_T = TypeVar("_T", ActionKind, TargetSpec, "ImportKind")
_F = TypeVar("_F", bound=Callable[..., Any])


def validates(*record_types: str) -> Callable[[_F], _F]:
    """Say which record types a ``fupin_validate_record`` implementation looks at.

    ::

        @fupin.hookimpl
        @fupin.validates("action")
        def fupin_validate_record(record, record_type): ...

    It is then asked about records of those types only: a batch import of a
    million persons does not call a plugin that checks actions a million times.
    An implementation without it is asked about every record.
    """

    def mark(function: _F) -> _F:
        setattr(function, _RECORD_TYPES, frozenset(record_types))
        return function

    return mark


class Hooks:
    """Typed methods for every hook of a plugin manager.

    Args:
        pm: the plugin manager from :func:`fupin.plugins.get_plugin_manager`.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._kinds: dict[str, ActionKind] | None = None
        self._targets: dict[str, TargetSpec] | None = None
        self._importers: dict[str, ImportKind] | None = None
        self._vocabulary: Vocabulary | None = None
        self._access: AccessSetup | None = None
        self._settings: dict[str, tuple[Param, ...]] | None = None

    # -- registration hooks ----------------------------------------------------

    def action_kinds(self) -> dict[str, ActionKind]:
        """Every action kind the plugins contribute, by name.

        Raises:
            PluginError: a plugin returned something other than ActionKinds, a
                kind outside its own namespace, or a name another plugin uses.
        """
        if self._kinds is None:
            self._kinds = self._registry("fupin_action_kinds", ActionKind, "action kind")
        return dict(self._kinds)

    def action_kind(self, name: str) -> ActionKind:
        """The action kind called ``name``.

        Raises:
            ValidationError: no plugin contributes that kind.
        """
        kinds = self.action_kinds()
        if name not in kinds:
            known = ", ".join(sorted(kinds)) or "-"
            raise ValidationError.of("kind", f"未知的帮扶类型 / unknown action kind; known: {known}", name)
        return kinds[name]

    def targets(self) -> dict[str, TargetSpec]:
        """Every commitment target the plugins contribute, by name.

        Raises:
            PluginError: as for :meth:`action_kinds`.
        """
        if self._targets is None:
            self._targets = self._registry("fupin_targets", TargetSpec, "target")
        return dict(self._targets)

    def target(self, name: str) -> TargetSpec:
        """The target called ``name``.

        Raises:
            ValidationError: no plugin contributes that target.
        """
        targets = self.targets()
        if name not in targets:
            known = ", ".join(sorted(targets)) or "-"
            raise ValidationError.of("target", f"未知的指标 / unknown target; known: {known}", name)
        return targets[name]

    def plan_settings(self) -> dict[str, tuple[Param, ...]]:
        """The settings each registered plugin reads from a plan's ``[plugins.NAME]``, by plugin name.

        Every registered plugin is a key; one that implements no
        ``fupin_plan_settings`` declares none (an empty tuple).

        Raises:
            PluginError: a plugin returns something other than :class:`Param`
                objects, or declares one key twice.
        """
        if self._settings is None:
            declared: dict[str, tuple[Param, ...]] = {
                name: () for name, plugin in self.pm.list_name_plugin() if plugin is not None
            }
            for plugin_name, result in self._each("fupin_plan_settings"):
                if not isinstance(result, (list, tuple)):
                    raise PluginError(f"plugin {plugin_name!r}: fupin_plan_settings must return a list, got {result!r}")
                for item in result:
                    if not isinstance(item, Param):
                        raise PluginError(f"plugin {plugin_name!r}: fupin_plan_settings returned {item!r}; expected a Param")
                    if any(p.name == item.name for p in declared[plugin_name]):
                        raise PluginError(f"plugin {plugin_name!r}: plan setting {item.name!r} is declared twice")
                    declared[plugin_name] += (item,)
            self._settings = declared
        return dict(self._settings)

    def importers(self) -> dict[str, ImportKind]:
        """Every import kind the plugins contribute, by name (same rules as :meth:`action_kinds`)."""
        if self._importers is None:
            from fupin.io.kinds import ImportKind

            self._importers = self._registry("fupin_importers", ImportKind, "import kind")
        return dict(self._importers)

    def tables(self, metadata: MetaData) -> None:
        """Let every plugin define its tables on ``metadata``."""
        self.pm.hook.fupin_tables(metadata=metadata)

    def migrations(self) -> list[Path]:
        """The alembic version folders of every plugin."""
        return [Path(p) for result in self.pm.hook.fupin_migrations() for p in _as_list(result)]

    def roles(self) -> list[Path | dict[str, Any]]:
        """Role definitions from every plugin, in registration order."""
        return [r for result in self.pm.hook.fupin_roles() for r in _as_list(result)]

    def access_setup(self) -> AccessSetup:
        """The roles and permissions in force: the core's and every plugin's ``fupin_permissions`` and ``fupin_roles``.

        A plugin whose permissions or roles are refused (or whose hook raises)
        is left out of them, with the reason in ``failures``; nothing is raised,
        so the other plugins keep working.
        """
        if self._access is None:
            from fupin.access import resolve_access

            contributions: list[tuple[str, list[Any], list[Any]]] = []
            broken: list[tuple[str, str]] = []
            for name, plugin in self.pm.list_name_plugin():
                if plugin is None:
                    continue
                implemented = {caller.name for caller in self.pm.get_hookcallers(plugin) or ()}
                if not implemented & {"fupin_permissions", "fupin_roles"}:
                    continue
                try:
                    declared = [p for r in self._call_one(name, "fupin_permissions") for p in _as_list(r)] if "fupin_permissions" in implemented else []
                    roles = [r for res in self._call_one(name, "fupin_roles") for r in _as_list(res)] if "fupin_roles" in implemented else []
                    contributions.append((name, declared, [r if isinstance(r, dict) else Path(r) for r in roles]))
                except Exception as exc:
                    broken.append((name, f"{type(exc).__name__}: {' '.join(str(exc).split())}"))
            setup = resolve_access(contributions)
            if broken:
                setup = attrs.evolve(setup, failures=(*broken, *setup.failures))
            self._access = setup
        return self._access

    def vocabularies(self) -> list[Path | dict[str, Any]]:
        """The vocabulary extensions of every plugin: TOML paths or mappings."""
        return [
            item if isinstance(item, dict) else Path(item)
            for result in self.pm.hook.fupin_vocabularies()
            for item in _as_list(result)
        ]

    def vocabulary(self) -> Vocabulary:
        """The packaged vocabulary extended by every plugin's ``fupin_vocabularies``."""
        if self._vocabulary is None:
            from fupin.vocab import Vocabulary

            vocab = Vocabulary.default()
            for extension in self.vocabularies():
                vocab = vocab.extend(extension)
            self._vocabulary = vocab
        return self._vocabulary

    def report_sections(self, store: Store, plan: Plan, year: int, as_of: dt.date | None = None) -> list[ReportSection]:
        """Every plugin's sections of the yearly report as of ``as_of`` (default: the year's last day, or today if earlier), in registration order."""
        as_of = as_of or min(dt.date.today(), dt.date(year, 12, 31))
        results = self.pm.hook.fupin_report_sections(store=store, plan=plan, year=year, as_of=as_of)
        return [section for result in results[::-1] for section in _as_list(result)]

    def simulate(self, store: Store, plan: Plan, seed: int) -> None:
        """Let every plugin record its stream's demo activity (``fupin_simulate``)."""
        self.pm.hook.fupin_simulate(store=store, plan=plan, seed=seed)

    def register_commands(self, cli: click.Group) -> None:
        """Let every plugin add its commands to ``cli``."""
        self.pm.hook.fupin_register_commands(cli=cli)

    # -- runtime hooks ---------------------------------------------------------

    def validate_record(self, record: object, record_type: str) -> list[Problem]:
        """Ask every plugin about ``record``; return all the problems found.

        Args:
            record: the model object about to be stored.
            record_type: ``"household"``, ``"action"`` ... (see the hookspec).

        Returns:
            The problems, flattened; a plain string ``s`` becomes
            ``Problem(field="", reason=s)``. Empty if every plugin agrees.
        """
        validate = self.record_validator(record_type)
        return [] if validate is None else validate(record)

    def record_validator(self, record_type: str) -> Callable[[Any], list[Problem]] | None:
        """:meth:`validate_record` for records of one type, or None when no plugin looks at that type.

        For callers that validate many records of a type (batch imports): the
        plugins to ask are chosen once (see :func:`validates`), not per record.
        """
        hook = self.pm.hook.fupin_validate_record
        implementations = hook.get_hookimpls()
        uninterested = [
            impl.plugin
            for impl in implementations
            if (types := getattr(impl.function, _RECORD_TYPES, None)) is not None and record_type not in types
        ]
        if len(uninterested) == len(implementations):
            return None
        caller = self.pm.subset_hook_caller("fupin_validate_record", uninterested) if uninterested else hook

        vocab = self.vocabulary()

        def validate(record: Any) -> list[Problem]:
            problems = []
            with using_vocabulary(vocab):
                results = caller(record=record, record_type=record_type)
            for result in results:
                for item in _as_list(result):
                    if isinstance(item, str):
                        item = Problem(field="", reason=item)
                    if not isinstance(item, Problem):
                        raise PluginError(f"fupin_validate_record returned {item!r}; expected a Problem or a string")
                    problems.append(item)
            return problems

        return validate

    # -- introspection ---------------------------------------------------------

    def contributions(self, plugin_name: str) -> dict[str, Any]:
        """What the plugin ``plugin_name`` adds through each registration hook.

        Its hooks are called on scratch objects, so nothing is changed. Only
        the hooks it implements appear. A hook that raises is reported as
        ``"error: Type: message"`` rather than raised: this is for reports.
        """
        from sqlalchemy import MetaData

        def kinds() -> list[str]:
            return [getattr(k, "name", repr(k)) for r in self._call_one(plugin_name, "fupin_action_kinds") for k in r]

        def targets() -> list[str]:
            return [getattr(t, "name", repr(t)) for r in self._call_one(plugin_name, "fupin_targets") for t in r]

        def importers() -> list[str]:
            return [getattr(k, "name", repr(k)) for r in self._call_one(plugin_name, "fupin_importers") for k in r]

        def tables() -> list[str]:
            metadata = MetaData()
            self._call_one(plugin_name, "fupin_tables", metadata=metadata)
            return sorted(metadata.tables)

        def migrations() -> list[str]:
            return [str(p) for r in self._call_one(plugin_name, "fupin_migrations") for p in r]

        def vocabularies() -> int:
            return sum(len(_as_list(r)) for r in self._call_one(plugin_name, "fupin_vocabularies"))

        def permissions() -> list[str]:
            return [getattr(p, "name", repr(p)) for r in self._call_one(plugin_name, "fupin_permissions") for p in _as_list(r)]

        def commands() -> list[str]:
            cli = _CommandNames()
            self._call_one(plugin_name, "fupin_register_commands", cli=cli)
            return sorted(cli.names)

        plugin = self.pm.get_plugin(plugin_name)
        implemented = {caller.name for caller in self.pm.get_hookcallers(plugin) or ()}
        out: dict[str, Any] = {}
        for key, hook_name, collect in [
            ("action_kinds", "fupin_action_kinds", kinds),
            ("targets", "fupin_targets", targets),
            ("importers", "fupin_importers", importers),
            ("tables", "fupin_tables", tables),
            ("migrations", "fupin_migrations", migrations),
            ("vocabularies", "fupin_vocabularies", vocabularies),
            ("permissions", "fupin_permissions", permissions),
            ("commands", "fupin_register_commands", commands),
        ]:
            if hook_name in implemented:
                try:
                    out[key] = collect()
                except Exception as exc:
                    out[key] = f"error: {type(exc).__name__}: {exc}"
        return out

    # -- helpers ---------------------------------------------------------------

    def _call_one(self, plugin_name: str, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call ``hook_name`` on the plugin ``plugin_name`` alone."""
        plugin = self.pm.get_plugin(plugin_name)
        others = [p for _name, p in self.pm.list_name_plugin() if p is not None and p is not plugin]
        return _as_list(self.pm.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs))

    def _each(self, hook_name: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Call ``hook_name`` plugin by plugin, yielding (plugin name, result)."""
        caller = getattr(self.pm.hook, hook_name)
        names = dict.fromkeys(impl.plugin_name for impl in caller.get_hookimpls())
        for name in names:
            for result in self._call_one(name, hook_name, **kwargs):
                yield name, result

    def _registry(self, hook_name: str, cls: type[_T], what: str) -> dict[str, _T]:
        contributed: list[tuple[str, _T]] = []
        for plugin_name, result in self._each(hook_name):
            if not isinstance(result, (list, tuple)):
                raise PluginError(f"plugin {plugin_name!r}: {hook_name} must return a list, got {result!r}")
            for item in result:
                if not isinstance(item, cls):
                    raise PluginError(
                        f"plugin {plugin_name!r}: {hook_name} returned {item!r}; expected a {cls.__name__}"
                    )
                contributed.append((plugin_name, item))
        # Duplicates first: two plugins claiming one name is the clearer report.
        owners: dict[str, str] = {}
        for plugin_name, item in contributed:
            if item.name in owners:
                first = owners[item.name]
                who = f"plugin {first!r} twice" if first == plugin_name else f"plugins {first!r} and {plugin_name!r}"
                raise PluginError(f"{what} {item.name!r} is contributed by {who}")
            owners[item.name] = plugin_name
        for plugin_name, item in contributed:
            if item.plugin != plugin_name:
                raise PluginError(
                    f"plugin {plugin_name!r} contributes {what} {item.name!r}, "
                    f"but its {what}s must be named {plugin_name}.*"
                )
        return {item.name: item for _plugin, item in contributed}


class _CommandNames:
    """A stand-in for the root ``click.Group`` that notes the names of the commands added to it.

    For :meth:`Hooks.contributions`, so that listing plugins needs no command
    line (click is the CLI's, :mod:`fupin.cli`). It takes what a plugin does to
    the group it is given: ``add_command(cmd, name=None)``, and the decorators
    ``command(...)`` / ``group(...)``, whose result takes the same again (its
    subcommands, not noted). A decorated function is named as click names it.
    """

    def __init__(self) -> None:
        self.names: list[str] = []

    def add_command(self, cmd: Any, name: str | None = None) -> None:
        self.names.append(name or str(getattr(cmd, "name", None) or cmd))

    def command(self, *args: Any, **kwargs: Any) -> Any:
        if args and callable(args[0]):  # @cli.command without parentheses
            return self._decorate(None)(args[0])
        return self._decorate(args[0] if args and isinstance(args[0], str) else kwargs.get("name"))

    group = command

    def _decorate(self, name: str | None) -> Callable[[Callable[..., Any]], _CommandNames]:
        def decorator(func: Callable[..., Any]) -> _CommandNames:
            self.names.append(name or _click_name(getattr(func, "__name__", "command")))
            return _CommandNames()

        return decorator


def _click_name(function_name: str) -> str:
    """The name click gives a command from its function's name (``show_all_command`` -> ``show-all``)."""
    name = function_name.lower().replace("_", "-")
    head, sep, suffix = name.rpartition("-")
    return head if sep and suffix in ("command", "cmd", "group", "grp") else name


def _as_list(result: Any) -> list[Any]:
    # A lone value is accepted too; a string must not be split into characters.
    if result is None:
        return []
    if isinstance(result, (list, tuple)):
        return list(result)
    return [result]
