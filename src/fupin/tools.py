"""Work on files and training databases that needs no stored records: plan files, import templates, the demo.

Public through ``fupin`` (``fupin.validate_plan``, ``fupin.lint_plan``,
``fupin.write_template``, ``fupin.build_demo`` ...): the command line's
``plan show``/``plan lint``, ``import --list``, ``template`` and ``demo`` call
these, and a platform may too (checking an uploaded plan, offering templates,
building a training database). The modules behind them stay internal.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from fupin.hooks import Hooks
from fupin.io.files import EXTENSIONS
from fupin.lint import Finding as PlanFinding
from fupin.plans import Plan

if TYPE_CHECKING:
    from fupin.demo import DemoSummary
    from fupin.simulate import PlayResult
    from fupin.store import Store

__all__ = [
    "PlanFinding",
    "build_demo",
    "describe_import_kinds",
    "is_workbook",
    "lint_plan",
    "play_demo",
    "render_demo_summary",
    "render_findings",
    "render_plan",
    "render_played",
    "validate_plan",
    "write_template",
]

#: A progress callback: called as ``progress(done, total)`` as the work goes.
ProgressCallback = Callable[[int, int], object]


def validate_plan(plan: Plan, hooks: Hooks) -> None:
    """Check ``plan``'s commitments against the targets and plan settings ``hooks`` install.

    Raises:
        PlanError: naming the file and key of every unknown or mistyped
            parameter (the first, and how many more).
    """
    from fupin.checks import validate_plan as validate

    validate(plan, hooks.targets(), hooks.plan_settings())


def lint_plan(plan: Plan, hooks: Hooks | None = None) -> list[PlanFinding]:
    """Where ``plan`` contradicts itself, with the arithmetic, in a fixed order of checks.

    A finding's ``severity`` is ``"warning"`` for a contradiction, ``"error"``
    for a stated figure that cannot be checked. With ``hooks``, the
    commitments' parameters are also checked against the installed targets.
    """
    from fupin.lint import lint_plan as lint

    if hooks is None:
        return lint(plan)
    return lint(plan, hooks.targets(), hooks.plan_settings())


def render_plan(plan: Plan, lang: str = "zh") -> str:
    """``plan`` as readable text (what ``fupin plan show`` prints), in ``lang`` (``"zh"`` or ``"en"``)."""
    from fupin.plans import render_plan as render

    return render(plan, lang=lang)


def render_findings(findings: list[PlanFinding], *, lang: str = "zh", plan_name: str = "") -> str:
    """Lint findings as text, one line each then a summary line (what ``fupin plan lint`` prints)."""
    from fupin.lint import render_findings as render

    return render(findings, lang=lang, plan_name=plan_name)


def describe_import_kinds(hooks: Hooks) -> list[dict[str, Any]]:
    """Every import kind with the columns its files have (what ``fupin import --list`` shows), JSON-ready.

    Each item: ``kind``, ``label_zh``, ``label_en``, ``key`` (column names),
    ``description`` and ``columns`` (each ``name``, ``zh``, ``type``,
    ``required``, ``vocab``, ``aliases``). A one-kind action import lists the
    columns of its template, not every kind's.
    """
    from fupin.io.kinds import describe_import_kinds as describe

    return describe(hooks)


def write_template(
    hooks: Hooks, kind: str, target: str | os.PathLike[str] | IO[bytes], *, fmt: str = "xlsx", english: bool = False
) -> None:
    """Write an empty import file for ``kind`` to a path or binary stream: the headers and, in XLSX, drop-downs.

    Headers are the columns' Chinese names (``english``: their English
    names). An XLSX template has drop-down lists of the allowed values of
    vocabulary and yes/no columns (none on a column holding several values).
    Needs no database: the kinds and vocabularies come from ``hooks``.

    Raises:
        KeyError: ``kind`` is not an installed import kind.
    """
    from fupin.io.files import write_table
    from fupin.io.kinds import template_dropdowns, unbound_store

    importers = hooks.importers()
    if kind not in importers:
        raise KeyError(kind)
    import_kind = importers[kind].bind(unbound_store(hooks))
    headers = [c.name if english else c.zh for c in import_kind.columns]
    dropdowns = template_dropdowns(import_kind, hooks.vocabulary(), hooks) if fmt == "xlsx" else None
    write_table(target, fmt, headers, [], dropdowns=dropdowns)


def is_workbook(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an XLSX workbook by its extension (``.xlsx``, ``.xlsm``): only those have sheets."""
    return EXTENSIONS.get(Path(path).suffix.lower()) == "xlsx"


def build_demo(
    store: Store, plan_name: str = "qjnu-tuomu", *, seed: int = 2015, progress: ProgressCallback | None = None
) -> DemoSummary:
    """Build the villages of plan ``plan_name`` (a packaged name or a file) in ``store``, for a training database.

    Every village of the plan with its parent areas, villager groups and the
    poor households its profile counts; the helping unit, its cadres by rank
    and the schools the commitments name. One transaction; the same seed gives
    the same records. ``progress(done, total)`` counts households as written.

    Raises:
        PlanError: the plan names no village or no cadre rank.
    """
    from fupin.demo import build_demo as build

    return build(store, plan_name, seed=seed, progress=progress)


def play_demo(store: Store, plan: Plan, *, seed: int = 2015, progress: ProgressCallback | None = None) -> PlayResult:
    """Simulate every year of ``plan`` on a demo database: pairings, visits, diary entries, cases and exits.

    Deterministic for ``seed``; run after :func:`build_demo`.
    """
    from fupin.simulate import play

    return play(store, plan, seed=seed, progress=progress)


def render_demo_summary(summary: DemoSummary, lang: str = "zh") -> str:
    """What :func:`build_demo` built, as readable text (Chinese by default, ``lang="en"``)."""
    from fupin.demo import render_summary

    return render_summary(summary, lang=lang)


def render_played(store: Store, plan: Plan, played: PlayResult, lang: str = "zh") -> str:
    """What :func:`play_demo` recorded, every commitment year by year, and the last year's report, as text."""
    from fupin.demo import render_played as render

    return render(store, plan, played, lang=lang)
