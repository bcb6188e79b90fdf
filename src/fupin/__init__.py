"""fupin: targeted poverty alleviation (精准扶贫) as data and code.

This module is the public API. Plugins and embedding platforms import from here;
everything else is internal and may change.

    import fupin
    pm = fupin.get_plugin_manager()
    with fupin.Store.open("sqlite:///tuomu.db", pm=pm, actor=fupin.Actor("QJNU", "clerk")) as store:
        store.init()
        print(store.household_card("530326106200010001").household.head_name)

The platform API is :class:`Store`'s methods (``import_file``, ``export``,
``worklist``, ``check``, ``report``, pairing, exits, dedup, ``search_people``,
``household_card`` ...) with :func:`render_report`; results are attrs classes
with ``to_dict()``; errors are :class:`FupinError` subclasses with an
``exit_code``. See docs/embedding.md.
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

#: Marker for plugin hook implementations: ``@fupin.hookimpl def fupin_action_kinds(): ...``
hookimpl = pluggy.HookimplMarker("fupin")

#: The public modules: what platforms and plugins may import. Everything else is internal.
PUBLIC_MODULES = ("fupin", "fupin.ext", "fupin.cli", "fupin.testing")

from fupin.access import AccessDenied, IdentityError, User  # noqa: E402
from fupin.actions import ActionKind, Beneficiary, SupportAction  # noqa: E402
from fupin.checks import CheckContext, CheckResult, Status, TargetSpec, check_plan  # noqa: E402
from fupin.errors import (  # noqa: E402
    FupinError,
    NotFound,
    PlanError,
    PluginError,
    Problem,
    StaleRecord,
    StorageError,
    ValidationError,
    WriteFailed,
)
from fupin.hooks import Hooks, validates  # noqa: E402
from fupin.idnumber import IdNumber  # noqa: E402
from fupin.model import (  # noqa: E402
    Area,
    Cadre,
    Case,
    DiaryEntry,
    Household,
    Pairing,
    Person,
    StatusChange,
    Tag,
    Unit,
    VillageProfile,
    Visit,
)
from fupin.dedup import Candidate, MergeResult  # noqa: E402
from fupin.exits import Assessment  # noqa: E402
from fupin.io.engine import FileResult, ImportResult, RowError  # noqa: E402
from fupin.io.files import FileTooLarge, ReadLimits, UnreadableFile  # noqa: E402
from fupin.overview import Overview, PlanSummary, render_overview, render_overview_bytes  # noqa: E402
from fupin.pairing import AutoResult, PairingRow, TransferResult  # noqa: E402
from fupin.plans import Commitment, Plan, load_plan, packaged_plans  # noqa: E402
from fupin.plugins import get_plugin_manager, list_plugins, plugin_failures  # noqa: E402
from fupin.report import ReportSection, YearlyReport, render_household_card, render_report, render_report_bytes  # noqa: E402
from fupin.search import HouseholdHit, Page, PersonHit  # noqa: E402
from fupin.store import Actor, AuditEntry, CardMember, ExportResult, HouseholdCard, ImportBatch, Store  # noqa: E402
from fupin.visits import DueItem  # noqa: E402
from fupin.audit import AuditBreak, AuditHead, AuditVerdict  # noqa: E402
from fupin.demo import DemoSummary  # noqa: E402
from fupin.failures import INTERNAL_ERROR, describe_failure, describe_os_error  # noqa: E402
from fupin.simulate import PlayResult  # noqa: E402
from fupin.synth import Synthesizer  # noqa: E402
from fupin.text import yuan_to_fen  # noqa: E402
from fupin.tools import (  # noqa: E402
    PlanFinding,
    build_demo,
    describe_import_kinds,
    is_workbook,
    lint_plan,
    play_demo,
    render_demo_summary,
    render_findings,
    render_plan,
    render_played,
    validate_plan,
    write_template,
)
from fupin.vocab import Term, Vocabulary  # noqa: E402

__all__ = [
    "AccessDenied",
    "ActionKind",
    "Actor",
    "Area",
    "Assessment",
    "AuditBreak",
    "AuditEntry",
    "AuditHead",
    "AuditVerdict",
    "AutoResult",
    "Beneficiary",
    "Cadre",
    "Candidate",
    "CardMember",
    "Case",
    "CheckContext",
    "CheckResult",
    "Commitment",
    "DemoSummary",
    "DiaryEntry",
    "DueItem",
    "ExportResult",
    "FileResult",
    "FileTooLarge",
    "FupinError",
    "Hooks",
    "Household",
    "HouseholdCard",
    "HouseholdHit",
    "INTERNAL_ERROR",
    "IdNumber",
    "IdentityError",
    "ImportBatch",
    "ImportResult",
    "MergeResult",
    "NotFound",
    "Overview",
    "PUBLIC_MODULES",
    "Page",
    "Pairing",
    "PairingRow",
    "Person",
    "PersonHit",
    "Plan",
    "PlanError",
    "PlanFinding",
    "PlanSummary",
    "PlayResult",
    "PluginError",
    "Problem",
    "ReadLimits",
    "ReportSection",
    "RowError",
    "StaleRecord",
    "Status",
    "StatusChange",
    "StorageError",
    "Store",
    "SupportAction",
    "Synthesizer",
    "Tag",
    "TargetSpec",
    "Term",
    "TransferResult",
    "Unit",
    "UnreadableFile",
    "User",
    "ValidationError",
    "VillageProfile",
    "Visit",
    "Vocabulary",
    "WriteFailed",
    "YearlyReport",
    "__version__",
    "build_demo",
    "check_plan",
    "describe_failure",
    "describe_import_kinds",
    "describe_os_error",
    "get_plugin_manager",
    "hookimpl",
    "is_workbook",
    "lint_plan",
    "list_plugins",
    "load_plan",
    "packaged_plans",
    "play_demo",
    "plugin_failures",
    "render_demo_summary",
    "render_findings",
    "render_household_card",
    "render_overview",
    "render_overview_bytes",
    "render_plan",
    "render_played",
    "render_report",
    "render_report_bytes",
    "validate_plan",
    "validates",
    "write_template",
    "yuan_to_fen",
]
