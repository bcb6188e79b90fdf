"""The education stream's support-action kinds (C23 to C27) and their details.

One kind per record type, all in the one ledger of support actions:

=============================  ====  ==============================================
kind                           plan  what one action records
=============================  ====  ==============================================
``education.teacher_visit``    C23   teachers of a named school at the university:
                                     visit, lessons observed, free courses, library
``education.teacher_training`` C24   professors train local teachers in the town
``education.internship``       C25   one student teacher at a host school, one term
``education.sanxiaxiang``      C26   one 三下乡 team in one vacation
``education.study_pair``       C27   one staff member paired with one poor student
=============================  ====  ==============================================

Teachers of the schools are not registered persons: a trainee is written
``姓名@单位代码`` (``张老师@ZHZ-YZ``), and each trainee's school must also be a
``unit:CODE`` beneficiary of the action, so fupin checks the school exists.
Subjects, activity types and evaluations are vocabulary data
(``vocabularies.toml``), not code.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

from fupin import ActionKind, Problem, ValidationError, Vocabulary
from fupin.ext import current_vocabulary

TEACHER_VISIT = "education.teacher_visit"
TEACHER_TRAINING = "education.teacher_training"
INTERNSHIP = "education.internship"
SANXIAXIANG = "education.sanxiaxiang"
STUDY_PAIR = "education.study_pair"

KINDS = (TEACHER_VISIT, TEACHER_TRAINING, INTERNSHIP, SANXIAXIANG, STUDY_PAIR)

#: The plugin's vocabulary file (returned by ``fupin_vocabularies``).
VOCABULARY_FILE = Path(__file__).with_name("vocabularies.toml")

#: Months a team of each vacation may start in (a winter team can leave before New Year).
VACATION_START_MONTHS = {"寒假": (12, 1, 2, 3), "暑假": (6, 7, 8, 9)}


@functools.cache
def vocabulary() -> Vocabulary:
    """fupin's packaged vocabulary extended with this plugin's lists (loaded once, on first use).

    Converters check against the store's vocabulary when there is one
    (``current_vocabulary``: a province may extend these lists), this one otherwise.
    """
    return Vocabulary.default().extend(VOCABULARY_FILE)


# -- converters and validators -----------------------------------------------------------------

_TRAINEE = re.compile(r"^(?P<name>[^@]+?)\s*@\s*(?P<school>[A-Za-z0-9][A-Za-z0-9_.\-]*)$")


def _items(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v for v in re.split(r"[、,，;；]", value) if v.strip()]
    return list(value or ())


def _term(list_name: str, field: str, *, optional: bool = False) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if optional and (value is None or str(value).strip() == ""):
            return ""
        return current_vocabulary(vocabulary()).check(list_name, value, field=f"details.{field}")

    return convert


def _terms(list_name: str, field: str) -> Callable[[Any], tuple[str, ...]]:
    def convert(values: Any) -> tuple[str, ...]:
        vocab = current_vocabulary(vocabulary())
        return tuple(vocab.check(list_name, v, field=f"details.{field}") for v in _items(values))

    return convert


def _names(values: Any) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in _items(values) if str(v).strip())


def _trainees(values: Any) -> tuple[str, ...]:
    out = []
    for raw in _items(values):
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        match = _TRAINEE.match(text)
        if match is None:
            raise ValidationError.of(
                "details.trainees", "受训教师应写作 姓名@学校代码 / write each trainee as NAME@SCHOOL-CODE, e.g. 张老师@ZHZ-YZ", raw
            )
        out.append(f"{match['name'].strip()}@{match['school']}")
    return tuple(out)


def _required(_inst: object, attr: attrs.Attribute, value: str) -> None:
    if not str(value).strip():
        raise ValidationError.of(f"details.{attr.name}", "必填 / required", value)


def _not_empty(_inst: object, attr: attrs.Attribute, value: tuple[str, ...]) -> None:
    if not value:
        raise ValidationError.of(f"details.{attr.name}", "至少一项 / at least one is required", "")


def _non_negative(_inst: object, attr: attrs.Attribute, value: int) -> None:
    if value < 0:
        raise ValidationError.of(f"details.{attr.name}", "不能为负 / must not be negative", value)


def trainee_parts(trainee: str) -> tuple[str, str]:
    """``("张老师", "ZHZ-YZ")`` from ``"张老师@ZHZ-YZ"``."""
    name, _, school = trainee.rpartition("@")
    return name, school


# -- details -------------------------------------------------------------------------------------


@attrs.frozen
class TeacherVisit:
    """Teachers of a school at the university (C23): visit, observe lessons, free courses, library.

    Attributes:
        programme: the programme's name (培训项目).
        trainees: the teachers, each ``姓名@学校代码``.
        visit_activities: what they did (vocabulary ``education_visit_activity``).
        host: the college or office that received them.
        free_of_charge: the plan promises free training; a charged programme does not count for C23.
    """

    programme: str = attrs.field(validator=_required, metadata={"zh": "培训项目"})
    trainees: tuple[str, ...] = attrs.field(converter=_trainees, validator=_not_empty, metadata={"zh": "受训教师"})
    visit_activities: tuple[str, ...] = attrs.field(
        default=(), converter=_terms("education_visit_activity", "visit_activities"), metadata={"zh": "来校活动", "vocab": "education_visit_activity"}
    )
    host: str = attrs.field(default="", metadata={"zh": "接待单位"})
    free_of_charge: bool = attrs.field(default=True, metadata={"zh": "是否免费"})


@attrs.frozen
class TeacherTraining:
    """Professors train local teachers in the town on methods and means (C24).

    Attributes:
        subject: the subject (vocabulary ``education_subject``).
        topic: what the session was about.
        trainers: the professors who trained, by name.
        trainees: the teachers trained, each ``姓名@学校代码`` (may be left empty; count them in ``people``).
        place: where the session was held (the plan asks for 者海镇).
    """

    subject: str = attrs.field(converter=_term("education_subject", "subject"), metadata={"zh": "学科", "vocab": "education_subject"})
    topic: str = attrs.field(validator=_required, metadata={"zh": "培训主题"})
    trainers: tuple[str, ...] = attrs.field(converter=_names, validator=_not_empty, metadata={"zh": "培训专家"})
    trainees: tuple[str, ...] = attrs.field(default=(), converter=_trainees, metadata={"zh": "受训教师"})
    place: str = attrs.field(default="", metadata={"zh": "培训地点"})


@attrs.frozen
class Internship:
    """One student teacher's teaching practice at a host school for one term (C25).

    The host school is the action's one ``unit:CODE`` beneficiary; the term is
    the action's start and end dates.

    Attributes:
        student: the student teacher.
        student_no: the student's number at the university.
        subject: the subject taught (vocabulary ``education_subject``).
        mentor: the host school's mentor teacher.
        supervisor: the university's supervising teacher.
        lessons: lessons taught during the term.
        evaluation: the final evaluation (vocabulary ``education_evaluation``), empty until given.
    """

    student: str = attrs.field(validator=_required, metadata={"zh": "实习生"})
    subject: str = attrs.field(converter=_term("education_subject", "subject"), metadata={"zh": "学科", "vocab": "education_subject"})
    mentor: str = attrs.field(validator=_required, metadata={"zh": "实习学校指导教师"})
    supervisor: str = attrs.field(validator=_required, metadata={"zh": "带队教师"})
    student_no: str = attrs.field(default="", metadata={"zh": "学号"})
    lessons: int = attrs.field(default=0, validator=_non_negative, metadata={"zh": "授课节数"})
    evaluation: str = attrs.field(
        default="", converter=_term("education_evaluation", "evaluation", optional=True), metadata={"zh": "实习评价", "vocab": "education_evaluation"}
    )


@attrs.frozen
class Sanxiaxiang:
    """One 三下乡 student social-practice team in one winter or summer vacation (C26).

    Attributes:
        team: the team's name (the same name in both vacations is the same team).
        vacation: 寒假 or 暑假 (vocabulary ``education_vacation``).
        supervisor: the supervising teacher.
        members: the students, by name.
        places: where the team worked.
        activities: one entry per activity held (vocabulary ``education_activity``:
            支教, 义诊, 科普, 宣讲, 调研, 文艺演出); repeat a type held twice.
    """

    team: str = attrs.field(validator=_required, metadata={"zh": "服务团"})
    vacation: str = attrs.field(converter=_term("education_vacation", "vacation"), metadata={"zh": "假期", "vocab": "education_vacation"})
    supervisor: str = attrs.field(validator=_required, metadata={"zh": "带队教师"})
    members: tuple[str, ...] = attrs.field(converter=_names, validator=_not_empty, metadata={"zh": "队员"})
    activities: tuple[str, ...] = attrs.field(
        converter=_terms("education_activity", "activities"), validator=_not_empty, metadata={"zh": "活动", "vocab": "education_activity"}
    )
    places: tuple[str, ...] = attrs.field(default=(), converter=_names, metadata={"zh": "服务地点"})


@attrs.frozen
class StudyPair:
    """A staff member paired one-to-one with a poor student for study support (C27).

    The student is the action's one ``person:ID`` beneficiary; the pairing runs
    from the action's start to its end; money given is its ``amount``.

    Attributes:
        staff: the staff member (教职工), by name (also a helper if a registered cadre).
        staff_unit: the staff member's college or office.
        support: kinds of support given (vocabulary ``education_support``).
        note: what was done, in a sentence.
    """

    staff: str = attrs.field(validator=_required, metadata={"zh": "结对教职工"})
    staff_unit: str = attrs.field(default="", metadata={"zh": "所在部门"})
    support: tuple[str, ...] = attrs.field(default=(), converter=_terms("education_support", "support"), metadata={"zh": "帮扶内容", "vocab": "education_support"})
    note: str = attrs.field(default="", metadata={"zh": "帮扶情况"})


def action_kinds() -> list[ActionKind]:
    """The five kinds of the education stream."""
    return [
        ActionKind(
            TEACHER_VISIT, "中小学教师来校参观学习培训", "Teachers trained at the university", TeacherVisit,
            beneficiary_types=("unit",), quantities=("hours", "people"),
            description="Teachers of a named school visit the university, observe lessons, use the library and take free courses (C23).",
        ),
        ActionKind(
            TEACHER_TRAINING, "送教下乡培训中小学教师", "Teacher training in the town", TeacherTraining,
            beneficiary_types=("unit", "village"), quantities=("hours", "people"),
            description="Professors of Chinese, mathematics, English ... train local teachers on methods and means (C24).",
        ),
        ActionKind(
            INTERNSHIP, "教育实习", "Teaching internship", Internship,
            beneficiary_types=("unit",),
            description="A student teacher placed at a host school for a term: the school is the unit beneficiary (C25).",
        ),
        ActionKind(
            SANXIAXIANG, "三下乡社会实践服务团", "三下乡 student team", Sanxiaxiang,
            beneficiary_types=("village", "unit", "household", "person"), quantities=("people", "days"),
            description="A student social-practice team in a winter or summer vacation; people = people served (C26).",
        ),
        ActionKind(
            STUDY_PAIR, "教职工一对一结对助学", "One-to-one study pair", StudyPair,
            beneficiary_types=("person",), quantities=("hours",),
            description="A staff member paired with one in-school student of a poor household, from start to end (C27).",
        ),
    ]


# -- record rules (fupin_validate_record) ----------------------------------------------------------


def _of_type(action: Any, kind: str) -> list[str]:
    return [b.ref for b in action.beneficiaries if b.type == kind]


def record_problems(action: Any) -> list[Problem]:
    """Rules across an action's fields that its details class cannot see."""
    d = action.details
    problems: list[Problem] = []
    if action.kind in (TEACHER_VISIT, TEACHER_TRAINING):
        units = set(_of_type(action, "unit"))
        if action.kind == TEACHER_VISIT and not units:
            problems.append(Problem("beneficiaries", "须列出受训教师的学校 unit:代码 / name the trainees' schools as unit:CODE"))
        missing = sorted({trainee_parts(t)[1] for t in getattr(d, "trainees", ())} - units)
        problems += [
            Problem("beneficiaries", "受训教师的学校须列为受益单位 / add the school of each trainee as unit:CODE", code) for code in missing
        ]
    elif action.kind == INTERNSHIP:
        if len(_of_type(action, "unit")) != 1:
            problems.append(Problem("beneficiaries", "须有且只有一所实习学校 unit:代码 / exactly one host school as unit:CODE"))
    elif action.kind == SANXIAXIANG and d is not None:
        months = VACATION_START_MONTHS.get(d.vacation, ())
        if months and action.start.month not in months:
            problems.append(Problem("start", f"{d.vacation}服务团的开始日期不在{d.vacation} / the start is not in that vacation", action.start.isoformat()))
    elif action.kind == STUDY_PAIR:
        if len(_of_type(action, "person")) != 1:
            problems.append(Problem("beneficiaries", "一对一结对须有且只有一名学生 person:证件号码 / exactly one student as person:ID"))
    return problems


def vocab_fields(details: type) -> Iterable[tuple[str, str]]:
    """(field, vocabulary list) of the single-valued details fields drawn from a list."""
    for field in attrs.fields(details):
        if "vocab" in field.metadata and not str(field.type).startswith("tuple"):
            yield field.name, field.metadata["vocab"]
