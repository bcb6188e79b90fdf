"""The plugin's support-action kinds, their details and the rules checked before one is stored.

Every record of the stream is a support action (the one ledger):

- ``training.agri_session`` (C20): one session of an agricultural-technology
  course: the technique, trainers, place and villager group; its hours are
  ``quantities.hours`` and every attendee is a ``person:ID`` beneficiary, so
  attendance is kept per person.
- ``training.skill_assessment`` (C21): a recorded assessment of one person in
  one technique (``person:ID`` beneficiary), with the assessor and the result.
- ``training.party_training`` (C17): the training plan for the village's party
  cadres, party lessons, policy lectures and trainings, with the attendees.
- ``training.research_project`` (C22): a research project serving the village:
  title (the action's title), lead, funding (``amount_fen``), years (start and
  end dates), technique or sector; the village is a beneficiary.
"""

from __future__ import annotations

from typing import Any

import attrs

from fupin import ActionKind, Problem, ValidationError

from fupin_training import catalogue as cat

AGRI_SESSION = "training.agri_session"
SKILL_ASSESSMENT = "training.skill_assessment"
PARTY_TRAINING = "training.party_training"
RESEARCH_PROJECT = "training.research_project"

#: Formats of party-cadre training (the list ``training_party_format``).
TRAINING_PLAN = "training_plan"
PARTY_FORMATS = ("training_plan", "party_lesson", "policy_lecture", "training")
PASS, FAIL = "pass", "fail"


def _not_blank(_inst: object, attr: attrs.Attribute, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.of(attr.name, "必填 / required", value)


def _one_of(values: tuple[str, ...], list_name: str) -> Any:
    def check(_inst: object, attr: attrs.Attribute, value: str) -> None:
        if value not in values:
            labels = "、".join(f"{cat.label(None, list_name, v)} ({v})" for v in values)
            raise ValidationError.of(attr.name, f"应为 / must be one of: {labels}", value)

    return check


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.replace("，", "、").replace(",", "、").split("、")
    return tuple(v.strip() for v in value if v and v.strip())


def _not_negative(_inst: object, attr: attrs.Attribute, value: int) -> None:
    if value < 0:
        raise ValidationError.of(attr.name, "不能为负 / must not be negative", value)


@attrs.frozen
class AgriSession:
    """One session of an agricultural-technology course (农业技术培训, C20).

    Attributes:
        technique: the technique taught, a code of the catalogue (``fruit_trees.blueberry``);
            its Chinese name or an alias is accepted and stored as the code.
        place: where the session was held (村委会活动室, a demonstration field ...).
        trainers: the teachers who are not registered cadres (names); cadres who
            taught are the action's helpers.
        group: the villager group (村民小组) code where it was held, if in one.
        course: the course the session belongs to.
    """

    # No metadata "vocab" on techniques: an import would turn a code of an extension
    # (livestock.yak) into its Chinese name, which the details class cannot resolve.
    technique: str = attrs.field(converter=cat.technique_code, validator=cat.check_technique, metadata={"zh": "技术"})
    place: str = attrs.field(validator=_not_blank, metadata={"zh": "培训地点"})
    trainers: tuple[str, ...] = attrs.field(default=(), converter=_names, metadata={"zh": "授课教师"})
    group: str = attrs.field(default="", converter=str.strip, metadata={"zh": "村民小组"})
    course: str = attrs.field(default="", metadata={"zh": "课程"})


@attrs.frozen
class SkillAssessment:
    """A person assessed in one technique (实用技术考核, C21): ``pass`` means mastered.

    Attributes:
        technique: the technique assessed (code, name or alias).
        assessor: who assessed (a teacher, the township agricultural station).
        result: ``pass`` (合格) or ``fail`` (不合格).
        method: how (现场操作, 笔试 ...).
        certificate: the certificate number, if one was issued.
    """

    technique: str = attrs.field(converter=cat.technique_code, validator=cat.check_technique, metadata={"zh": "技术"})
    assessor: str = attrs.field(validator=_not_blank, metadata={"zh": "考核人"})
    result: str = attrs.field(default=PASS, converter=cat.code_in(cat.RESULTS), validator=_one_of((PASS, FAIL), cat.RESULTS),
                              metadata={"zh": "考核结果", "vocab": cat.RESULTS})
    method: str = attrs.field(default="", metadata={"zh": "考核方式"})
    certificate: str = attrs.field(default="", metadata={"zh": "证书编号"})


@attrs.frozen
class PartyTraining:
    """Party-organisation building (C17): the training plan, a party lesson, a policy lecture or a training.

    Attributes:
        format: ``training_plan`` (培训规划: the period is the action's dates),
            ``party_lesson`` (党课), ``policy_lecture`` (政策宣讲) or ``training`` (党员干部培训).
        topic: the subject.
        attendees: how many village party members and cadres attended.
        speaker: who gave it.
    """

    format: str = attrs.field(converter=cat.code_in(cat.PARTY_FORMATS), validator=_one_of(PARTY_FORMATS, cat.PARTY_FORMATS),
                              metadata={"zh": "形式", "vocab": cat.PARTY_FORMATS})
    topic: str = attrs.field(validator=_not_blank, metadata={"zh": "主题"})
    attendees: int = attrs.field(default=0, validator=_not_negative, metadata={"zh": "参训人数"})
    speaker: str = attrs.field(default="", metadata={"zh": "主讲人"})


@attrs.frozen
class ResearchProject:
    """A research project serving the village's development (C22).

    The project's title is the action's title, its funding the action's
    amount (``amount_fen``), its years the action's start and end dates.

    Attributes:
        lead: the project leader.
        technique: the technique it serves (code), or
        sector: the sector it serves (产业发展, 教育扶贫 ...); one of the two is required.
        project_no: the approval number (立项编号).
        funder: where the money comes from (校级科研扶贫专项 ...).
    """

    lead: str = attrs.field(validator=_not_blank, metadata={"zh": "项目负责人"})
    technique: str = attrs.field(default="", converter=cat.technique_code, validator=cat.optional_technique, metadata={"zh": "技术"})
    sector: str = attrs.field(default="", metadata={"zh": "服务领域"})
    project_no: str = attrs.field(default="", metadata={"zh": "立项编号"})
    funder: str = attrs.field(default="", metadata={"zh": "经费来源"})

    def __attrs_post_init__(self) -> None:
        if not self.technique and not self.sector.strip():
            raise ValidationError.of("sector", "须填写技术或服务领域 / a technique or a sector is required")


def action_kinds() -> list[ActionKind]:
    """The four kinds of the stream."""
    return [
        ActionKind(
            AGRI_SESSION, "农业技术培训", "Agricultural-technology training session", AgriSession,
            beneficiary_types=("person", "village"), quantities=("hours", "people"),
            description="One session of a course on a practical technique (C20); attendees are person beneficiaries, "
                        "hours count towards the plan's skill rule (C21).",
        ),
        ActionKind(
            SKILL_ASSESSMENT, "实用技术考核", "Skill assessment", SkillAssessment,
            beneficiary_types=("person",),
            description="One person assessed in one technique (C21); a pass means the person masters it.",
        ),
        ActionKind(
            PARTY_TRAINING, "党员干部培训", "Party-cadre training", PartyTraining,
            beneficiary_types=("village", "person"), quantities=("hours",),
            description="Training plan, party lessons, policy lectures and trainings for the village's party cadres (C17).",
        ),
        ActionKind(
            RESEARCH_PROJECT, "服务地方科研项目", "Research project serving the village", ResearchProject,
            beneficiary_types=("village", "household", "unit"),
            description="A research project linked to the village (C22): title, lead, funding, years, technique or sector.",
        ),
    ]


def problems(action: Any) -> list[Problem]:
    """The rules across fields of the stream's actions (``fupin_validate_record``)."""
    out: list[Problem] = []
    types = [b.type for b in action.beneficiaries]
    if action.kind == AGRI_SESSION:
        if action.quantities.get("hours", 0) <= 0:
            out.append(Problem("quantities.hours", "培训须填写学时 / a session needs its hours (quantities.hours > 0)"))
        if not action.beneficiaries:
            out.append(Problem("beneficiaries", "须有参训人员或村 / name the attendees (person:ID) or the village"))
        if not action.helpers and not (action.details and action.details.trainers):
            out.append(Problem("details.trainers", "须有授课教师 / name the trainers (helpers or details.trainers)"))
    elif action.kind == SKILL_ASSESSMENT:
        if types.count("person") != 1:
            out.append(Problem("beneficiaries", "考核须且只能有一名人员 / an assessment names exactly one person:ID", ", ".join(map(str, action.beneficiaries))))
    elif action.kind == PARTY_TRAINING:
        if not action.beneficiaries:
            out.append(Problem("beneficiaries", "须有村或参训人员 / name the village or the attendees"))
    elif action.kind == RESEARCH_PROJECT:
        if not action.title.strip():
            out.append(Problem("title", "须填写项目名称 / the project's title is required"))
        if "village" not in types:
            out.append(Problem("beneficiaries", "须关联服务的村 / name the village it serves (village:CODE)"))
    return out
