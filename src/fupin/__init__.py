"""fupin: targeted poverty alleviation (精准扶贫) as data and code.

This module is the public API. Plugins and embedding platforms import from here;
everything else is internal and may change.

    import fupin
    pm = fupin.get_plugin_manager()
    with fupin.Store.open("sqlite:///tuomu.db", pm=pm, actor=fupin.Actor("QJNU", "clerk")) as store:
        store.init()
        print(store.household_card("530326106200010001").household.head_name)
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

#: Marker for plugin hook implementations: ``@fupin.hookimpl def fupin_action_kinds(): ...``
hookimpl = pluggy.HookimplMarker("fupin")

#: The public modules: what platforms and plugins may import. Everything else is internal.
PUBLIC_MODULES = ("fupin", "fupin.ext", "fupin.cli", "fupin.testing")

from fupin.access import AccessDenied  # noqa: E402
from fupin.actions import ActionKind, Beneficiary, SupportAction  # noqa: E402
from fupin.checks import CheckContext, CheckResult, Status, TargetSpec, check_plan  # noqa: E402
from fupin.errors import (  # noqa: E402
    FupinError,
    NotFound,
    PlanError,
    PluginError,
    Problem,
    StorageError,
    ValidationError,
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
from fupin.plans import Commitment, Plan, load_plan, packaged_plans  # noqa: E402
from fupin.plugins import get_plugin_manager, list_plugins, plugin_failures  # noqa: E402
from fupin.report import ReportSection  # noqa: E402
from fupin.store import Actor, AuditEntry, HouseholdCard, Store  # noqa: E402
from fupin.vocab import Term, Vocabulary  # noqa: E402

__all__ = [
    "PUBLIC_MODULES",
    "AccessDenied",
    "ActionKind",
    "Actor",
    "Area",
    "AuditEntry",
    "Beneficiary",
    "Cadre",
    "Case",
    "CheckContext",
    "CheckResult",
    "Commitment",
    "DiaryEntry",
    "FupinError",
    "Hooks",
    "Household",
    "HouseholdCard",
    "IdNumber",
    "NotFound",
    "Pairing",
    "Person",
    "Plan",
    "PlanError",
    "PluginError",
    "Problem",
    "ReportSection",
    "StatusChange",
    "Status",
    "StorageError",
    "Store",
    "SupportAction",
    "Tag",
    "TargetSpec",
    "Term",
    "Unit",
    "ValidationError",
    "VillageProfile",
    "Visit",
    "Vocabulary",
    "__version__",
    "check_plan",
    "get_plugin_manager",
    "hookimpl",
    "list_plugins",
    "load_plan",
    "packaged_plans",
    "plugin_failures",
    "validates",
]
