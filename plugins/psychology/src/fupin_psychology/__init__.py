"""fupin plugin of counselling and social work (心理疏导与社会工作), commitments C32 and C33.

Adds three tables (``psychology_sessions``, ``psychology_cases``, and
``psychology_key``, the fingerprint of the note key) with their migrations,
their import kinds, vocabularies, the two targets, a report section (counts
only, small counts as ``<5``), demo activity, the permission
``psychology.rekey`` and the commands ``fupin psychology
note|sessions|cases|roster|rekey``. Session notes are encrypted with the key in
``FUPIN_PSYCHOLOGY_KEY``, only with the database's key (checked by its
fingerprint), and read only with a stated reason.

Only hook implementations live here; nothing runs at import time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fupin import hookimpl

if TYPE_CHECKING:
    import click
    import sqlalchemy as sa

    from fupin import ReportSection, TargetSpec
    from fupin.ext import ImportKind

__version__ = "0.1.0"


@hookimpl
def fupin_tables(metadata: sa.MetaData) -> None:
    """``psychology_sessions`` and ``psychology_cases``."""
    from fupin_psychology.tables import define

    define(metadata)


@hookimpl
def fupin_migrations() -> list[Path]:
    """The plugin's alembic branch ``psychology`` (depends on ``core``)."""
    return [Path(__file__).parent / "migrations"]


@hookimpl
def fupin_permissions() -> list[dict[str, Any]]:
    """The permission ``psychology.rekey`` (rotating the note key), over every record only."""
    from fupin_psychology.keys import REKEY

    return [{"name": REKEY, "zh": "用新密钥重新加密所有心理辅导笔记 (fupin psychology rekey)",
             "en": "re-encrypt every counselling note with a new key (fupin psychology rekey)", "scopes": ["all"]}]


@hookimpl
def fupin_roles() -> list[dict[str, Any]]:
    """``psychology.rekey`` given to the platform administrator."""
    from fupin_psychology.keys import REKEY

    return [{"roles": {"platform_admin": {"extend": True, "permissions": [REKEY]}}}]


@hookimpl
def fupin_vocabularies() -> list[Path]:
    """Session modes, risk levels, referrals, case statuses."""
    return [Path(__file__).parent / "vocabularies.toml"]


@hookimpl
def fupin_importers() -> list[ImportKind]:
    """``psychology.sessions`` and ``psychology.cases``."""
    from fupin_psychology.importers import import_kinds

    return import_kinds()


@hookimpl
def fupin_targets() -> list[TargetSpec]:
    """C32 ``psychology.counselling_coverage`` and C33 ``psychology.social_work_cases``."""
    from fupin_psychology.targets import target_specs

    return target_specs()


@hookimpl
def fupin_report_sections(store: Any, plan: Any, year: int, as_of: dt.date) -> list[ReportSection]:
    """Counselling and social work of the year, counts only."""
    from fupin_psychology.report import sections

    return sections(store, plan, year, as_of)


@hookimpl
def fupin_simulate(store: Any, plan: Any, seed: int) -> None:
    """Five years of counselling and social work for ``fupin demo``, with honest shortfalls."""
    from fupin_psychology.simulate import simulate

    simulate(store, plan, seed)


@hookimpl
def fupin_register_commands(cli: click.Group) -> None:
    """Add ``fupin psychology ...``."""
    from fupin_psychology.commands import psychology

    cli.add_command(psychology)
