"""Commitment targets and the results of checking them.

A plan's commitment names a *target* (``core.budget_per_year``,
``education.trainees_per_school`` ...) and gives it parameters. Plugins
contribute targets through ``fupin_targets``; evaluating one against the store
for a year gives a :class:`CheckResult`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from fupin.plans import Commitment


class Status(enum.Enum):
    """The outcome of checking one commitment for one period."""

    MET = "met"
    NOT_MET = "not_met"
    NOT_YET_DUE = "not_yet_due"
    NO_DATA = "no_data"

    @property
    def label_zh(self) -> str:
        return {"met": "已达成", "not_met": "未达成", "not_yet_due": "未到期", "no_data": "无数据"}[self.value]


@attrs.frozen
class CheckResult:
    """What a target found: the status, the figures and the records behind them.

    Attributes:
        commitment: the commitment id (``"C02"``).
        status: met / not met / not yet due / no data.
        required: the figure the plan asks for, as text (``">= 40000000 fen"``).
        actual: the figure found, as text.
        evidence: keys of the records that prove it (``"action:17"``, ``"household:H001"``).
        note: anything a reader must know (an inconsistency, a missing table).
    """

    commitment: str
    status: Status
    required: str = ""
    actual: str = ""
    evidence: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    note: str = ""


#: ``evaluate(store, commitment, year)`` -> CheckResult
Evaluator = Callable[[Any, "Commitment", int], CheckResult]


@attrs.frozen
class TargetSpec:
    """A measurable target kind a plan's commitments can name.

    Attributes:
        name: namespaced by the plugin, e.g. ``"funding.study_aid"``.
        label_zh: Chinese label.
        label_en: English label.
        evaluate: ``evaluate(store, commitment, year) -> CheckResult``; reads the
            commitment's ``params`` and queries the store.
        params: names of the parameters it reads from the plan, for documentation
            and for plan validation.
    """

    name: str
    label_zh: str
    label_en: str
    evaluate: Evaluator
    params: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    @property
    def plugin(self) -> str:
        """The namespace before the dot."""
        return self.name.split(".", 1)[0]
