"""fupin-training: agricultural-technology courses, skills mastered, party-cadre training, research projects.

The plugin ``training`` of fupin (commitments C17, C20, C21 and C22 of the
reference plan). Only hook implementations live here; the logic is in the
modules beside it:

- :mod:`fupin_training.kinds`: the support-action kinds and their details;
- :mod:`fupin_training.catalogue`: the technique catalogue (``vocabularies.toml``);
- :mod:`fupin_training.queries`: the figures, counted in SQL;
- :mod:`fupin_training.targets`: the commitment targets;
- :mod:`fupin_training.report`: the report section;
- :mod:`fupin_training.commands`: ``fupin training ...``;
- :mod:`fupin_training.simulate`: the demo's activity.

Nothing runs at import time: fupin imports this module for every command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fupin import hookimpl, validates

if TYPE_CHECKING:
    import click

    from fupin import ActionKind, Problem, ReportSection, TargetSpec

__version__ = "0.1.0"


@hookimpl
def fupin_action_kinds() -> list[ActionKind]:
    """Sessions, skill assessments, party training and research projects."""
    from fupin_training.kinds import action_kinds

    return action_kinds()


@hookimpl
def fupin_vocabularies() -> list[Path]:
    """The technique catalogue and the plugin's other value lists."""
    from fupin_training.catalogue import VOCABULARY_FILE

    return [VOCABULARY_FILE]


@hookimpl
@validates("action")
def fupin_validate_record(record: Any, record_type: str) -> list[Problem] | None:
    """Rules across fields of the stream's actions (hours of a session, one person per assessment ...)."""
    if record_type != "action" or not str(getattr(record, "kind", "")).startswith("training."):
        return None
    from fupin_training.kinds import problems

    return problems(record) or None


@hookimpl
def fupin_targets() -> list[TargetSpec]:
    """training.party_cadre_training (C17), agri_courses (C20), household_skills (C21), research_projects (C22)."""
    from fupin_training.targets import targets

    return targets()


@hookimpl
def fupin_importers() -> list[Any]:
    """One batch file kind per action kind: ``fupin import training.sessions FILE`` ..."""
    from fupin.ext import actions_of

    from fupin_training import kinds as k

    return [
        actions_of(k.AGRI_SESSION, name="training.sessions", label_zh="农业技术培训", label_en="Agricultural-technology sessions"),
        actions_of(k.SKILL_ASSESSMENT, name="training.assessments", label_zh="实用技术考核", label_en="Skill assessments"),
        actions_of(k.PARTY_TRAINING, name="training.party", label_zh="党员干部培训", label_en="Party-cadre training"),
        actions_of(k.RESEARCH_PROJECT, name="training.research", label_zh="服务地方科研项目", label_en="Research projects serving the village"),
    ]


@hookimpl
def fupin_report_sections(store: Any, plan: Any, year: int) -> list[ReportSection]:
    """Courses by technique area, skills coverage, party training and research projects of the year."""
    from fupin_training.report import sections

    return sections(store, plan, year)


@hookimpl
def fupin_register_commands(cli: click.Group) -> None:
    """``fupin training skills`` / ``gaps`` / ``techniques``."""
    from fupin_training.commands import training

    cli.add_command(training)


@hookimpl
def fupin_simulate(store: Any, plan: Any, seed: int) -> None:
    """Courses, assessments, party training and research projects of the demo, 2015–2019."""
    from fupin_training.simulate import simulate

    simulate(store, plan, seed)
