"""The plugin contract: every hook fupin calls, with its arguments and meaning.

Each hook is documented in full in ``docs/plugin_hooks.md``; a test fails when
one is missing there. Hooks are called with keyword arguments only, through the
typed facade in :mod:`fupin.hooks`. Implementations may take fewer arguments
than the spec (pluggy's opt-in arguments), so specs can grow without breaking
plugins.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import datetime as dt

    import click
    from sqlalchemy import MetaData

    from fupin.access import Permission
    from fupin.actions import ActionKind
    from fupin.checks import Param, TargetSpec
    from fupin.errors import Problem
    from fupin.io.kinds import ImportKind

hookspec = pluggy.HookspecMarker("fupin")


# -- Registration: called once per plugin manager; results are collected ------


@hookspec
def fupin_action_kinds() -> list[ActionKind]:
    """Return the kinds of support action this plugin adds.

    Each :class:`fupin.ActionKind` is named ``plugin.kind`` and names the attrs
    class that validates an action's details. Two plugins returning the same
    name is an error reported when the registry is built.

    .. versionadded:: 0.1
    """


@hookspec
def fupin_targets() -> list[TargetSpec]:
    """Return the commitment targets this plugin can evaluate.

    A plan's commitment names its target (``target = "funding.study_aid"``);
    the check finds the :class:`fupin.TargetSpec` of that name and calls its
    ``evaluate(ctx)`` with a :class:`fupin.CheckContext` (store, plan,
    commitment and its params, year, as-of day, an open connection), which
    returns a :class:`fupin.CheckResult`, usually through ``ctx.judge(...)``.

    .. versionadded:: 0.1
    """


@hookspec
def fupin_plan_settings() -> list[Param]:
    """Return the settings this plugin reads from a plan's ``[plugins.NAME]`` table.

    ``NAME`` is the plugin's name. Each :class:`fupin.ext.Param` names a key,
    its type and its default, as a target's parameters do. A plan is refused
    when it loads, shows, lints or is checked if its ``[plugins.NAME]`` table
    has a key the plugin does not declare or a value of the wrong type, or if
    the installed plugin ``NAME`` declares no settings at all; a table naming a
    plugin that is not installed is not checked. The plugin reads its table
    from ``plan.plugins["NAME"]`` (defaults are not filled in for it).

    .. versionadded:: 0.2
    """


@hookspec
def fupin_tables(metadata: MetaData) -> None:
    """Define this plugin's tables on the shared SQLAlchemy ``metadata``.

    Table names must start with the plugin's name and an underscore
    (``education_internship``). The tables are created by the plugin's own
    alembic migrations (see :func:`fupin_migrations`); defining them here lets
    the core query and export them.

    Args:
        metadata: the core's :class:`sqlalchemy.MetaData`; add ``Table`` objects to it.

    .. versionadded:: 0.1
    """


@hookspec
def fupin_migrations() -> list[Path]:
    """Return the folders that hold this plugin's alembic migration scripts.

    Each folder is one alembic version location. A plugin's first revision has
    ``down_revision = None``, ``branch_labels = ("PLUGIN",)`` and
    ``depends_on = "core"`` so it runs after the core schema exists; ``fupin
    init`` upgrades every branch to its head.

    .. versionadded:: 0.1
    """


@hookspec
def fupin_vocabularies() -> list[Path | dict[str, Any]]:
    """Return vocabulary extensions: TOML files or mappings in the packaged format.

    A province adds its own enumerated values (a new household attribute, a
    local tag) this way; the extensions are merged over the packaged lists.

    .. versionadded:: 0.1
    """


@hookspec
def fupin_permissions() -> list[Permission]:
    """Return the permissions this plugin's code checks, so that roles may grant them.

    Each :class:`fupin.ext.Permission` has a name (``funding.approve``), what it
    allows in Chinese and English, and the role scopes it makes sense in
    (``scopes=("all", "plans")``). A permission another plugin (or the core)
    already declares refuses this plugin's permissions and roles: they are left
    out, the rest of the plugin keeps working, and ``fupin plugins`` lists the
    plugin as a failure with the reason.

    .. versionadded:: 0.2
    """


@hookspec
def fupin_roles() -> list[Path | dict[str, Any]]:
    """Return role definitions: TOML files or mappings in the format of ``fupin/data/roles.toml``.

    A province defines its own roles (a township clerk, a provincial
    inspector) by name, scope and permissions; a role of the same name replaces
    the packaged one, and ``extend = true`` adds permissions to an existing
    role. A role may list ``kinds = ["psychology.*", "education.teacher_training"]``:
    its permissions then reach only support actions of those kinds (reading,
    recording, importing, exporting).

    A role naming a permission nobody declared (see :func:`fupin_permissions`),
    or granting one in a scope it does not take, refuses this plugin's roles and
    permissions, which are left out; ``fupin plugins`` lists the plugin as a
    failure naming the role.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``kinds``; permissions are declared with ``fupin_permissions``.
    """


@hookspec
def fupin_importers() -> list[ImportKind]:
    """Return the kinds of record this plugin can batch-import and export.

    Each :class:`fupin.io.kinds.ImportKind` (usually a ``ModelKind``) names its
    columns with their Chinese and English headers, its natural key, its table
    and how a row becomes a validated record; ``fupin import``, ``fupin export``
    and ``fupin template`` then work for it like for the core kinds. A plugin's
    kinds are named ``plugin.kind`` (``education.internships``); the core's
    have plain names (``households``).

    .. versionadded:: 0.1
    """


@hookspec
def fupin_register_commands(cli: click.Group) -> None:
    """Add commands to the ``fupin`` command line.

    Add a group named after the plugin (``fupin education ...``) to ``cli``.
    Commands receive the store through ``fupin.cli.pass_store``.

    Args:
        cli: the root :class:`click.Group`.

    .. versionadded:: 0.1
    """


# -- Runtime ----------------------------------------------------------------


@hookspec
def fupin_validate_record(record: Any, record_type: str) -> list[Problem] | None:
    """Check a record before it is stored; return the problems found, or nothing.

    Every plugin is asked; any problem refuses the record and nothing is
    stored. Use it for rules that cross plugins or depend on local policy
    (a province that requires a phone number, a plugin's rule on the
    beneficiaries of its own action kinds).

    It sees the record alone, and must keep to it: a batch import asks it
    while parsing the file, in a forked worker process for large files, before
    any database check. A rule that needs stored rows belongs in the import
    kind's ``check_chunk`` and the plugin's own API.

    Args:
        record: the model object about to be stored (:class:`fupin.Household`,
            :class:`fupin.Person`, :class:`fupin.SupportAction` ...).
        record_type: ``"area"``, ``"village_profile"``, ``"household"``,
            ``"person"``, ``"unit"``, ``"cadre"``, ``"action"``, ``"pairing"``,
            ``"visit"``, ``"diary_entry"`` or ``"case"``.

    Returns:
        A list of :class:`fupin.Problem` (or plain strings), or ``None``.

    .. versionadded:: 0.1
    """


@hookspec
def fupin_report_sections(store: Any, plan: Any, year: int, as_of: dt.date) -> list[Any] | None:
    """Return this plugin's sections of the yearly report (``fupin report``).

    Called once per report, after the core's sections. Sections show counts,
    never personal data: a report is printed and handed round.

    Args:
        store: the store (read with ``store.engine``; figures need ``aggregates.read``).
        plan: the :class:`fupin.Plan` reported on.
        year: the year reported on.
        as_of: the report's date (a past year's: its last day, unless the reader
            asked for another): judge what is due, met or overdue as of this day,
            as the core's commitment results do (pass it as the ``as_of`` of a
            :class:`fupin.CheckContext`). A hookimpl may leave it out.

    Returns:
        A list of :class:`fupin.ReportSection` (title, paragraphs, an optional
        table, charts, next steps), or ``None``.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``as_of``.
    """


@hookspec
def fupin_simulate(store: Any, plan: Any, seed: int) -> None:
    """Record plausible activity of this plugin's stream for the years of ``plan`` (``fupin demo``).

    Called after the core has played the plan's years on the demo village
    (pairings, visits, exits), inside the same transaction, so the plugin can
    read the village's households, people, units and cadres through the
    store. Use the library calls a clerk's script would (``store.record_action``
    ...), draw from ``random.Random(seed)`` so the same seed gives the same
    records, and leave at least one honest shortfall for the report to show.

    Args:
        store: the store, acting as the demo's administrator.
        plan: the :class:`fupin.Plan` being played.
        seed: the demo's seed.

    .. versionadded:: 0.1
    """
