"""Commitment targets, the check of a plan for a year, and its results.

A plan's commitment names a *target* (``core.meetings_per_year``,
``education.trainees_per_school`` ...) and gives it parameters. The core and
plugins contribute targets through ``fupin_targets``; :func:`check_plan`
evaluates every commitment of a plan for one year with a :class:`CheckContext`
and returns one :class:`CheckResult` each.

Statuses mean the same for every target (:meth:`CheckContext.judge`):

- **met**: the figure reaches what the plan requires, and records prove it;
- **not met**: it does not, and the deadline has passed;
- **not yet due**: it does not yet, and the deadline is still ahead;
- **no data**: nothing of the kind is recorded for the plan at all, or no
  target can evaluate the commitment (its plugin is not installed), or a met
  figure has no record behind it. A commitment is never reported met without
  the records that prove it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from fupin.errors import ValidationError

if TYPE_CHECKING:
    from fupin.plans import Commitment, Plan


class Status(enum.Enum):
    """The outcome of checking one commitment for one period."""

    MET = "met"
    NOT_MET = "not_met"
    NOT_YET_DUE = "not_due"
    NO_DATA = "no_data"

    @property
    def label_zh(self) -> str:
        """The status in Chinese."""
        return {"met": "已达成", "not_met": "未达成", "not_due": "未到期", "no_data": "无数据"}[self.value]

    @property
    def label_en(self) -> str:
        """The status in English."""
        return {"met": "met", "not_met": "not met", "not_due": "not yet due", "no_data": "no data"}[self.value]

    def label(self, lang: str = "zh") -> str:
        """The status in ``lang``."""
        return self.label_en if lang == "en" else self.label_zh


@attrs.frozen
class CheckResult:
    """What a target found: the status, the figures and the records behind them.

    Attributes:
        commitment: the commitment id (``"C02"``).
        status: met / not met / not yet due / no data.
        required: the figure the plan asks for, as text (``">= 40000000 fen"``).
        actual: the figure found, as text.
        evidence: keys of the records that prove it (``"action:QJNU-2016-01"``,
            ``"visit:V-0001"``, ``"pairing:17"``): the record's table and its number.
        note: anything a reader must know (an inconsistency, a missing plugin).
        target: the target that evaluated it; ``plugin`` is its namespace.
        figures: the numbers behind ``required``/``actual``, JSON-ready, for
            reports and machines (``{"required": 2, "actual": 3}``).
    """

    commitment: str
    status: Status
    required: str = ""
    actual: str = ""
    evidence: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    note: str = ""
    target: str = ""
    figures: dict[str, Any] = attrs.field(factory=dict, hash=False)

    @property
    def plugin(self) -> str:
        """The plugin that provides the target (``core`` for the core's own)."""
        return self.target.split(".", 1)[0] if self.target else ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: id, status, required, actual, evidence, plugin, target, note, figures."""
        return {
            "id": self.commitment,
            "status": self.status.value,
            "required": self.required,
            "actual": self.actual,
            "evidence": list(self.evidence),
            "plugin": self.plugin,
            "target": self.target,
            "note": self.note,
            "figures": self.figures,
        }


#: ``evaluate(ctx)`` -> CheckResult
Evaluator = Callable[["CheckContext"], CheckResult]


@attrs.frozen
class TargetSpec:
    """A measurable target kind a plan's commitments can name.

    Attributes:
        name: namespaced by the plugin, e.g. ``"funding.study_aid"``.
        label_zh: Chinese label.
        label_en: English label.
        evaluate: ``evaluate(ctx) -> CheckResult`` with ctx a
            :class:`CheckContext`: it reads ``ctx.params`` and queries
            ``ctx.conn``; :meth:`CheckContext.judge` gives the status.
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


@attrs.define
class CheckContext:
    """What a target needs to evaluate one commitment for one year.

    Attributes:
        store: the store (its ``vocab``, ``hooks``, ``access``).
        plan: the plan being checked.
        commitment: the commitment; ``params`` is a shortcut to its parameters.
        year: the calendar year checked.
        as_of: the day the check is made for (default today): deadlines after
            it are not yet due.
        conn: an open connection to read with (one snapshot for the whole check).
    """

    store: Any
    plan: Plan
    commitment: Commitment
    year: int
    as_of: dt.date
    conn: sa.Connection
    cache: dict[str, Any] = attrs.field(factory=dict)

    @property
    def params(self) -> Any:
        """The commitment's parameters."""
        return self.commitment.params

    @property
    def year_start(self) -> dt.date:
        """1 January of the year checked (or the plan's first day, if later)."""
        return max(dt.date(self.year, 1, 1), self.plan.period_start)

    @property
    def year_end(self) -> dt.date:
        """31 December of the year checked (or the plan's last day, if earlier)."""
        return min(dt.date(self.year, 12, 31), self.plan.period_end)

    def villages(self) -> sa.ColumnElement[bool]:
        """SQL condition on ``households``: in one of the plan's villages."""
        from fupin.queries import plan_villages_condition

        return plan_villages_condition(self.plan)

    @property
    def check_day(self) -> dt.date:
        """The day point-in-time figures (pairings held, household status) are read on: the year's end, or ``as_of`` if earlier."""
        return min(self.year_end, self.as_of)

    def units(self) -> list[str]:
        """The plan's helping unit and every unit below it, sorted (read once per check)."""
        if "units" not in self.cache:
            from fupin.queries import plan_units

            self.cache["units"] = plan_units(self.conn, self.plan)
        return self.cache["units"]

    def actions(self, kind: str, start: dt.date | None = None, end: dt.date | None = None) -> list[Any]:
        """Support actions of ``kind`` for the plan (by its name, or registered by one of its units) touching
        [start, end]: rows of ``id, ref, start_date, end_date, details``, in date order."""
        from fupin.queries import of_plan
        from fupin.storage import schema as S

        a = S.support_actions
        query = sa.select(a.c.id, a.c.ref, a.c.start_date, a.c.end_date, a.c.details).where(a.c.kind == kind, of_plan(a, self.plan, self.units()))
        if start is not None:
            query = query.where(a.c.end_date >= start)
        if end is not None:
            query = query.where(a.c.start_date <= end)
        return self.conn.execute(query.order_by(a.c.start_date, a.c.id)).all()

    def result(self, status: Status, required: str, actual: str, evidence: Any = (), note: str = "", **figures: Any) -> CheckResult:
        """A result for this commitment."""
        return CheckResult(self.commitment.id, status, required, actual, tuple(evidence), note, self.commitment.target, figures)

    def judge(
        self,
        ok: bool,
        required: str,
        actual: str,
        evidence: Any = (),
        *,
        deadline: dt.date | None = None,
        anything_recorded: bool = True,
        note: str = "",
        **figures: Any,
    ) -> CheckResult:
        """The status by the one rule for every target (see the module docstring).

        Args:
            ok: whether the figure reaches what the plan requires.
            deadline: when it must be reached (default: the end of the year checked).
            anything_recorded: False when no record of the kind exists for the
                plan at all: the result is *no data*, not *not met*.
        """
        evidence = tuple(evidence)
        deadline = deadline or self.year_end
        if ok and evidence:
            status = Status.MET
        elif ok:
            status, note = Status.NO_DATA, _join(note, "没有证明记录 / no records prove it")
        elif not anything_recorded:
            status = Status.NO_DATA
        elif self.as_of <= deadline:  # the deadline day itself is still open
            status = Status.NOT_YET_DUE
        else:
            status = Status.NOT_MET
        return self.result(status, required, actual, evidence, note, **figures)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


#: Targets that name a commitment software cannot measure: reported, not checked.
NOT_MEASURABLE = "core.not_measurable"


def check_plan(store: Any, plan: Plan, year: int, *, as_of: dt.date | None = None) -> list[CheckResult]:
    """Evaluate every measurable commitment of ``plan`` for ``year``.

    Needs ``aggregates.read``: figures count every record of the plan whatever
    the actor's scope (the evidence names records by their numbers only). A
    commitment whose target no installed plugin provides is *no data*, with a
    note naming the plugin; a target that fails is *no data* with the error.
    """
    store.access.require("aggregates.read", "检查 / check")
    years = plan.years()
    if year not in years:
        raise ValidationError.of("year", f"不在方案期内 ({years[0]}–{years[-1]}) / outside the plan period", year)
    as_of = as_of or dt.date.today()
    targets = store.hooks.targets()
    results = []
    cache: dict[str, Any] = {}
    with store.reading("aggregates.read") as conn:
        for commitment in plan.commitments:
            if commitment.target == NOT_MEASURABLE:
                continue
            spec = targets.get(commitment.target)
            if spec is None:
                plugin = commitment.target.split(".", 1)[0]
                note = f"插件 {plugin} 未安装, 无法检查 / no installed plugin provides this target (fupin-{plugin})"
                results.append(CheckResult(commitment.id, Status.NO_DATA, note=note, target=commitment.target))
                continue
            ctx = CheckContext(store, plan, commitment, year, as_of, conn, cache)
            try:
                result = spec.evaluate(ctx)
            except Exception as exc:  # one broken target must not hide the others' results
                if spec.plugin == "core":
                    raise
                note = f"检查出错 / the target failed: {type(exc).__name__}: {exc}"
                result = CheckResult(commitment.id, Status.NO_DATA, note=note, target=commitment.target)
            if result.status is Status.MET and not result.evidence:
                result = attrs.evolve(result, status=Status.NO_DATA, note=_join(result.note, "没有证明记录 / no records prove it"))
            results.append(attrs.evolve(result, commitment=commitment.id, target=commitment.target))
    return results


def grouped_notes(results: list[CheckResult]) -> list[tuple[list[str], str]]:
    """The notes of results not met, each once with the commitments it applies to (a missing plugin's, say)."""
    grouped: dict[str, list[str]] = {}
    for r in results:
        if r.note and r.status is not Status.MET:
            grouped.setdefault(r.note, []).append(r.commitment)
    return [(ids, note) for note, ids in grouped.items()]
