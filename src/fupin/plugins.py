"""Building the plugin manager: built-in plugins, entry points, blocking, tracing.

There is no global plugin manager: call :func:`get_plugin_manager` and pass the
result in (``make_cli(pm)``, ``Hooks(pm)``). Installed plugins are found through
the ``fupin`` entry-point group::

    [project.entry-points.fupin]
    lifesci = "fupin_lifesci"

A plugin that cannot be imported or registered does not stop the program: it is
recorded as a :class:`PluginFailure` (see :func:`plugin_failures`) and left
out, unless the manager is strict.

Environment variables:

``FUPIN_DISABLE_PLUGINS=a,b``
    Do not load the plugins registered under these names. Built-in plugins
    cannot be disabled.
``FUPIN_DISABLE_PLUGIN_AUTOLOAD=1``
    Load no entry points at all, only the built-in plugins.
``FUPIN_TRACE_PLUGINS=1``
    Print every hook call and its result to stderr.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import reprlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pluggy

from fupin import hookspecs
from fupin.errors import PluginError
from fupin.serial import Serialisable
from fupin.hooks import Hooks

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "FupinPluginManager",
    "PluginFailure",
    "PluginInfo",
    "get_plugin_manager",
    "list_plugins",
    "plugin_failures",
]

#: The entry-point group plugins register under.
ENTRY_POINT_GROUP = "fupin"

#: Built-in plugins: name -> module. They use the same hooks as any plugin.
DEFAULT_PLUGINS: dict[str, str] = {"core": "fupin.default_kinds"}

_FALSEY = {"", "0", "false", "no", "off"}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in _FALSEY


def _cause(exc: BaseException) -> str:
    # One line: the report is a table row and a log line, not a traceback.
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


@attrs.frozen
class PluginFailure(Serialisable):
    """A plugin that was left out because it failed to import or to register.

    Attributes:
        name: the entry-point name (or the name it was to be registered under).
        distribution: the distribution that declared it, if known.
        version: that distribution's version, if known.
        cause: the exception type and message, on one line.
    """

    name: str
    distribution: str | None
    version: str | None
    cause: str

    def __str__(self) -> str:
        source = " ".join(filter(None, (self.distribution, self.version)))
        return f"{self.name}{f' ({source})' if source else ''}: {self.cause}"



@attrs.frozen
class PluginInfo(Serialisable):
    """What ``fupin plugins`` shows about one registered plugin.

    Attributes:
        name: the name it is registered under (the namespace of its kinds).
        module: the plugin's module (or the module of its class).
        distribution: the distribution that installed it; ``"fupin"`` for
            built-in plugins; ``None`` for one registered in-process.
        version: that distribution's version.
        hooks: names of the hooks it implements, sorted.
        contributions: per registration hook it implements, what it adds:
            ``action_kinds``, ``targets``, ``tables``, ``commands`` (names),
            ``migrations`` (paths), ``vocabularies`` (a count).
    """

    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...] = attrs.field(converter=tuple)
    contributions: dict[str, Any] = attrs.field(factory=dict)



class FupinPluginManager(pluggy.PluginManager):
    """A pluggy manager that rejects unknown hooks and records failed plugins.

    Attributes:
        failures: the plugins left out, in the order they failed.
        sources: plugin name -> (distribution, version) it came from.
        strict: raise :class:`~fupin.errors.PluginError` on the first failure
            instead of recording it.
    """

    def __init__(self, *, strict: bool = False) -> None:
        super().__init__("fupin")
        self.failures: list[PluginFailure] = []
        self.sources: dict[str, tuple[str | None, str | None]] = {}
        self.strict = strict

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        """Register ``plugin`` like pluggy does, and also reject unknown hooks.

        pluggy accepts an implementation without a spec and never calls it, so
        a misspelt ``fupin_action_kind`` would be silently ignored.

        Raises:
            pluggy.PluginValidationError: an implementation has no spec or asks
                for an argument its spec lacks; the plugin is not registered.
            ValueError: the plugin or the name is already registered.
        """
        registered = super().register(plugin, name)
        if registered is None:
            return None
        unknown = sorted(
            caller.name
            for caller in self.get_hookcallers(plugin) or ()
            if not caller.has_spec()
            and any(impl.plugin is plugin and not impl.optionalhook for impl in caller.get_hookimpls())
        )
        if unknown:
            self.unregister(plugin)
            raise pluggy.PluginValidationError(plugin, _unknown_hooks_message(unknown))
        return registered

    def register_plugin(
        self,
        plugin: Any,
        name: str,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> bool:
        """Register ``plugin`` as ``name``; record a failure instead of raising.

        Args:
            plugin: a module or object with ``@hookimpl`` functions.
            name: the name to register it under: the namespace of its kinds
                and the name ``FUPIN_DISABLE_PLUGINS`` matches.
            distribution: the distribution it came from, for reports.
            version: that distribution's version.

        Returns:
            True if the plugin is registered, False if it is blocked or failed.

        Raises:
            PluginError: it failed and the manager is strict.
        """
        if self.is_blocked(name):
            return False
        try:
            registered = self.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            # pluggy < 1.6 could leave part of a rejected plugin registered.
            if self.is_registered(plugin) and self.get_name(plugin) == name:
                self.unregister(plugin)
            self.add_failure(name, _cause(exc), distribution=distribution, version=version)
            return False
        if registered is None:
            return False
        self.sources[name] = (distribution, version)
        return True

    def add_failure(
        self, name: str, cause: str, *, distribution: str | None = None, version: str | None = None
    ) -> None:
        """Record that plugin ``name`` was left out because of ``cause``.

        Raises:
            PluginError: the manager is strict.
        """
        failure = PluginFailure(name, distribution, version, cause)
        self.failures.append(failure)
        if self.strict:
            raise PluginError(f"plugin {failure}")


def _unknown_hooks_message(names: Sequence[str]) -> str:
    known = [n for n in dir(hookspecs) if n.startswith("fupin_")]
    parts = []
    for name in names:
        close = difflib.get_close_matches(name, known, n=1)
        parts.append(f"unknown hook {name} (misspelt?)" + (f"; did you mean {close[0]}?" if close else ""))
    return "; ".join(parts)


def get_plugin_manager(*, load_entrypoints: bool = True, strict: bool = False) -> FupinPluginManager:
    """Build a plugin manager with the built-in plugins and the installed ones.

    Each call builds a new manager; nothing is loaded at import time.

    Args:
        load_entrypoints: load the plugins installed under the ``fupin``
            entry-point group (unless ``FUPIN_DISABLE_PLUGIN_AUTOLOAD`` is set).
            Tests pass False and register their own plugins.
        strict: raise on the first plugin that fails instead of recording it.

    Returns:
        The manager; :func:`plugin_failures` lists the plugins left out.

    Raises:
        PluginError: a plugin failed and ``strict`` is True.
    """
    pm = FupinPluginManager(strict=strict)
    pm.add_hookspecs(hookspecs)
    for raw in os.environ.get("FUPIN_DISABLE_PLUGINS", "").split(","):
        if raw.strip() and raw.strip() not in DEFAULT_PLUGINS:
            pm.set_blocked(raw.strip())
    if _env_flag("FUPIN_TRACE_PLUGINS"):
        pm.add_hookcall_monitoring(_trace_before, _trace_after)
    from fupin import __version__  # here: fupin imports this module

    # Built-ins first, so that no installed plugin can take their names.
    for name, module in DEFAULT_PLUGINS.items():
        _register_module(pm, name, module, distribution="fupin", version=__version__)
    if load_entrypoints and not _env_flag("FUPIN_DISABLE_PLUGIN_AUTOLOAD"):
        _load_entrypoints(pm)
    pm.check_pending()
    return pm


def _register_module(
    pm: FupinPluginManager, name: str, module: str, *, distribution: str | None, version: str | None
) -> None:
    try:
        plugin = importlib.import_module(module)
    except Exception as exc:
        pm.add_failure(name, _cause(exc), distribution=distribution, version=version)
        return
    pm.register_plugin(plugin, name, distribution=distribution, version=version)


def _load_entrypoints(pm: FupinPluginManager) -> None:
    # One by one rather than pluggy's load_setuptools_entrypoints, which stops
    # at the first plugin that fails to import.
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.is_blocked(ep.name):
            continue
        dist = ep.dist
        distribution = dist.name if dist is not None else None
        version = dist.version if dist is not None else None
        if ep.name in DEFAULT_PLUGINS or pm.has_plugin(ep.name):
            taken_by = "fupin" if ep.name in DEFAULT_PLUGINS else pm.sources.get(ep.name, (None, None))[0]
            pm.add_failure(
                ep.name,
                f"the name {ep.name!r} is already taken by {taken_by or 'another plugin'}",
                distribution=distribution,
                version=version,
            )
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            pm.add_failure(ep.name, _cause(exc), distribution=distribution, version=version)
            continue
        pm.register_plugin(plugin, ep.name, distribution=distribution, version=version)


def plugin_failures(pm: pluggy.PluginManager) -> list[PluginFailure]:
    """The plugins ``pm`` left out because they failed to import or register, then the
    registered plugins whose roles or permissions were refused (those alone are left out;
    the rest of such a plugin works)."""
    sources: Mapping[str, tuple[str | None, str | None]] = getattr(pm, "sources", {})
    refused = [
        PluginFailure(name, *sources.get(name, (None, None)), f"roles and permissions left out: {reason}")
        for name, reason in Hooks(pm).access_setup().failures
    ]
    return [*getattr(pm, "failures", ()), *refused]


def list_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Describe every registered plugin: source, hooks and contributions, by name.

    Calls each plugin's registration hooks on scratch objects to see what it
    adds; nothing outside the returned list is changed.
    """
    hooks = Hooks(pm)
    sources: Mapping[str, tuple[str | None, str | None]] = getattr(pm, "sources", {})
    infos = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:  # blocked
            continue
        distribution, version = sources.get(name, (None, None))
        infos.append(
            PluginInfo(
                name=name,
                module=getattr(plugin, "__name__", None) or type(plugin).__module__,
                distribution=distribution,
                version=version,
                hooks=sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()),
                contributions=hooks.contributions(name),
            )
        )
    return infos


def _trace_before(hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
    args = ", ".join(f"{k}={reprlib.repr(v)}" for k, v in kwargs.items())
    plugins = ", ".join(impl.plugin_name for impl in impls)
    print(f"fupin: {hook_name}({args}) -> [{plugins}]", file=sys.stderr)


def _trace_after(
    outcome: pluggy.Result[Any], hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]
) -> None:
    if outcome.exception is not None:
        print(f"fupin: {hook_name} raised {_cause(outcome.exception)}", file=sys.stderr)
    else:
        print(f"fupin: {hook_name} returned {reprlib.repr(outcome.get_result())}", file=sys.stderr)
