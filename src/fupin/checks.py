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
  the records that prove it;
- **not measurable**: the plan names the commitment ``core.not_measurable``
  (an attitude, a principle): it is listed with its text, never checked and
  never dropped.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeGuard

import attrs
import sqlalchemy as sa

from fupin.errors import ValidationError
from fupin.serial import Serialisable, plain

if TYPE_CHECKING:
    from fupin.plans import Commitment, Plan
    from fupin.store import Store


def _texts(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _param_tuple(value: Iterable[Param]) -> tuple[Param, ...]:
    return tuple(value)


class Status(enum.Enum):
    """The outcome of checking one commitment for one period."""

    MET = "met"
    NOT_MET = "not_met"
    NOT_YET_DUE = "not_due"
    NO_DATA = "no_data"
    NOT_MEASURABLE = "not_measurable"

    @property
    def label_zh(self) -> str:
        """The status in Chinese."""
        return {"met": "已达成", "not_met": "未达成", "not_due": "未到期", "no_data": "无数据", "not_measurable": "不可量化"}[self.value]

    @property
    def label_en(self) -> str:
        """The status in English."""
        return {"met": "met", "not_met": "not met", "not_due": "not yet due", "no_data": "no data", "not_measurable": "not measurable"}[self.value]

    def label(self, lang: str = "zh") -> str:
        """The status in ``lang``."""
        return self.label_en if lang == "en" else self.label_zh


@attrs.frozen
class CheckResult(Serialisable):
    """What a target found: the status, the figures and the records behind them.

    Attributes:
        commitment: the commitment id (``"C02"``).
        status: met / not met / not yet due / no data.
        required: the figure the plan asks for, in Chinese (``"至少 2 次研究"``).
        actual: the figure found, in Chinese (``"3 次"``).
        evidence: keys of the records that prove it (``"action:QJNU-2016-01"``,
            ``"visit:V-0001"``, ``"pairing:17"``): the record's table and its number.
        note: anything a reader must know (an inconsistency, a missing plugin), in Chinese.
        target: the target that evaluated it; ``plugin`` is its namespace.
        figures: the numbers behind ``required``/``actual``, JSON-ready, for
            reports and machines (``{"required": 2, "actual": 3}``).
        required_en: what the plan asks for, in English (``"at least 2 leadership meetings"``).
        actual_en: the figure found, in English.
        note_en: the note in English.

    Each text is one language only, with labels from the vocabularies (never a code): a reader's
    document takes the field of its language (:meth:`text`), ``fupin check`` shows both.
    """

    commitment: str
    status: Status
    required: str = ""
    actual: str = ""
    evidence: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    note: str = ""
    target: str = ""
    figures: dict[str, Any] = attrs.field(factory=dict, hash=False)
    required_en: str = ""
    actual_en: str = ""
    note_en: str = ""

    # to_dict(): id, status, required, actual, evidence, note, target, figures, required_en, actual_en, note_en, plugin
    __dict_names__ = {"commitment": "id"}
    __dict_extra__ = ("plugin",)

    @property
    def plugin(self) -> str:
        """The plugin that provides the target (``core`` for the core's own)."""
        return self.target.split(".", 1)[0] if self.target else ""

    def text(self, name: str, lang: str = "zh") -> str:
        """``required``, ``actual`` or ``note`` in ``lang`` (English falls back to the Chinese if a target gives none)."""
        zh: str = getattr(self, name)
        return (getattr(self, f"{name}_en") or zh) if lang == "en" else zh

    def both(self, name: str) -> str:
        """``required``, ``actual`` or ``note`` in both languages, Chinese first (``"至少 2 次研究 / at least 2 leadership meetings"``)."""
        zh, en = getattr(self, name), getattr(self, f"{name}_en")
        return f"{zh} / {en}" if zh and en and zh != en else zh or en

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: id, status, required, actual, evidence, note, target, figures, required_en, actual_en, note_en, plugin.

        ``required``/``actual``/``note`` are Chinese, ``*_en`` English."""
        out = super().to_dict()
        # PostgreSQL sums come as Decimal: JSON takes them as numbers, as SQLite gives them.
        out["figures"] = plain({k: (int(v) if v == int(v) else float(v)) if isinstance(v, Decimal) else v for k, v in self.figures.items()})
        return out


#: ``evaluate(ctx)`` -> CheckResult
Evaluator = Callable[["CheckContext"], CheckResult]


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_date(v: object) -> bool:
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


#: Parameter types: the check of a value, and what it should be (for messages).
PARAM_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "integer": (_is_int, "an integer"),
    "count": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "positive": (lambda v: _is_int(v) and v >= 1, "a whole number >= 1"),
    "fen": (lambda v: _is_int(v) and v >= 0, "an amount in fen (integer >= 0; 400,000 yuan = 40000000)"),
    "number": (lambda v: _is_int(v) or isinstance(v, float), "a number"),
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "date": (_is_date, "a date (YYYY-MM-DD, not quoted)"),
    "string": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "strings": (lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, str) and x for x in v), "an array of strings"),
    "integers": (lambda v: isinstance(v, (list, tuple)) and all(_is_int(x) for x in v), "an array of integers"),
    "table": (lambda v: isinstance(v, Mapping), "a table"),
    "tables": (lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, Mapping) for x in v), "an array of tables"),
    "any": (lambda v: True, "anything"),
}


@attrs.frozen
class Param:
    """One parameter a target reads from a plan's commitment (``params = { ... }``).

    Plans are validated against these when they are loaded, shown or linted: an
    unknown key, a value of the wrong type or a missing required key is refused
    naming the file, the commitment and the key.

    Attributes:
        name: the key in the plan file.
        type: one of :data:`PARAM_TYPES` (``"count"``, ``"fen"``, ``"date"``, ``"strings"`` ...).
        required: a commitment of this target must set it.
        default: the value used when the plan does not set it (documented by the target).
        zh: what it means, in Chinese.
        en: what it means, in English.
        fields: for ``table``/``tables``: the keys each table may have (each a Param);
            empty means any keys.
        choices: for ``string``/``strings``: the values allowed (empty: any).
    """

    name: str
    type: str = attrs.field(default="any", validator=attrs.validators.in_(PARAM_TYPES))
    required: bool = False
    default: Any = None
    zh: str = ""
    en: str = ""
    fields: tuple[Param, ...] = attrs.field(default=(), converter=_param_tuple)
    choices: tuple[str, ...] = attrs.field(default=(), converter=_texts)

    def problems(self, value: Any, path: str) -> list[str]:
        """What is wrong with ``value`` for this parameter at ``path`` (empty when it is fine)."""
        check, expected = PARAM_TYPES[self.type]
        if not check(value):
            return [f"{path}: 应为 {expected} / expected {expected}, got {_describe(value)}"]
        if self.choices:
            values = [value] if isinstance(value, str) else list(value)
            wrong = [v for v in values if v not in self.choices]
            if wrong:
                return [f"{path}: 不允许的值 / not allowed: {', '.join(map(repr, wrong))}; allowed: {', '.join(self.choices)}"]
        if not self.fields:
            return []
        tables = [value] if self.type == "table" else list(value)
        found = []
        for i, table in enumerate(tables):
            where = path if self.type == "table" else f"{path}[{i}]"
            found += params_problems(self.fields, table, where)
        return found


def _describe(value: object) -> str:
    kinds: dict[type, str] = {dict: "table", list: "array", tuple: "array"}
    kind = kinds.get(type(value), type(value).__name__)
    return kind if isinstance(value, (Mapping, list, tuple)) else f"{kind} {value!r}"


def _as_params(values: Iterable[Param | str]) -> tuple[Param, ...]:
    return tuple(_as_param(p) for p in values)


def _as_param(value: Param | str) -> Param:
    # A bare name (older plugins): known, of any type.
    return value if isinstance(value, Param) else Param(value)


def params_problems(declared: Sequence[Param], values: Mapping[str, Any], prefix: str) -> list[str]:
    """Unknown keys, wrong types and missing required keys of ``values`` against ``declared``."""
    by_name = {p.name: p for p in declared}
    found = []
    for key, value in values.items():
        param = by_name.get(key)
        if param is None:
            near = difflib.get_close_matches(key, list(by_name), n=1)
            hint = f' (did you mean "{near[0]}"?)' if near else ""
            known = ", ".join(by_name) or "none"
            found.append(f"{prefix}.{key}: 未知参数 / unknown parameter{hint}; known: {known}")
        else:
            found += param.problems(value, f"{prefix}.{key}")
    for param in declared:
        if param.required and param.name not in values:
            found.append(f"{prefix}.{param.name}: 缺少必填参数 / missing required parameter ({param.en or param.zh or param.type})")
    return found


def plan_problems(
    plan: Plan, targets: Mapping[str, TargetSpec], settings: Mapping[str, Sequence[Param]] | None = None
) -> list[str]:
    """Every parameter problem of ``plan`` against the installed ``targets`` and plugin ``settings``.

    A commitment whose target no installed plugin provides is not checked here
    (its check says which plugin is missing); :data:`NOT_MEASURABLE` takes no
    parameters.

    ``settings`` (from :meth:`fupin.hooks.Hooks.plan_settings`: every installed
    plugin's name and the settings it declares) checks the plan's
    ``[plugins.NAME]`` tables: a key the plugin does not declare, a value of the
    wrong type, or a table of an installed plugin that declares no settings is
    a problem named ``plugins.NAME.key``. A table naming a plugin that is not
    installed is not checked (as with targets). ``None`` checks no table.
    """
    found = []
    for c in plan.commitments:
        spec = targets.get(c.target)
        if c.target == NOT_MEASURABLE:
            found += params_problems(NOT_MEASURABLE_PARAMS, c.params, f"{c.id}.params")
        elif spec is not None:
            found += params_problems(spec.params, c.params, f"{c.id}.params")
    if settings is not None:
        found += settings_problems(plan, settings)
    return found


def settings_problems(plan: Plan, settings: Mapping[str, Sequence[Param]]) -> list[str]:
    """Problems of ``plan``'s ``[plugins.NAME]`` tables against what the installed plugins declare (see :func:`plan_problems`)."""
    found = []
    for name, table in plan.plugins.items():
        if name not in settings:
            continue
        if not settings[name]:
            found.append(f"plugins.{name}: 插件 {name} 不读取方案设置 / plugin {name!r} declares no plan settings; remove the table")
        else:
            found += params_problems(settings[name], table, f"plugins.{name}")
    return found


def validate_plan(
    plan: Plan, targets: Mapping[str, TargetSpec], settings: Mapping[str, Sequence[Param]] | None = None
) -> None:
    """Raise :class:`~fupin.errors.PlanError` naming the file and key of every problem :func:`plan_problems` finds."""
    found = plan_problems(plan, targets, settings)
    if found:
        from fupin.errors import PlanError

        more = f" (+{len(found) - 1} more: {'; '.join(found[1:5])}{' …' if len(found) > 5 else ''})" if len(found) > 1 else ""
        raise PlanError(f"{plan.origin}: {found[0]}{more}")


@attrs.frozen
class TargetSpec:
    """A measurable target kind a plan's commitments can name.

    Attributes:
        name: namespaced by the plugin, e.g. ``"funding.study_aid"``.
        label_zh: Chinese label.
        label_en: English label.
        evaluate: ``evaluate(ctx) -> CheckResult`` with ctx a
            :class:`CheckContext`: it reads its parameters with
            :meth:`CheckContext.param` and queries ``ctx.conn``;
            :meth:`CheckContext.judge` gives the status.
        params: the parameters it reads from the plan (:class:`Param`; a bare
            name is a parameter of any type), for documentation and for plan
            validation.
    """

    name: str
    label_zh: str
    label_en: str
    evaluate: Evaluator
    params: tuple[Param, ...] = attrs.field(default=(), converter=_as_params)

    @property
    def plugin(self) -> str:
        """The namespace before the dot."""
        return self.name.split(".", 1)[0]

    def param(self, name: str) -> Param:
        """The declared parameter ``name``; KeyError for an undeclared one (a target bug, not a plan's)."""
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} reads parameter {name!r} it does not declare")


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

    store: Store
    plan: Plan
    commitment: Commitment
    year: int
    as_of: dt.date
    conn: sa.Connection
    cache: dict[str, Any] = attrs.field(factory=dict)

    spec: TargetSpec | None = None

    @property
    def params(self) -> Mapping[str, Any]:
        """The commitment's parameters as the plan sets them (reads are recorded, see :meth:`param`)."""
        used = self.cache.setdefault("params_used", set())
        return _RecordedParams(self.commitment.params, lambda key: used.add((self.commitment.id, key)))

    def param(self, name: str) -> Any:
        """The parameter ``name``: the plan's value, else the declared default.

        The target must declare it (:class:`Param`); reading an undeclared one is a bug in the target.
        """
        declared = self.spec.param(name) if self.spec is not None else Param(name)
        self.cache.setdefault("params_used", set()).add((self.commitment.id, name))
        return self.commitment.params.get(name, declared.default)

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
        units: list[str] = self.cache["units"]
        return units

    def actions(
        self, kind: str, start: dt.date | None = None, end: dt.date | None = None, *, where: Sequence[sa.ColumnElement[bool]] = (),
    ) -> list[sa.Row[Any]]:
        """The plan's own support actions of ``kind`` touching [start, end]: rows of ``id, ref, start_date,
        end_date, details``, in date order.

        Own means registered by one of the plan's units *and* naming this plan or no plan
        (:func:`fupin.ext.own_records`): a unit's action for another of its plans, or another
        unit's action naming this plan, does not count.

        Args:
            where: further SQL conditions on ``support_actions`` (a village, a leader, a date).
        """
        from fupin.queries import own_records
        from fupin.storage import schema as S

        a = S.support_actions
        mine = own_records(a, self.plan, self.units(), plan_less=True)
        query = sa.select(a.c.id, a.c.ref, a.c.start_date, a.c.end_date, a.c.details).where(a.c.kind == kind, mine, *where)
        if start is not None:
            query = query.where(a.c.end_date >= start)
        if end is not None:
            query = query.where(a.c.start_date <= end)
        return list(self.conn.execute(query.order_by(a.c.start_date, a.c.id)).all())

    def result(
        self, status: Status, required: str, actual: str, evidence: Iterable[str] = (), note: str = "", *,
        required_en: str = "", actual_en: str = "", note_en: str = "", **figures: object,
    ) -> CheckResult:
        """A result for this commitment: ``required``/``actual``/``note`` in Chinese, ``*_en`` in English."""
        return CheckResult(self.commitment.id, status, required, actual, tuple(evidence), note, self.commitment.target, figures,
                           required_en, actual_en, note_en)

    def judge(
        self,
        ok: bool,
        required: str,
        actual: str,
        evidence: Iterable[str] = (),
        *,
        deadline: dt.date | None = None,
        anything_recorded: bool = True,
        note: str = "",
        required_en: str = "",
        actual_en: str = "",
        note_en: str = "",
        **figures: object,
    ) -> CheckResult:
        """The status by the one rule for every target (see the module docstring).

        Args:
            ok: whether the figure reaches what the plan requires.
            required, actual, note: in Chinese; ``required_en``, ``actual_en``, ``note_en`` in English.
            deadline: when it must be reached (default: the end of the year checked).
            anything_recorded: False when no record of the kind exists for the
                plan at all: the result is *no data*, not *not met*.
        """
        evidence = tuple(evidence)
        deadline = deadline or self.year_end
        if ok and evidence:
            status = Status.MET
        elif ok:
            status, note, note_en = Status.NO_DATA, _join(note, "没有证明记录"), _join(note_en, "no records prove it")
        elif not anything_recorded:
            status = Status.NO_DATA
        elif self.as_of <= deadline:  # the deadline day itself is still open
            status = Status.NOT_YET_DUE
        else:
            status = Status.NOT_MET
        return self.result(status, required, actual, evidence, note, required_en=required_en, actual_en=actual_en, note_en=note_en, **figures)


class _RecordedParams(Mapping[str, Any]):
    """A commitment's parameters that record which keys a target read (for the test that every key is used)."""

    def __init__(self, params: Mapping[str, Any], record: Callable[[str], None]) -> None:
        self._params, self._record = params, record

    def __getitem__(self, key: str) -> Any:
        self._record(key)
        return self._params[key]

    def get(self, key: str, default: Any = None) -> Any:
        self._record(key)
        return self._params.get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._record(key)
        return key in self._params

    def __iter__(self) -> Any:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


#: Targets that name a commitment software cannot measure: reported, not checked.
NOT_MEASURABLE = "core.not_measurable"
NOT_MEASURABLE_PARAMS = (
    Param("record", "string", zh="可记录的相关事项 (如投诉)", en="what can be recorded about it instead (e.g. complaints)"),
)


#: What :func:`_not_measurable` reads of its commitment's parameters.
NOT_MEASURABLE_PARAMS_READ = ("record",)


def _not_measurable(commitment: Commitment) -> CheckResult:
    """C35 and the like: listed with their text and what the plan says can be recorded, never checked."""
    record = commitment.params.get("record")
    # What the plan says can be recorded is in its words; ``record`` (a code: ``complaint``) stays in the figures.
    note = commitment.measurable_as_zh or "软件无法衡量"
    note_en = commitment.measurable_as_en or "not measurable by software"
    return CheckResult(commitment.id, Status.NOT_MEASURABLE, note=note, note_en=note_en,
                       target=NOT_MEASURABLE, figures={"record": record} if record else {})


def check_plan(store: Store, plan: Plan, year: int, *, as_of: dt.date | None = None, params_read: set[tuple[str, str]] | None = None) -> list[CheckResult]:
    """Evaluate every measurable commitment of ``plan`` for ``year``.

    Needs ``aggregates.read``: figures count every record of the plan whatever
    the actor's scope (the evidence names records by their numbers only). A
    commitment whose target no installed plugin provides is *no data*, with a
    note naming the plugin; a target that fails is *no data* with the error.

    ``params_read``, when given, receives ``(commitment id, parameter)`` for
    every parameter a target read: a plan author's test that no parameter
    the plan sets is ignored.
    """
    store.access.require("aggregates.read", "检查 / check")
    targets = store.hooks.targets()
    validate_plan(plan, targets, store.hooks.plan_settings())
    years = plan.years()
    if year not in years:
        raise ValidationError.of("year", f"不在方案期内 ({years[0]}–{years[-1]}) / outside the plan period", year)
    as_of = as_of or dt.date.today()
    results = []
    cache: dict[str, Any] = {"params_used": params_read if params_read is not None else set()}
    with store.reading("aggregates.read") as conn:
        for commitment in plan.commitments:
            if commitment.target == NOT_MEASURABLE:
                results.append(_not_measurable(commitment))
                cache["params_used"].update((commitment.id, key) for key in NOT_MEASURABLE_PARAMS_READ if key in commitment.params)
                continue
            spec = targets.get(commitment.target)
            if spec is None:
                plugin = commitment.target.split(".", 1)[0]
                results.append(CheckResult(commitment.id, Status.NO_DATA, note=f"插件 fupin-{plugin} 未安装, 无法检查",
                                           note_en=f"the plugin fupin-{plugin} that checks it is not installed", target=commitment.target))
                continue
            ctx = CheckContext(store, plan, commitment, year, as_of, conn, cache, spec)
            try:
                result = spec.evaluate(ctx)
            except Exception as exc:  # one broken target must not hide the others' results
                if spec.plugin == "core":
                    raise
                result = CheckResult(commitment.id, Status.NO_DATA, note=f"检查出错: {exc}", note_en=f"the check failed: {type(exc).__name__}: {exc}",
                                     target=commitment.target)
            if result.status is Status.MET and not result.evidence:
                result = attrs.evolve(result, status=Status.NO_DATA, note=_join(result.note, "没有证明记录"),
                                      note_en=_join(result.note_en, "no records prove it"))
            results.append(attrs.evolve(result, commitment=commitment.id, target=commitment.target))
    return results


def grouped_notes(results: list[CheckResult]) -> list[tuple[list[str], str]]:
    """The notes of results not met, in both languages (``"中文 / English"``), each once with the commitments it
    applies to (a missing plugin's, say)."""
    grouped: dict[str, list[str]] = {}
    for r in results:
        if r.note and r.status is not Status.MET:
            grouped.setdefault(r.both("note"), []).append(r.commitment)
    return [(ids, note) for note, ids in grouped.items()]
