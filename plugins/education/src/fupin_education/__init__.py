"""fupin plugin of the education stream (教育帮扶), commitments C23 to C27.

Adds five support-action kinds (teachers trained at the university, teacher
training in the town, teaching internships, 三下乡 teams, one-to-one study
pairs), their import kinds, vocabularies, targets, report sections, demo
activity and the commands ``fupin education teachers|internships|teams``.

Only hook implementations live here; the logic is in the sibling modules.
Nothing runs at import time: fupin imports this module for every command.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from fupin import hookimpl, validates

from fupin_education import kinds

if TYPE_CHECKING:
    from pathlib import Path

    import click

    from fupin import ActionKind, Problem, ReportSection, TargetSpec
    from fupin.ext import ImportKind

__version__ = "0.1.0"


@hookimpl
def fupin_action_kinds() -> list[ActionKind]:
    """The five education kinds (``education.teacher_visit`` ... ``education.study_pair``)."""
    return kinds.action_kinds()


@hookimpl
def fupin_vocabularies() -> list[Path]:
    """Subjects, visit activities, evaluations, vacations, 三下乡 activity types, support given."""
    return [kinds.VOCABULARY_FILE]


@hookimpl
@validates("action")
def fupin_validate_record(record: Any, record_type: str) -> list[Problem] | None:
    """Trainees' schools named as beneficiaries; one host school; one student per pair; teams in their vacation."""
    if record_type == "action" and record.kind in kinds.KINDS:
        return kinds.record_problems(record)
    return None


@hookimpl
def fupin_importers() -> list[ImportKind]:
    """``education.teacher_visits``, ``.teacher_trainings``, ``.internships``, ``.sanxiaxiang_teams``, ``.study_pairs``."""
    from fupin_education.importers import import_kinds

    return import_kinds()


@hookimpl
def fupin_targets() -> list[TargetSpec]:
    """The targets of C23 to C27."""
    from fupin_education.targets import target_specs

    return target_specs()


@hookimpl
def fupin_report_sections(store: Any, plan: Any, year: int, as_of: dt.date) -> list[ReportSection]:
    """The education summary and the 三下乡 activities of the year."""
    from fupin_education.report import sections

    return sections(store, plan, year, as_of)


@hookimpl
def fupin_simulate(store: Any, plan: Any, seed: int) -> None:
    """Five years of education activity for ``fupin demo``, with honest shortfalls."""
    from fupin_education.simulate import simulate

    simulate(store, plan, seed)


@hookimpl
def fupin_register_commands(cli: click.Group) -> None:
    """Add ``fupin education ...``."""
    from fupin_education.commands import education

    cli.add_command(education)
