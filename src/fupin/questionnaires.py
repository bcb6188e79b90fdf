"""Interview questionnaires (访谈问卷) as versioned data, and the check of answers against them.

A questionnaire is a TOML file named ``NAME-vVERSION.toml``; the format is
documented at the top of the packaged household questionnaire
``fupin/data/questionnaires/yunnan-household-v1.toml``. A province adds its own
forms, or later versions of these, as files in the same format (``extra``).

Answers are a mapping from question id to what was written down. :meth:`Questionnaire.clean`
turns them into canonical, JSON-ready values and refuses them with every
problem at once; :meth:`Questionnaire.criteria_results` says what they imply
for the household exit standard (两不愁三保障 and safe water).

Example:
    >>> q = load_questionnaire("yunnan-household")
    >>> q.key
    'yunnan-household@1'
    >>> q.clean({"attribute": " 低保户", "household_size": "４", "food_clothing_ok": "是"})
    {'attribute': '低保户', 'household_size': 4, 'food_clothing_ok': True}
"""

from __future__ import annotations

import datetime as dt
import difflib
import importlib.resources
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import attrs

from fupin.errors import NotFound, PlanError, Problem, ValidationError
from fupin.tomlread import TomlReader, join, toml_reason
from fupin.vocab import normalize_key

__all__ = [
    "FORMAT_VERSION",
    "QUESTION_TYPES",
    "SCOPES",
    "Criterion",
    "Question",
    "Questionnaire",
    "Section",
    "available_questionnaires",
    "load_questionnaire",
]

#: The questionnaire-file format this module reads.
FORMAT_VERSION = 1

#: Answer types a question may have.
QUESTION_TYPES = ("choice", "multi", "bool", "int", "decimal", "text", "yuan", "date")

#: What a questionnaire is about: one household or one village.
SCOPES = ("household", "village")

_NUMERIC = ("int", "decimal", "yuan")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_ID = re.compile(r"[a-z][a-z0-9_]*")
_FILE_NAME = re.compile(r"(?P<name>[a-z0-9][a-z0-9-]*)-v(?P<version>[1-9][0-9]*)\.toml")

# Separators between the items of a multiple-choice answer written as one text.
_SPLIT = re.compile(r"[、,，;；/|]")
_TRUE = frozenset({"是", "有", "true", "yes", "y", "1", "√", "对"})
_FALSE = frozenset({"否", "无", "没有", "false", "no", "n", "0", "×", "不是"})
# A number as written: optional sign, digits with or without thousands groups, decimals.
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")
_DATES = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


# --------------------------------------------------------------------------- model


class _Refused(Exception):
    """An answer cannot be read; the argument is the bilingual reason."""


def _fold(text: str) -> str:
    """Full-width forms to ASCII (NFKC) and surrounding whitespace removed."""
    return unicodedata.normalize("NFKC", text).strip()


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not _fold(value)
    if isinstance(value, list | tuple | set | frozenset):
        return all(_blank(v) for v in value)
    return False


def _number_text(value: Decimal) -> str:
    """Shortest exact text of a decimal: ``Decimal("2.50")`` -> ``"2.5"``, ``Decimal("1E+2")`` -> ``"100"``."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


@attrs.frozen
class Section:
    """A part of a questionnaire, as printed (``一(二) 家庭生产生活条件``).

    Attributes:
        id: Stable identifier, unique in the questionnaire.
        title_zh: Chinese title.
        title_en: English title, may be empty.
        fupin_addition: True when the section is not in the printed source but
            added by fupin (or by whoever wrote the file).
    """

    id: str
    title_zh: str
    title_en: str = ""
    fupin_addition: bool = False


@attrs.frozen
class Question:
    """One question and the answers it accepts.

    Attributes:
        id: Stable English identifier; the key of the answer.
        number: The number as printed (``"8"``); several sub-questions may share one.
        section: Id of the :class:`Section` it belongs to.
        text_zh: The question in Chinese.
        text_en: The question in English, may be empty.
        type: One of :data:`QUESTION_TYPES`.
        choices: The allowed labels of a ``choice`` or ``multi`` question, in printed order.
        min: Smallest allowed value of a number (in yuan for ``yuan``), or None.
        max: Largest allowed value of a number (in yuan for ``yuan``), or None.
        unit: Unit of a number (``"亩"``, ``"人"``, ``"元"``, ``"平方米"``), may be empty.
        required: An answer must be given.
    """

    id: str
    number: str
    section: str
    text_zh: str
    text_en: str
    type: str
    choices: tuple[str, ...] = ()
    min: int | float | None = None
    max: int | float | None = None
    unit: str = ""
    required: bool = False

    def clean(self, value: Any) -> Any:
        """Return the canonical form of one answer, or None for a blank one.

        Canonical forms: ``int`` for int; the exact decimal as a string for
        decimal (``"2.5"``); integer fen for yuan (the answer is in yuan:
        ``"1,200.50"`` -> ``120050``); ``True``/``False`` for bool (``是``/``否``,
        ``有``/``无``, ``true``/``false`` are read); the label as defined for
        choice; a list of labels in definition order for multi; stripped text for
        text; an ISO date string for date. Full-width digits and brackets are
        folded, and a number may end with the question's unit (``"3.5亩"``).

        Raises:
            ValidationError: The answer cannot be read, is out of range or is not
                one of the choices. The problem's field is ``answers.<id>``.
        """
        if _blank(value):
            return None
        try:
            return _CLEANERS[self.type](self, value)
        except _Refused as exc:
            raise ValidationError(Problem(f"answers.{self.id}", str(exc), value)) from None

    # -- one reader per type; each raises _Refused with a bilingual reason

    def _text_of(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _Refused(f"应为文字 / expected text, got {type(value).__name__}")
        return _fold(value)

    def _decimal(self, value: Any) -> Decimal:
        if isinstance(value, bool):
            raise _Refused("应为数字 / expected a number, got true/false")
        if isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            text = _fold(value)
            unit = _fold(self.unit)
            if unit and text.endswith(unit):
                text = text[: -len(unit)].rstrip()
            if not _NUMBER.fullmatch(text):
                raise _Refused("不是数字 / not a number")
            number = Decimal(text.replace(",", ""))
        else:
            raise _Refused(f"应为数字 / expected a number, got {type(value).__name__}")
        if not number.is_finite():
            raise _Refused("不是数字 / not a number")
        if self.min is not None and number < Decimal(repr(self.min)):
            raise _Refused(f"小于最小值 {self.min} / less than the minimum {self.min}")
        if self.max is not None and number > Decimal(repr(self.max)):
            raise _Refused(f"大于最大值 {self.max} / more than the maximum {self.max}")
        return number

    def _int(self, value: Any) -> int:
        number = self._decimal(value)
        if number != number.to_integral_value():
            raise _Refused("应为整数 / not a whole number")
        return int(number)

    def _decimal_text(self, value: Any) -> str:
        return _number_text(self._decimal(value))

    def _yuan(self, value: Any) -> int:
        fen = self._decimal(value) * 100
        if fen != fen.to_integral_value():
            raise _Refused("金额最多两位小数 / at most two decimals (fen)")
        return int(fen)

    def _bool(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if not isinstance(value, str):
            raise _Refused(f"应为 是/否 / expected 是 or 否 (yes/no), got {type(value).__name__}")
        text = _fold(value).casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _Refused("应为 是/否 / expected 是 or 否 (yes/no)")

    def _label(self, item: Any) -> str | None:
        if not isinstance(item, str):
            return None
        if item in self.choices:
            return item
        key = normalize_key(item)
        return next((c for c in self.choices if normalize_key(c) == key), None)

    def _not_a_choice(self, shown: Iterable[str]) -> NoReturn:
        listed = "、".join(self.choices)
        bad = "、".join(str(s) for s in shown)
        raise _Refused(f"不在选项中: {bad} (选项: {listed}) / not one of the choices")

    def _choice(self, value: Any) -> str:
        self._text_of(value)
        label = self._label(value)
        if label is None:
            self._not_a_choice([_fold(value)])
        return label

    def _multi(self, value: Any) -> list[str]:
        if isinstance(value, str):
            whole = self._label(value)
            items: list[Any] = [whole] if whole is not None else [p for p in _SPLIT.split(value) if p.strip()]
        elif isinstance(value, list | tuple | set | frozenset):
            items = [v for v in value if not _blank(v)]
        else:
            raise _Refused(f"应为选项列表 / expected a list of choices, got {type(value).__name__}")
        chosen: set[str] = set()
        bad: list[str] = []
        for item in items:
            label = self._label(item)
            if label is None:
                bad.append(_fold(item) if isinstance(item, str) else repr(item))
            else:
                chosen.add(label)
        if bad:
            self._not_a_choice(bad)
        return [c for c in self.choices if c in chosen]

    def _text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _Refused(f"应为文字 / expected text, got {type(value).__name__}")
        return value.strip()

    def _date(self, value: Any) -> str:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        text = self._text_of(value)
        for pattern in _DATES:
            m = pattern.fullmatch(text[:10] if "T" in text else text)
            if m:
                try:
                    return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
                except ValueError:
                    break
        raise _Refused("不是日期 / not a date (YYYY-MM-DD)")


_CLEANERS: dict[str, Callable[[Question, Any], Any]] = {
    "choice": Question._choice,
    "multi": Question._multi,
    "bool": Question._bool,
    "int": Question._int,
    "decimal": Question._decimal_text,
    "text": Question._text,
    "yuan": Question._yuan,
    "date": Question._date,
}


@attrs.frozen
class Criterion:
    """What one bool answer says about the exit standard.

    Attributes:
        id: Stable identifier (``"safe_housing"``).
        label_zh: The standard in Chinese (``"住房安全有保障"``).
        label_en: The same in English.
        question: Id of the bool question it reads.
        pass_when: The answer that meets the standard.
    """

    id: str
    label_zh: str
    label_en: str
    question: str
    pass_when: bool


@attrs.frozen
class Questionnaire:
    """A versioned interview questionnaire: sections, questions and exit criteria.

    Build one with :func:`load_questionnaire`, :meth:`from_path` or :meth:`from_toml`.

    Attributes:
        name: Slug (``"yunnan-household"``); the file is ``NAME-vVERSION.toml``.
        version: Version number, from 1.
        scope: ``"household"`` or ``"village"``.
        title_zh: Chinese title, as printed.
        title_en: English title.
        also_zh: Other Chinese titles the same form was published under.
        source: Where the form comes from.
        sections: The sections, in order.
        questions: The questions, in order.
        criteria: The exit-standard criteria the answers can be checked against.
    """

    name: str
    version: int
    scope: str
    title_zh: str
    title_en: str = ""
    also_zh: tuple[str, ...] = ()
    source: str = ""
    sections: tuple[Section, ...] = ()
    questions: tuple[Question, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    _by_id: Mapping[str, Question] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})

    @property
    def key(self) -> str:
        """``NAME@VERSION``, e.g. ``"yunnan-household@1"``: how stored answers name their form."""
        return f"{self.name}@{self.version}"

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<string>") -> Questionnaire:
        """Read a questionnaire from TOML text.

        Args:
            text: The file's content.
            source: The label for error messages (usually the path).

        Raises:
            PlanError: The text is not valid TOML or not a valid questionnaire;
                the message names ``source``, the key path and the reason.
        """
        try:
            data = tomllib.loads(text.removeprefix("\ufeff"))
        except tomllib.TOMLDecodeError as exc:
            raise PlanError(f"{source}: invalid TOML: {toml_reason(exc, text)}") from None
        return _Reader(source).questionnaire(data)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Questionnaire:
        """Read a questionnaire from a TOML file (UTF-8).

        The file name is not checked here; :func:`load_questionnaire` checks it.

        Raises:
            PlanError: The file cannot be read or is not a valid questionnaire.
        """
        return cls.from_toml(_read(Path(path), str(path)), source=str(path))

    def question(self, id: str) -> Question:
        """Return the question with this id.

        Raises:
            NotFound: No such question.
        """
        try:
            return self._by_id[id]
        except KeyError:
            raise NotFound(f'问卷 {self.key} 没有问题 "{id}" / {self.key} has no question "{id}"') from None

    def section_questions(self, section: str) -> tuple[Question, ...]:
        """Return the questions of one section, in order."""
        return tuple(q for q in self.questions if q.section == section)

    def clean(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Check answers and return them in canonical, JSON-ready form.

        The result has one entry per answered question, in questionnaire order;
        blank answers (None, empty text, empty list) of questions that are not
        required are dropped. See :meth:`Question.clean` for each type's
        canonical form. Yuan answers come back as integer fen, so the result is
        for storing, not for cleaning a second time.

        Raises:
            ValidationError: Listing every problem found: unknown question ids,
                answers that cannot be read or are out of range or not among the
                choices, and required questions left blank. Each problem's field
                is ``answers.<question id>``.
        """
        problems: list[Problem] = []
        for key in answers:
            if key not in self._by_id:
                near = difflib.get_close_matches(str(key), list(self._by_id), n=1)
                hint = f' (是否为 "{near[0]}"? / did you mean "{near[0]}"?)' if near else ""
                problems.append(Problem(f"answers.{key}", f"问卷中没有此问题 / not a question of {self.key}{hint}"))
        out: dict[str, Any] = {}
        for q in self.questions:
            try:
                value = q.clean(answers.get(q.id))
            except ValidationError as exc:
                problems.extend(exc.problems)
                continue
            if value is not None:
                out[q.id] = value
            elif q.required:
                problems.append(Problem(f"answers.{q.id}", "必答题未填写 / required answer missing"))
        if problems:
            raise ValidationError(problems, record=self.key)
        return out

    def to_input(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Cleaned answers as they are written in a file: yuan answers back in yuan text.

        ``clean(to_input(a)) == a`` for cleaned answers ``a``, so an exported
        visit imports back unchanged (yuan answers are stored as integer fen).
        """
        out = dict(answers)
        for q in self.questions:
            value = out.get(q.id)
            if q.type == "yuan" and isinstance(value, int) and not isinstance(value, bool):
                sign = "-" if value < 0 else ""
                out[q.id] = f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"
        return out

    def criteria_results(self, answers: Mapping[str, Any]) -> dict[str, bool | None]:
        """Return, for each criterion id, whether the answers meet it.

        Only the criteria's own questions are read, so a partly filled
        questionnaire can be checked; ``answers`` may be raw or cleaned.
        The value is None when that question has no answer.

        Raises:
            ValidationError: A criterion's answer cannot be read as 是/否.
        """
        results: dict[str, bool | None] = {}
        problems: list[Problem] = []
        for c in self.criteria:
            try:
                value = self._by_id[c.question].clean(answers.get(c.question))
            except ValidationError as exc:
                problems.extend(exc.problems)
                continue
            results[c.id] = None if value is None else value == c.pass_when
        if problems:
            raise ValidationError(problems, record=self.key)
        return results

    def to_dict(self) -> dict[str, Any]:
        """Return the definition as JSON-ready data, shaped like the TOML file plus ``key``."""
        return {
            "format_version": FORMAT_VERSION,
            "key": self.key,
            "questionnaire": {
                "name": self.name,
                "version": self.version,
                "scope": self.scope,
                "title_zh": self.title_zh,
                "title_en": self.title_en,
                "also_zh": list(self.also_zh),
                "source": self.source,
            },
            "sections": [attrs.asdict(s) for s in self.sections],
            "questions": [attrs.asdict(q, value_serializer=_listify) for q in self.questions],
            "criteria": [attrs.asdict(c) for c in self.criteria],
        }


def _listify(_inst: Any, _field: Any, value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# --------------------------------------------------------------------------- reading files


class _Reader(TomlReader):
    """Validates a parsed questionnaire file and builds the model; raises on the first problem."""

    def text(self, table: Mapping[str, Any], key: str, prefix: str) -> str:
        value = self.get(table, key, prefix, "string").strip()
        if not value:
            self.fail(join(prefix, key), "must not be empty")
        return value

    def ident(self, table: Mapping[str, Any], prefix: str) -> str:
        value = self.get(table, "id", prefix, "string")
        if not _ID.fullmatch(value):
            self.fail(join(prefix, "id"), f'"{value}" is not an id (lower-case letters, digits, "_"; a letter first)')
        return value

    def questionnaire(self, data: dict[str, Any]) -> Questionnaire:
        self.only(data, ["format_version", "questionnaire", "sections", "questions", "criteria"], "")
        version = self.get(data, "format_version", "", "integer", required=False, default=FORMAT_VERSION)
        if version != FORMAT_VERSION:
            self.fail("format_version", f"this fupin reads format {FORMAT_VERSION}, not {version}")

        head = self.get(data, "questionnaire", "", "table")
        p = "questionnaire"
        self.only(head, ["name", "version", "scope", "title_zh", "title_en", "also_zh", "source"], p)
        name = self.get(head, "name", p, "string")
        if not _SLUG.fullmatch(name):
            self.fail(f"{p}.name", f'"{name}" is not a questionnaire name (lower-case letters, digits and "-")')
        number = self.get(head, "version", p, "integer")
        if number < 1:
            self.fail(f"{p}.version", f"must be 1 or more, got {number}")
        scope = self.get(head, "scope", p, "string")
        if scope not in SCOPES:
            self.fail(f"{p}.scope", f"unknown scope {scope!r} (scopes: {', '.join(SCOPES)})")

        sections = self.sections(self.get(data, "sections", "", "tables"))
        questions = self.questions(self.get(data, "questions", "", "tables"), {s.id for s in sections})
        criteria = self.criteria(self.get(data, "criteria", "", "tables", required=False, default=[]), questions)
        return Questionnaire(
            name=name,
            version=number,
            scope=scope,
            title_zh=self.text(head, "title_zh", p),
            title_en=self.get(head, "title_en", p, "string", required=False, default=""),
            also_zh=tuple(self.get(head, "also_zh", p, "strings", required=False, default=[])),
            source=self.get(head, "source", p, "string", required=False, default=""),
            sections=sections,
            questions=questions,
            criteria=criteria,
        )

    def sections(self, tables: list[dict[str, Any]]) -> tuple[Section, ...]:
        if not tables:
            self.fail("sections", "a questionnaire needs at least one section")
        seen: dict[str, int] = {}
        out = []
        for i, t in enumerate(tables):
            p = f"sections[{i}]"
            self.only(t, ["id", "title_zh", "title_en", "fupin_addition"], p)
            sid = self.ident(t, p)
            if sid in seen:
                self.fail(f"{p}.id", f'duplicate section id "{sid}" (also sections[{seen[sid]}])')
            seen[sid] = i
            out.append(
                Section(
                    id=sid,
                    title_zh=self.text(t, "title_zh", p),
                    title_en=self.get(t, "title_en", p, "string", required=False, default=""),
                    fupin_addition=self.get(t, "fupin_addition", p, "boolean", required=False, default=False),
                )
            )
        return tuple(out)

    def questions(self, tables: list[dict[str, Any]], sections: set[str]) -> tuple[Question, ...]:
        if not tables:
            self.fail("questions", "a questionnaire needs at least one question")
        seen: dict[str, int] = {}
        out = []
        for i, t in enumerate(tables):
            p = f"questions[{i}]"
            self.only(t, [f.name for f in attrs.fields(Question)], p)
            qid = self.ident(t, p)
            if qid in seen:
                self.fail(f"{p}.id", f'duplicate question id "{qid}" (also questions[{seen[qid]}])')
            seen[qid] = i
            kind = self.get(t, "type", p, "string")
            if kind not in QUESTION_TYPES:
                near = difflib.get_close_matches(kind, QUESTION_TYPES, n=1)
                hint = f', did you mean "{near[0]}"?' if near else ""
                self.fail(f"{p}.type", f"unknown type {kind!r} (types: {', '.join(QUESTION_TYPES)}{hint})")
            section = self.get(t, "section", p, "string")
            if section not in sections:
                self.fail(f"{p}.section", f'no section "{section}" (sections: {", ".join(sorted(sections))})')
            out.append(
                Question(
                    id=qid,
                    number=self.get(t, "number", p, "string", required=False, default=""),
                    section=section,
                    text_zh=self.text(t, "text_zh", p),
                    text_en=self.get(t, "text_en", p, "string", required=False, default=""),
                    type=kind,
                    choices=self.choices(t, kind, p),
                    **self.bounds(t, kind, p),
                    unit=self.get(t, "unit", p, "string", required=False, default=""),
                    required=self.get(t, "required", p, "boolean", required=False, default=False),
                )
            )
        return tuple(out)

    def choices(self, t: Mapping[str, Any], kind: str, p: str) -> tuple[str, ...]:
        if kind not in ("choice", "multi"):
            if "choices" in t:
                self.fail(f"{p}.choices", f"only choice and multi questions have choices, this one is {kind}")
            return ()
        choices = self.get(t, "choices", p, "strings")
        if not choices:
            self.fail(f"{p}.choices", "must list at least one choice")
        keys: dict[str, str] = {}
        for c in choices:
            if not c.strip() or c != c.strip():
                self.fail(f"{p}.choices", f"choice {c!r} is empty or has surrounding spaces")
            if normalize_key(c) in keys:
                self.fail(f"{p}.choices", f'"{c}" is the same choice as "{keys[normalize_key(c)]}"')
            keys[normalize_key(c)] = c
            if kind == "multi" and _SPLIT.search(unicodedata.normalize("NFKC", c)):
                self.fail(f"{p}.choices", f'"{c}" contains a separator (、,;/|), which a multi answer splits on')
        return tuple(choices)

    def bounds(self, t: Mapping[str, Any], kind: str, p: str) -> dict[str, Any]:
        found = {k: t[k] for k in ("min", "max") if k in t}
        if found and kind not in _NUMERIC:
            self.fail(f"{p}.{next(iter(found))}", f"only int, decimal and yuan questions have bounds, this one is {kind}")
        for k in found:
            self.get(t, k, p, "integer" if kind == "int" else "number")
        if len(found) == 2 and found["min"] > found["max"]:
            self.fail(f"{p}.max", f"{found['max']} is less than min {found['min']}")
        return found

    def criteria(self, tables: list[dict[str, Any]], questions: tuple[Question, ...]) -> tuple[Criterion, ...]:
        by_id = {q.id: q for q in questions}
        seen: dict[str, int] = {}
        out = []
        for i, t in enumerate(tables):
            p = f"criteria[{i}]"
            self.only(t, ["id", "label_zh", "label_en", "question", "pass_when"], p)
            cid = self.ident(t, p)
            if cid in seen:
                self.fail(f"{p}.id", f'duplicate criterion id "{cid}" (also criteria[{seen[cid]}])')
            seen[cid] = i
            qid = self.get(t, "question", p, "string")
            if qid not in by_id:
                self.fail(f"{p}.question", f'no question "{qid}"')
            if by_id[qid].type != "bool":
                self.fail(f"{p}.question", f'"{qid}" is a {by_id[qid].type} question; a criterion needs a bool question')
            out.append(
                Criterion(
                    id=cid,
                    label_zh=self.text(t, "label_zh", p),
                    label_en=self.get(t, "label_en", p, "string", required=False, default=""),
                    question=qid,
                    pass_when=self.get(t, "pass_when", p, "boolean"),
                )
            )
        return tuple(out)


def _read(resource: Any, label: str) -> str:
    try:
        return resource.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError(f"{label}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise PlanError(f"{label}: cannot read questionnaire: {exc.strerror or exc}") from None


def _packaged_dir() -> Any:
    return importlib.resources.files("fupin") / "data" / "questionnaires"


def _catalogue(extra: Iterable[str | os.PathLike[str]]) -> dict[tuple[str, int], tuple[Any, str]]:
    """Every known (name, version), with the file to read and its label for messages."""
    found: dict[tuple[str, int], tuple[Any, str]] = {}

    def add(resource: Any, label: str) -> None:
        m = _FILE_NAME.fullmatch(resource.name)
        if m is None:
            raise PlanError(f"{label}: a questionnaire file must be named NAME-vVERSION.toml (e.g. yunnan-household-v2.toml)")
        key = (m["name"], int(m["version"]))
        if key in found:
            raise PlanError(f"{label}: {key[0]}@{key[1]} is already defined by {found[key][1]}")
        found[key] = (resource, label)

    packaged = _packaged_dir()
    for entry in sorted(packaged.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            add(entry, f"fupin/data/questionnaires/{entry.name}")
    for item in extra:
        path = Path(item)
        if path.is_dir():
            for file in sorted(path.glob("*.toml")):
                add(file, str(file))
        elif path.is_file():
            add(path, str(path))
        else:
            raise PlanError(f"{path}: no such questionnaire file or directory")
    return found


def available_questionnaires(extra: Iterable[str | os.PathLike[str]] = ()) -> list[tuple[str, int]]:
    """Return the ``(name, version)`` of every questionnaire, packaged and in ``extra``, sorted.

    Args:
        extra: Further questionnaire files, or directories whose ``*.toml`` files
            are questionnaires; names must follow ``NAME-vVERSION.toml``.

    Raises:
        PlanError: An extra path does not exist, a file is misnamed, or two files
            define the same name and version.
    """
    return sorted(_catalogue(extra))


def load_questionnaire(
    name: str,
    version: int | None = None,
    *,
    extra: Iterable[str | os.PathLike[str]] = (),
) -> Questionnaire:
    """Load a questionnaire by name, packaged or from ``extra``.

    Args:
        name: The questionnaire's name (``"yunnan-household"``), or its key
            (``"yunnan-household@1"``) when ``version`` is not given.
        version: The version wanted; the latest one when None.
        extra: Further questionnaire files or directories (see :func:`available_questionnaires`).

    Raises:
        NotFound: No questionnaire of that name, or not in that version; the
            message lists what is available.
        PlanError: The file is not a valid questionnaire, or its name and
            version disagree with its file name.
    """
    if version is None and "@" in name:
        name, _, wanted = name.partition("@")
        if not wanted.isdigit():
            raise NotFound(f'"{name}@{wanted}": 版本应为整数 / the version must be a whole number')
        version = int(wanted)
    catalogue = _catalogue(extra)
    versions = sorted(v for n, v in catalogue if n == name)
    if not versions:
        known = ", ".join(f"{n}@{v}" for n, v in sorted(catalogue)) or "none"
        raise NotFound(f'没有问卷 "{name}" / no questionnaire named "{name}" (available: {known})')
    if version is None:
        version = versions[-1]
    if version not in versions:
        listed = ", ".join(str(v) for v in versions)
        raise NotFound(f'问卷 "{name}" 没有第 {version} 版 / "{name}" has no version {version} (versions: {listed})')
    resource, label = catalogue[(name, version)]
    q = Questionnaire.from_toml(_read(resource, label), source=label)
    if (q.name, q.version) != (name, version):
        raise PlanError(
            f'{label}: questionnaire: name "{q.name}" and version {q.version} '
            f"do not match the file name ({name}-v{version}.toml)"
        )
    return q
