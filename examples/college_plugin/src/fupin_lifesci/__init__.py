"""fupin plugin of the College of Life Sciences (生命科学学院).

Adds the support-action kind ``lifesci.soil_testing`` (测土配方施肥), a rule
that every soil-testing action names the households or villages whose fields
were sampled, and the command ``fupin lifesci info``.

Only hook implementations live here; the logic is in :mod:`fupin_lifesci.soil`
and :mod:`fupin_lifesci.commands`. Nothing runs at import time: fupin imports
this module for every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fupin import hookimpl, validates

from fupin_lifesci import commands, soil

if TYPE_CHECKING:
    import click

    from fupin import ActionKind, Problem


@hookimpl
def fupin_action_kinds() -> list[ActionKind]:
    """Add the soil-testing kind to the support-action ledger."""
    return [soil.soil_testing_kind()]


@hookimpl
@validates("action")
def fupin_validate_record(record: Any, record_type: str) -> list[Problem] | None:
    """Refuse a soil-testing action that names no household or village."""
    if record_type == "action" and record.kind == soil.SOIL_TESTING:
        return soil.check_beneficiaries(record)
    return None


@hookimpl
def fupin_register_commands(cli: click.Group) -> None:
    """Add ``fupin lifesci ...``."""
    cli.add_command(commands.lifesci)
