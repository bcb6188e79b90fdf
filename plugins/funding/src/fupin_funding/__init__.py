"""fupin plugin of the funding stream (资金): commitments C02, C05, C18, C19 and C28 to C31.

A double-entry ledger in integer fen (funds, balanced entries, balances that
never go negative), projects, and recurring aid (study aid, Spring Festival
support, foster-family rewards) with payment lists to sign and import back.
Its own tables are ``funding_*``, created by its alembic branch ``funding``.
Each fund belongs to a unit, which may grant it to others; entries are
approved by a second person holding the plugin's permission ``funding.approve``
(given to the plan office).

Only hook implementations live here; nothing runs at import time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fupin import hookimpl

__version__ = "0.1.0"


@hookimpl
def fupin_tables(metadata: Any) -> None:
    """``funding_funds``, ``funding_entries``, ``funding_lines``, ``funding_projects``, ``funding_foster_homes``, ``funding_grants``."""
    from fupin_funding.tables import define

    define(metadata)


@hookimpl
def fupin_vocabularies() -> list[Path]:
    """The kinds of record the funding checks cite as evidence (fund entries, projects)."""
    return [Path(__file__).parent / "vocabularies.toml"]


@hookimpl
def fupin_permissions() -> list[dict[str, Any]]:
    """The permission ``funding.approve`` (approving ledger entries)."""
    from fupin_funding.scope import PERMISSIONS

    return PERMISSIONS


@hookimpl
def fupin_roles() -> list[dict[str, Any]]:
    """``funding.approve`` added to the plan office role."""
    from fupin_funding.scope import ROLES

    return [ROLES]


@hookimpl
def fupin_plan_settings() -> list[Any]:
    """``[plugins.funding]``: ``poor_statuses``, ``not_in_school``, ``aid_amounts`` (C29 to C31)."""
    from fupin_funding.aid import SETTINGS

    return list(SETTINGS)


@hookimpl
def fupin_migrations() -> list[Path]:
    """The alembic branch ``funding`` (depends on ``core``)."""
    return [Path(__file__).parent / "migrations"]


@hookimpl
def fupin_importers() -> list[Any]:
    """``funding.disbursements`` (signed aid lists), ``funding.donations``, ``funding.projects``."""
    from fupin_funding.importers import import_kinds

    return import_kinds()


@hookimpl
def fupin_targets() -> list[Any]:
    """The targets of C02, C05, C18, C19, C28 to C31."""
    from fupin_funding.targets import target_specs

    return target_specs()


@hookimpl
def fupin_report_sections(store: Any, plan: Any, year: int, as_of: dt.date) -> list[Any]:
    """The year's money: budget, foundation, projects, recurring aid."""
    from fupin_funding.report import sections

    return sections(store, plan, year, as_of)


@hookimpl
def fupin_simulate(store: Any, plan: Any, seed: int) -> None:
    """Five years of budget, donations, projects and aid for ``fupin demo``, with honest shortfalls."""
    from fupin_funding.simulate import simulate

    simulate(store, plan, seed)


@hookimpl
def fupin_register_commands(cli: Any) -> None:
    """Add ``fupin funding ...``."""
    from fupin_funding.commands import funding

    cli.add_command(funding)
