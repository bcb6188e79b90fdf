"""The public face for plugin authors: everything a fupin plugin may import besides ``fupin``.

A plugin imports from ``fupin`` (the domain classes, errors, the store), from this module
(what writing a plugin needs), from ``fupin.cli`` (helpers for its commands) and, in its
tests, from ``fupin.testing``. Every other module of fupin is internal and may change;
a test of fupin fails when a first-party plugin imports anything else.

Hook implementations:
    ``hookimpl`` marks a hook implementation; ``validates`` marks a ``fupin_validate_record``
    implementation with the record types it checks.

Action kinds and records:
    ``ActionKind`` declares a kind of support action and its details class;
    ``SupportAction`` is one record of the ledger; ``Vocabulary`` the store's controlled
    vocabularies (what details validators check codes against); ``current_vocabulary``
    the vocabulary of the store at work, inside a validator or converter.

Targets and reports:
    ``TargetSpec`` declares a target; ``Param`` one of its plan parameters;
    ``CheckContext`` is what a target's function gets; ``CheckResult`` and ``Status``
    what it returns; ``ReportSection`` one section of the yearly report, placed in
    one of ``REPORT_PARTS``; ``Chart`` and ``Series`` a chart of a section, as data.

Querying a plan's own records (SQL pieces over the store's tables):
    ``own_records`` (registered by the plan's units and naming the plan), ``plan_units``,
    ``unit_tree``, ``plan_villages_condition``, ``status_on`` (household status on a day),
    ``count_if``, ``joined`` with ``split`` (evidence keys as one string), ``key``,
    ``days_between``, ``POOR_STATUSES``.

Import and export kinds:
    ``ImportKind`` (base), ``ModelKind`` (rows to attrs records), ``Column``, ``Reference``,
    ``ActionsKind`` and ``actions_of`` (support actions of one kind), ``write_table``
    (CSV or XLSX to a path or a binary stream).

Permissions:
    ``User``, ``Access`` (what one actor may do, as SQL conditions), ``AccessDenied``,
    ``Permission`` (what a plugin declares with ``fupin_permissions``).

Text and personal data:
    ``table`` (CJK-aligned plain-text table), ``pad``, ``display_width``, ``yuan``,
    ``mask_id``, ``mask_phone``, ``mask_account``.

Errors and audit:
    ``Problem``, ``ValidationError``, ``record_audit`` (audit entries a plugin's migration
    writes), ``make_id_number`` (valid ID numbers for test data).
"""

from __future__ import annotations

from fupin import hookimpl
from fupin.access import Access, AccessDenied, Permission, User
from fupin.actions import ActionKind, SupportAction
from fupin.audit import record as record_audit
from fupin.checks import CheckContext, CheckResult, Param, Status, TargetSpec
from fupin.errors import Problem, ValidationError
from fupin.hooks import validates
from fupin.idnumber import make_id_number
from fupin.io.actions import ActionsKind, actions_of
from fupin.io.files import write_table
from fupin.io.kinds import Column, ImportKind, ModelKind, Reference
from fupin.pairing import POOR_STATUSES
from fupin.queries import (
    count_if,
    days_between,
    joined,
    key,
    own_records,
    plan_units,
    plan_villages_condition,
    split,
    status_on,
    unit_tree,
)
from fupin.charts import Chart, Series
from fupin.report import REPORT_PARTS, ReportSection
from fupin.text import display_width, mask_account, mask_id, mask_phone, pad, table, yuan
from fupin.vocab import Vocabulary, current_vocabulary

__all__ = [
    "POOR_STATUSES",
    "Access",
    "AccessDenied",
    "ActionKind",
    "ActionsKind",
    "Chart",
    "CheckContext",
    "CheckResult",
    "Column",
    "ImportKind",
    "ModelKind",
    "Param",
    "Permission",
    "Problem",
    "Reference",
    "REPORT_PARTS",
    "ReportSection",
    "Series",
    "Status",
    "SupportAction",
    "TargetSpec",
    "User",
    "ValidationError",
    "Vocabulary",
    "actions_of",
    "count_if",
    "current_vocabulary",
    "days_between",
    "display_width",
    "hookimpl",
    "joined",
    "key",
    "make_id_number",
    "mask_account",
    "mask_id",
    "mask_phone",
    "own_records",
    "pad",
    "plan_units",
    "plan_villages_condition",
    "record_audit",
    "split",
    "status_on",
    "table",
    "unit_tree",
    "validates",
    "write_table",
    "yuan",
]
