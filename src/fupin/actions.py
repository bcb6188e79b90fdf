"""The support-action ledger: one record type for all help given.

Every stream of the plan (teacher training, technique courses, study aid,
counselling ...) records its help as a :class:`SupportAction` of a kind that a
plugin contributes through ``fupin_action_kinds``. The kind names an attrs class
for the action's ``details``; the common fields (dates, plan, unit, helpers,
beneficiaries, quantities, amount) are the same for every kind, so reports and
checks can count across streams.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from fupin.errors import Problem, ValidationError
from fupin.serial import Serialisable

if TYPE_CHECKING:
    from fupin.vocab import Vocabulary

#: ``plugin.kind``: lower-case words joined by underscores, one dot.
KIND_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")

#: What a support action can help: a household (by 户编号), a person (by ID
#: number), a unit such as a school (by unit code) or a whole village (by area code).
BENEFICIARY_TYPES = ("household", "person", "unit", "village")


def _texts(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _check_kind_name(_inst: object, _attr: attrs.Attribute[Any], value: str) -> None:
    if not KIND_NAME.match(value):
        raise ValidationError.of(
            "kind", "类型名应为 插件.名称 / a kind is named plugin.name (lower case)", value
        )


@attrs.frozen
class ActionKind:
    """A kind of support action, contributed by a plugin.

    Attributes:
        name: namespaced by the plugin, e.g. ``"education.teacher_training"``.
        label_zh: the Chinese label shown in reports.
        label_en: the English label.
        details: the attrs class that validates an action's ``details``; ``None``
            means the kind takes no details.
        beneficiary_types: which beneficiary types the kind accepts.
        quantities: names of the quantities it records (``"hours"``, ``"people"``).
        description: one paragraph for ``fupin plugins`` and the docs.
    """

    name: str = attrs.field(validator=_check_kind_name)
    label_zh: str
    label_en: str
    details: type | None = attrs.field(default=None)
    beneficiary_types: tuple[str, ...] = attrs.field(default=BENEFICIARY_TYPES, converter=_texts)
    quantities: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    description: str = ""

    @details.validator
    def _details_is_attrs(self, _attr: attrs.Attribute[Any], value: type | None) -> None:
        if value is not None and not attrs.has(value):
            raise TypeError(f"ActionKind {self.name}: details must be an attrs class, got {value!r}")

    @property
    def plugin(self) -> str:
        """The namespace before the dot: the contributing plugin's name."""
        return self.name.split(".", 1)[0]


def _stripped(value: object) -> str:
    return str(value).strip()


@attrs.frozen
class Beneficiary(Serialisable):
    """Who or what an action helped: ``type`` is one of BENEFICIARY_TYPES, ``ref`` its key."""

    type: str = attrs.field()
    ref: str = attrs.field(converter=_stripped)

    @type.validator
    def _known(self, _attr: attrs.Attribute[Any], value: str) -> None:
        if value not in BENEFICIARY_TYPES:
            raise ValidationError.of(
                "beneficiaries", f"受益对象类型应为 / type must be one of {', '.join(BENEFICIARY_TYPES)}", value
            )

    @ref.validator
    def _not_empty(self, _attr: attrs.Attribute[Any], value: str) -> None:
        if not value:
            raise ValidationError.of("beneficiaries", "受益对象编号为空 / empty reference", value)

    @classmethod
    def parse(cls, text: str) -> Beneficiary:
        """Parse ``"household:5303261062000001"`` (the CLI and file form)."""
        kind, sep, ref = str(text).partition(":")
        if not sep:
            raise ValidationError.of(
                "beneficiaries", "应写作 类型:编号 / write it as TYPE:REF, e.g. household:H001", text
            )
        return cls(kind.strip(), ref)

    def __str__(self) -> str:
        return f"{self.type}:{self.ref}"


def _beneficiaries(value: Iterable[Beneficiary]) -> tuple[Beneficiary, ...]:
    return tuple(value)


def _to_quantities(value: Mapping[str, Any] | None) -> dict[str, Decimal]:
    return {str(k): Decimal(str(v)) for k, v in (value or {}).items()}


@attrs.define(slots=False)
class SupportAction(Serialisable):
    """One act of help given, as registered by a unit.

    Build it with :meth:`new`, which validates the common fields and the
    kind's details; the store validates again before writing and stores nothing
    if any check fails.

    Attributes:
        kind: an :class:`ActionKind` name.
        start: the first day of the action (ISO 8601 date).
        end: the last day; equal to ``start`` for a one-day action.
        unit: code of the registering unit.
        plan: name of the plan the action counts for, if any.
        helpers: codes of the cadres who gave the help.
        beneficiaries: who was helped.
        quantities: measured amounts other than money (``hours``, ``people`` ...).
        amount_fen: money given, in integer fen (1 yuan = 100 fen).
        details: an instance of the kind's details class, or ``None``.
        title: a short description for ledgers.
        ref: the registering unit's own number for the action (台账编号); unique,
            it makes re-imports of an action file idempotent.
        id: the database id, once stored.
    """

    kind: str = attrs.field(validator=_check_kind_name)
    start: dt.date
    end: dt.date
    unit: str
    plan: str | None = None
    helpers: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    beneficiaries: tuple[Beneficiary, ...] = attrs.field(default=(), converter=_beneficiaries)
    quantities: dict[str, Decimal] = attrs.field(factory=dict, converter=_to_quantities)
    amount_fen: int = 0
    details: Any = None
    title: str = ""
    ref: str | None = None
    id: int | None = None

    def __attrs_post_init__(self) -> None:
        problems = []
        if not isinstance(self.start, dt.date) or not isinstance(self.end, dt.date):
            problems.append(Problem("start", "日期应为 ISO 8601 / dates must be ISO 8601 dates"))
        elif self.end < self.start:
            problems.append(Problem("end", "结束日期早于开始日期 / ends before it starts", self.end.isoformat()))
        if not self.unit or not str(self.unit).strip():
            problems.append(Problem("unit", "登记单位必填 / the registering unit is required"))
        if isinstance(self.amount_fen, bool) or not isinstance(self.amount_fen, int):
            problems.append(
                Problem("amount_fen", "金额应为整数分 / money is an integer number of fen", self.amount_fen)
            )
        elif self.amount_fen < 0:
            problems.append(Problem("amount_fen", "金额不能为负 / must not be negative", self.amount_fen))
        for name, qty in self.quantities.items():
            if qty < 0:
                problems.append(Problem(f"quantities.{name}", "数量不能为负 / must not be negative", str(qty)))
        if problems:
            raise ValidationError(problems, record=f"support action {self.kind}")

    @classmethod
    def new(
        cls,
        kind: ActionKind,
        *,
        start: dt.date | str,
        end: dt.date | str | None = None,
        unit: str,
        details: Mapping[str, Any] | Any = None,
        beneficiaries: Iterable[Beneficiary | str] = (),
        vocab: Vocabulary | None = None,
        **fields: Any,
    ) -> SupportAction:
        """Build an action of ``kind``, structuring ``details`` with the kind's class.

        ``vocab`` is the store's vocabulary: the details class's converters and
        validators see it as :func:`fupin.vocab.current_vocabulary` (a province's
        extension of a plugin's list is then accepted).

        ``start``/``end`` may be ISO strings; ``beneficiaries`` may be
        :class:`Beneficiary` objects or ``"type:ref"`` strings. Raises
        ValidationError naming every bad field.
        """
        from fupin.convert import structure

        start_d = _date("start", start)
        end_d = _date("end", end) if end is not None and end != "" else start_d
        bens = tuple(b if isinstance(b, Beneficiary) else Beneficiary.parse(b) for b in beneficiaries)
        if kind.details is None:
            if details not in (None, {}, ""):
                raise ValidationError.of("details", f"类型 {kind.name} 不接受详情 / takes no details")
            parsed = None
        elif isinstance(details, kind.details):
            parsed = details
        else:
            parsed = structure(details or {}, kind.details, field="details", vocab=vocab)
        for b in bens:
            if b.type not in kind.beneficiary_types:
                raise ValidationError.of(
                    "beneficiaries",
                    f"类型 {kind.name} 不接受 / does not accept beneficiaries of type {b.type}",
                    str(b),
                )
        unknown = set(fields.get("quantities") or {}) - set(kind.quantities)
        if unknown:
            raise ValidationError.of(
                "quantities",
                f"类型 {kind.name} 的数量只能是 / quantities of this kind are: {', '.join(kind.quantities) or '-'}",
                ", ".join(sorted(unknown)),
            )
        return cls(kind=kind.name, start=start_d, end=end_d, unit=unit, details=parsed, beneficiaries=bens, **fields)


def _date(field: str, value: dt.date | str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError.of(field, "不是 ISO 8601 日期 / not an ISO 8601 date (YYYY-MM-DD)", value) from None


#: What each reference of an action names, and the message when it names nothing.
REFERENCES = {
    "unit": "单位未登记 / unit not registered",
    "plan": "方案未载入 / plan not loaded (fupin init --plan NAME, or fupin plan load)",
    "cadre": "干部未登记 / cadre not registered",
    "household": "household 未登记 / not registered",
    "person": "person 未登记 / not registered",
    "village": "village 未登记 / not registered",
}


def reference_problems(action: SupportAction, known: Callable[[str, set[str]], set[str]]) -> list[Problem]:
    """Problems with what an action refers to: its unit, plan, helpers and beneficiaries.

    Args:
        action: the action.
        known: ``known(what, keys)`` returns the subset of ``keys`` that exist,
            ``what`` being a key of :data:`REFERENCES`. The store answers it
            with queries; the importer from keys it looked up in bulk.
    """
    wanted: dict[str, set[str]] = {"unit": {action.unit}, "cadre": set(action.helpers)}
    if action.plan:
        wanted["plan"] = {action.plan}
    for b in action.beneficiaries:
        wanted.setdefault(b.type if b.type != "unit" else "unit", set()).add(b.ref)
    found = {what: known(what, keys) for what, keys in wanted.items() if keys}
    problems = []
    if action.unit not in found["unit"]:
        problems.append(Problem("unit", REFERENCES["unit"], action.unit))
    if action.plan and action.plan not in found["plan"]:
        problems.append(Problem("plan", REFERENCES["plan"], action.plan))
    problems += [Problem("helpers", REFERENCES["cadre"], c) for c in action.helpers if c not in found["cadre"]]
    problems += [
        Problem("beneficiaries", REFERENCES[b.type], b.ref) for b in action.beneficiaries if b.ref not in found[b.type]
    ]
    return problems


def action_row(a: SupportAction) -> dict[str, Any]:
    """The ``support_actions`` row of an action (helpers and beneficiaries live in their own tables)."""
    from fupin.convert import unstructure

    return {
        "kind": a.kind,
        "start_date": a.start,
        "end_date": a.end,
        "unit_code": a.unit,
        "plan_name": a.plan,
        "title": a.title,
        "ref": a.ref,
        "amount_fen": a.amount_fen,
        "quantities": {k: str(v) for k, v in a.quantities.items()},
        "details": None if a.details is None else unstructure(a.details),
    }
