"""The registry model: areas, villages, households (the 建档立卡 card), people,
units and cadres.

Classes validate their invariants on construction (an ID number's check
character, at most two other poverty causes, a profile's poor share not above
its total ...). Enumerated fields (household attribute, poverty cause, relation
to head ...) are checked against a :class:`fupin.vocab.Vocabulary`, which is
data a province can extend: build records with the named constructors
(``Household.new(...)``, ``Person.from_mapping(...)``), which structure plain
values (ISO dates, strings from files) and put every enumerated value in its
canonical Chinese form, reporting every problem at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, TypeVar, cast

import attrs

from fupin.errors import Problem, ValidationError
from fupin.idnumber import IdNumber
from fupin.serial import Serialisable
from fupin.vocab import Vocabulary

T = TypeVar("T")

#: Significant code digits per area level: a child's code starts with its
#: parent's significant digits (GB/T 2260 for the first 6, NBS 12-digit codes below).
AREA_DIGITS = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12, "group": 14}
AREA_LEVELS = tuple(AREA_DIGITS)
#: A villager group has no national code; fupin uses the village's 12 digits + a 2- or 3-digit number.
_AREA_CODE = {
    "province": re.compile(r"^\d{2}0000$"),
    "city": re.compile(r"^\d{4}00$"),
    "county": re.compile(r"^\d{6}$"),
    "town": re.compile(r"^\d{9}(000)?$"),
    "village": re.compile(r"^\d{12}$"),
    "group": re.compile(r"^\d{14,15}$"),
}

HEAD_RELATION = "户主"
POOR_STATUS = "未脱贫"


def _problem(field: str, reason: str, value: object = None) -> ValidationError:
    return ValidationError(Problem(field, reason, value))


def _text(value: object) -> str:
    if type(value) is str:  # the usual case, a million times in an import
        return value.strip()
    return "" if value is None else str(value).strip()


def _texts(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _opt_text(value: object) -> str | None:
    text = _text(value)
    return text or None


def _non_negative(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value < 0:
        raise _problem(attr.name, "不能为负 / must not be negative", value)


def _fen(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _problem(attr.name, "金额应为整数分 / money is an integer number of fen", value)


def _required(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value in (None, ""):
        raise _problem(attr.name, "必填 / required")


# -- building records from plain values ---------------------------------------


def build(cls: type[T], data: Mapping[str, Any], vocab: Vocabulary | None = None) -> T:
    """Build a model record from plain values, checking enumerations against ``vocab``.

    Blank strings count as missing. Every problem (type, enumeration,
    invariant) is reported in one :class:`ValidationError`.
    """
    from fupin.convert import structure

    vocab = vocab or Vocabulary.default()
    clean = {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
    problems: list[Problem] = []
    for field, list_name in getattr(cls, "VOCAB_FIELDS", {}).items():
        if field not in clean or clean[field] is None:
            continue
        value = clean[field]
        if isinstance(value, str) and field in getattr(cls, "MULTI_VALUE_FIELDS", ()):
            value = split_values(value)
        try:
            if isinstance(value, (list, tuple)):
                clean[field] = tuple(vocab.check(list_name, v, field=field) for v in value)
            else:
                clean[field] = vocab.check(list_name, value, field=field)
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems, record=cls.__name__)
    return cast(T, structure(clean, cls))


def check_vocab(record: Any, vocab: Vocabulary | None = None) -> list[Problem]:
    """Problems with ``record``'s enumerated fields against ``vocab`` (the store's last guard)."""
    vocab = vocab or Vocabulary.default()
    problems: list[Problem] = []
    for field, list_name in getattr(type(record), "VOCAB_FIELDS", {}).items():
        value = getattr(record, field)
        for v in value if isinstance(value, tuple) else ([] if value is None else [value]):
            try:
                if vocab.check(list_name, v, field=field) != v:
                    problems.append(Problem(field, "不是规范写法 / not the canonical label", v))
            except ValidationError as exc:
                problems.extend(exc.problems)
    return problems


class _Named(Serialisable):
    """Named constructors shared by the model classes."""

    VOCAB_FIELDS: ClassVar[dict[str, str]] = {}

    @classmethod
    def new(cls: type[T], *, vocab: Vocabulary | None = None, **fields: Any) -> T:
        """Build from keyword arguments (strings, ISO dates ...) with enumerations checked."""
        return build(cls, fields, vocab)

    @classmethod
    def from_mapping(cls: type[T], data: Mapping[str, Any], vocab: Vocabulary | None = None) -> T:
        """Build from a mapping (a JSON object, a file row with English keys)."""
        return build(cls, data, vocab)


# -- areas --------------------------------------------------------------------


@attrs.frozen
class Area(_Named):
    """An administrative area, province down to villager group (村民小组).

    ``code`` is the GB/T 2260 code (6 digits) down to county, the NBS 12-digit
    statistical code for towns (9 significant digits) and villages, and the
    village code plus a 2- or 3-digit number for villager groups. Historic
    codes stay valid: codes are not checked against a list.
    """

    VOCAB_FIELDS: ClassVar[dict[str, str]] = {}

    code: str = attrs.field(converter=_text)
    name: str = attrs.field(converter=_text, validator=_required)
    level: str = attrs.field(converter=_text)
    parent_code: str | None = attrs.field(default=None, converter=_opt_text)

    @level.validator
    def _level(self, _a: attrs.Attribute[Any], value: str) -> None:
        if value not in AREA_DIGITS:
            raise _problem("level", f"层级应为 / level must be one of {', '.join(AREA_LEVELS)}", value)

    def __attrs_post_init__(self) -> None:
        if not _AREA_CODE[self.level].match(self.code):
            raise _problem("code", f"不是{self.level}级区划代码 / not a {self.level} code", self.code)
        if self.level == "province" and self.parent_code:
            raise _problem("parent_code", "省级没有上级 / a province has no parent", self.parent_code)
        if self.level != "province" and not self.parent_code:
            raise _problem("parent_code", "必填 / required below province level")

    def is_child_of(self, parent: Area) -> bool:
        """Whether ``parent`` is one level up and its code is a prefix of this code."""
        up = AREA_LEVELS.index(self.level) - 1
        return (
            up >= 0
            and parent.level == AREA_LEVELS[up]
            and self.code.startswith(parent.code[: AREA_DIGITS[parent.level]])
        )


@attrs.frozen
class VillageProfile(_Named):
    """A village's facts for one year (户数, 人口, 耕地, 人均纯收入 ...)."""

    village_code: str = attrs.field(converter=_text, validator=_required)
    year: int = attrs.field(validator=attrs.validators.and_(attrs.validators.ge(1949), attrs.validators.le(2100)))
    households: int = attrs.field(validator=_non_negative)
    population: int = attrs.field(validator=_non_negative)
    poor_households: int | None = attrs.field(default=None, validator=_non_negative)
    poor_people: int | None = attrs.field(default=None, validator=_non_negative)
    area_km2: Decimal | None = attrs.field(default=None, validator=_non_negative)
    altitude_m: int | None = None
    mean_temp_c: Decimal | None = None
    rainfall_mm: int | None = attrs.field(default=None, validator=_non_negative)
    arable_mu: Decimal | None = attrs.field(default=None, validator=_non_negative)
    net_income_per_capita_fen: int | None = attrs.field(default=None, validator=(_fen, _non_negative))
    earth_wood_houses: int | None = attrs.field(default=None, validator=_non_negative)
    migrant_workers: int | None = attrs.field(default=None, validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        problems = []
        for part, whole in (
            ("poor_households", "households"),
            ("earth_wood_houses", "households"),
            ("poor_people", "population"),
            ("migrant_workers", "population"),
        ):
            if getattr(self, part) is not None and getattr(self, part) > getattr(self, whole):
                problems.append(
                    Problem(part, f"大于 {whole} / more than {whole} ({getattr(self, whole)})", getattr(self, part))
                )
        if problems:
            raise ValidationError(problems, record="VillageProfile")

    @property
    def poverty_incidence(self) -> Decimal | None:
        """Poor people over population (贫困发生率), as a fraction."""
        if self.poor_people is None or not self.population:
            return None
        return Decimal(self.poor_people) / Decimal(self.population)


# -- households and people ----------------------------------------------------


def split_values(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Several values of one field: a list, or one cell written "因病、缺技术" / "因病,缺技术"."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(p.strip() for p in re.split(r"[、,，;；/]", value) if p.strip())
    return tuple(value)


@attrs.frozen
class Household(_Named):
    """A household's 建档立卡 card (DOMAIN.md 1.1).

    Exactly one main poverty cause, at most two other causes, none repeated.
    ``status`` is the current 脱贫状态; its dated history is kept by the store.
    """

    MULTI_VALUE_FIELDS: ClassVar[tuple[str, ...]] = ("other_causes",)
    VOCAB_FIELDS: ClassVar[dict[str, str]] = {
        "ident_standard": "ident_standard",
        "attribute": "household_attribute",
        "main_cause": "poverty_cause",
        "other_causes": "poverty_cause",
        "status": "household_status",
        "housing_structure": "housing_structure",
    }

    number: str = attrs.field(converter=_text, validator=_required)
    group_code: str = attrs.field(converter=_text, validator=_required)
    head_name: str = attrs.field(converter=_text, validator=_required)
    attribute: str = attrs.field(converter=_text, validator=_required)
    main_cause: str = attrs.field(converter=_text, validator=_required)
    other_causes: tuple[str, ...] = attrs.field(default=(), converter=split_values)
    status: str = POOR_STATUS
    ident_standard: str | None = None
    first_identified: dt.date | None = None
    planned_exit_year: int | None = None
    phone: str | None = attrs.field(default=None, converter=_opt_text)
    housing_structure: str | None = None
    dilapidated: bool | None = None
    safe_water: bool | None = None
    house_area_m2: Decimal | None = attrs.field(default=None, validator=_non_negative)
    net_income_per_capita_fen: int | None = attrs.field(default=None, validator=_fen)
    bank: str | None = attrs.field(default=None, converter=_opt_text)
    bank_account: str | None = attrs.field(default=None, converter=_opt_text)

    def __attrs_post_init__(self) -> None:
        problems = []
        if len(self.other_causes) > 2:
            problems.append(
                Problem("other_causes", "其他致贫原因最多两项 / at most two other causes", "、".join(self.other_causes))
            )
        if self.main_cause in self.other_causes:
            problems.append(
                Problem("other_causes", "与主要致贫原因重复 / repeats the main cause", self.main_cause)
            )
        if len(set(self.other_causes)) != len(self.other_causes):
            problems.append(Problem("other_causes", "重复 / repeated", "、".join(self.other_causes)))
        if problems:
            raise ValidationError(problems, record=f"household {self.number}")


@attrs.frozen
class StatusChange(Serialisable):
    """One entry of a household's dated status history."""

    household: str
    status: str
    effective: dt.date
    reason: str = ""


@attrs.frozen
class Person(_Named):
    """A member of a household, identified by a valid 公民身份号码.

    ``sex`` and ``birth_date`` default to what the ID number encodes and, when
    given, must agree with it. A disability-card number (20 characters) is
    accepted where the form allows it.
    """

    VOCAB_FIELDS: ClassVar[dict[str, str]] = {
        "sex": "sex",
        "relation": "relation",
        "ethnicity": "ethnicity",
        "education": "education",
        "student_status": "student_status",
        "health": "health",
        "labour": "labour",
        "work_status": "work_status",
    }

    id_number: str = attrs.field(converter=_text)
    household: str = attrs.field(converter=_text, validator=_required)
    name: str = attrs.field(converter=_text, validator=_required)
    relation: str = attrs.field(converter=_text, validator=_required)
    sex: str | None = None
    birth_date: dt.date | None = None
    ethnicity: str | None = None
    education: str | None = None
    student_status: str | None = None
    health: str | None = None
    labour: str | None = None
    work_status: str | None = None
    work_months: int | None = attrs.field(default=None, validator=_non_negative)
    phone: str | None = attrs.field(default=None, converter=_opt_text)

    def __attrs_post_init__(self) -> None:
        number, birth_date, sex = IdNumber.facts(self.id_number)
        # Canonical form (18 digits, upper-case X); frozen, so set through object.
        object.__setattr__(self, "id_number", number)
        problems = []
        if self.sex is None:
            object.__setattr__(self, "sex", sex)
        elif self.sex != sex:
            problems.append(Problem("sex", f"与证件号码不符 (号码为{sex}) / disagrees with the ID number", self.sex))
        if self.birth_date is None:
            object.__setattr__(self, "birth_date", birth_date)
        elif self.birth_date != birth_date:
            problems.append(
                Problem(
                    "birth_date",
                    f"与证件号码不符 (号码为 {birth_date.isoformat()}) / disagrees with the ID number",
                    self.birth_date.isoformat(),
                )
            )
        if problems:
            raise ValidationError(problems, record=f"person {self.name}")

    def age_on(self, day: dt.date) -> int:
        """Age in whole years on ``day``."""
        assert self.birth_date is not None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def is_head(self) -> bool:
        """Whether this person is the household head (户主)."""
        return self.relation == HEAD_RELATION


def check_members(household: str, members: Iterable[Person]) -> list[Problem]:
    """Problems with a household's members as a whole: exactly one head (户主)."""
    heads = [p for p in members if p.is_head]
    if len(heads) == 1:
        return []
    if not heads:
        return [Problem("relation", f"户 {household} 没有户主 / household has no head", household)]
    names = "、".join(p.name for p in heads)
    return [Problem("relation", f"户 {household} 有多个户主 / more than one head: {names}", HEAD_RELATION)]


@attrs.frozen
class Tag(_Named):
    """A dated tag on a person: 留守儿童, 空巢老人, 孤寡老人, 在校生, 外出务工 ...

    ``end`` is ``None`` while the tag still holds.
    """

    VOCAB_FIELDS: ClassVar[dict[str, str]] = {"tag": "person_tag"}

    id_number: str = attrs.field(converter=_text, validator=_required)
    tag: str = attrs.field(converter=_text, validator=_required)
    start: dt.date
    end: dt.date | None = None
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise _problem("end", "结束日期早于开始日期 / ends before it starts", self.end.isoformat())

    def holds_on(self, day: dt.date) -> bool:
        """Whether the tag applies on ``day``."""
        return self.start <= day and (self.end is None or day <= self.end)


# -- units and cadres ---------------------------------------------------------


@attrs.frozen
class Unit(_Named):
    """A helping organisation or one of its departments, or a beneficiary institution (a school)."""

    VOCAB_FIELDS: ClassVar[dict[str, str]] = {"kind": "unit_kind"}

    code: str = attrs.field(converter=_text, validator=_required)
    name: str = attrs.field(converter=_text, validator=_required)
    kind: str = attrs.field(converter=_text, validator=_required)
    parent_code: str | None = attrs.field(default=None, converter=_opt_text)
    area_code: str | None = attrs.field(default=None, converter=_opt_text)

    def __attrs_post_init__(self) -> None:
        if self.parent_code == self.code:
            raise _problem("parent_code", "不能是自身 / a unit cannot be its own parent", self.code)


@attrs.frozen
class Cadre(_Named):
    """A cadre (干部) of a unit, with a rank (厅级, 处级 ...) that sets pairing quotas."""

    VOCAB_FIELDS: ClassVar[dict[str, str]] = {"rank": "cadre_rank", "sex": "sex"}

    code: str = attrs.field(converter=_text, validator=_required)
    name: str = attrs.field(converter=_text, validator=_required)
    unit: str = attrs.field(converter=_text, validator=_required)
    rank: str = attrs.field(converter=_text, validator=_required)
    title: str = attrs.field(default="", converter=_text)
    sex: str | None = None
    phone: str | None = attrs.field(default=None, converter=_opt_text)


# -- 挂包帮 and 转走访 ------------------------------------------------------------


def _one_target(record: Any) -> None:
    """A record is about one household or one village, not both and not neither."""
    if (record.household is None) == (record.village is None):
        raise _problem("household", "应填户编号或村代码之一 / give either a household or a village, not both")


def _not_after_start(record: Any, start: dt.date, end: dt.date | None, field: str) -> None:
    if end is not None and end < start:
        raise _problem(field, "早于开始日期 / before the start date", end.isoformat())


@attrs.frozen
class Pairing(_Named):
    """A 挂包帮 pairing: a leader to a village (挂点), a unit to a village (包村),
    or a cadre to a household (帮户, kind 重点帮扶 or 联系).

    ``end`` is None while the pairing holds: 不脱贫不脱钩, a household keeps its
    cadre until it exits, unless the pairing is ended on purpose (``end_reason``).
    """

    VOCAB_FIELDS: ClassVar[dict[str, str]] = {"level": "pairing_level", "kind": "pairing_kind"}

    level: str = attrs.field(converter=_text, validator=_required)
    start: dt.date
    cadre: str | None = attrs.field(default=None, converter=_opt_text)
    household: str | None = attrs.field(default=None, converter=_opt_text)
    kind: str | None = attrs.field(default=None, converter=_opt_text)
    village: str | None = attrs.field(default=None, converter=_opt_text)
    unit: str | None = attrs.field(default=None, converter=_opt_text)
    plan: str | None = attrs.field(default=None, converter=_opt_text)
    end: dt.date | None = None
    end_reason: str = attrs.field(default="", converter=_text)

    def __attrs_post_init__(self) -> None:
        needs = {"帮户": ("cadre", "household", "kind"), "挂点": ("cadre", "village"), "包村": ("unit", "village")}
        missing = [f for f in needs.get(self.level, ()) if getattr(self, f) is None]
        if missing:
            raise _problem(missing[0], f"{self.level}结对必填 / required for a {self.level} pairing")
        if self.level == "帮户" and self.village is not None:
            raise _problem("village", "帮户结对是干部与户 / a household pairing names a household, not a village", self.village)
        _not_after_start(self, self.start, self.end, "end")

    def holds_on(self, day: dt.date) -> bool:
        """Whether the pairing is in force on ``day``."""
        return self.start <= day and (self.end is None or day <= self.end)


@attrs.frozen
class Visit(_Named):
    """A 转走访 visit: date, cadres, a household or the village, a kind, and the
    answers to a versioned questionnaire (``questionnaire`` = ``name@version``,
    checked against its definition by the store and the importer).
    """

    VOCAB_FIELDS: ClassVar[dict[str, str]] = {"kind": "visit_kind"}

    ref: str = attrs.field(converter=_text, validator=_required)
    date: dt.date
    kind: str = attrs.field(converter=_text, validator=_required)
    cadres: tuple[str, ...] = attrs.field(converter=_texts)
    household: str | None = attrs.field(default=None, converter=_opt_text)
    village: str | None = attrs.field(default=None, converter=_opt_text)
    plan: str | None = attrs.field(default=None, converter=_opt_text)
    questionnaire: str | None = attrs.field(default=None, converter=_opt_text)
    answers: dict[str, Any] | None = None
    findings: str = attrs.field(default="", converter=_text)
    problems: str = attrs.field(default="", converter=_text)
    follow_up: str = attrs.field(default="", converter=_text)

    def __attrs_post_init__(self) -> None:
        if not self.cadres:
            raise _problem("cadres", "至少一名走访干部 / at least one visiting cadre")
        _one_target(self)
        if self.answers and not self.questionnaire:
            raise _problem("questionnaire", "有答案时必填问卷 / answers need their questionnaire (name@version)")
        if self.questionnaire and not re.match(r"^[a-z0-9][a-z0-9_.-]*@\d+$", self.questionnaire):
            raise _problem("questionnaire", "格式应为 名称@版本 / must be name@version", self.questionnaire)


@attrs.frozen
class DiaryEntry(_Named):
    """An entry of the 民情日记 (or a talk, a visitor received, a report, an
    opinion collected, a case follow-up when ``case_ref`` names a case)."""

    VOCAB_FIELDS: ClassVar[dict[str, str]] = {"kind": "diary_kind"}

    ref: str = attrs.field(converter=_text, validator=_required)
    date: dt.date
    cadre: str = attrs.field(converter=_text, validator=_required)
    kind: str = attrs.field(converter=_text, validator=_required)
    text: str = attrs.field(converter=_text, validator=_required)
    household: str | None = attrs.field(default=None, converter=_opt_text)
    village: str | None = attrs.field(default=None, converter=_opt_text)
    case_ref: str | None = attrs.field(default=None, converter=_opt_text)
    problems: str = attrs.field(default="", converter=_text)
    follow_up: str = attrs.field(default="", converter=_text)


@attrs.frozen
class Case(_Named):
    """A grievance, dispute or request (C16): opened, followed, closed."""

    VOCAB_FIELDS: ClassVar[dict[str, str]] = {"kind": "case_kind", "status": "case_status"}

    ref: str = attrs.field(converter=_text, validator=_required)
    kind: str = attrs.field(converter=_text, validator=_required)
    opened: dt.date
    cadre: str = attrs.field(converter=_text, validator=_required)
    summary: str = attrs.field(converter=_text, validator=_required)
    status: str = attrs.field(default="已受理", converter=_text)
    household: str | None = attrs.field(default=None, converter=_opt_text)
    village: str | None = attrs.field(default=None, converter=_opt_text)
    closed: dt.date | None = None
    resolution: str = attrs.field(default="", converter=_text)

    def __attrs_post_init__(self) -> None:
        _one_target(self)
        _not_after_start(self, self.opened, self.closed, "closed")
        if (self.closed is not None) != (self.status == "已办结"):
            raise _problem("closed", "办结日期与状态“已办结”同时填写 / a closing date goes with status 已办结 and only with it", self.status)


#: The record types the store knows, by the name used in hooks, audit and the CLI.
RECORD_TYPES: dict[str, type] = {
    "area": Area,
    "village_profile": VillageProfile,
    "household": Household,
    "person": Person,
    "tag": Tag,
    "unit": Unit,
    "cadre": Cadre,
    "pairing": Pairing,
    "visit": Visit,
    "diary_entry": DiaryEntry,
    "case": Case,
}
