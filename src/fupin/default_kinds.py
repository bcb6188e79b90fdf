"""The built-in plugin ``core``: support-action kinds every plan needs.

It uses the same hooks as any other plugin (Datasette's DEFAULT_PLUGINS), so
the core gets no special path: leadership meetings (C03), leaders' site visits
(C04), policy publicity (C14), goods given in kind, leading-group roles (C01),
secondments (C06), exit and development plans (C15), supervision (C34) and publications (C36). The streams (education,
training, funding, psychology) add their own kinds in their own plugins.
"""

from __future__ import annotations

from typing import Any

import attrs

from fupin import hookimpl
from fupin.actions import ActionKind


def _not_blank(_inst: object, attr: attrs.Attribute, value: str) -> None:
    if not value.strip():
        raise ValueError(f"{attr.name}: 必填 / required")


@attrs.frozen
class MeetingDetails:
    """A meeting of the leadership (领导班子研究扶贫工作)."""

    topic: str = attrs.field(validator=_not_blank, metadata={"zh": "议题"})
    # Which body met (党委常委会, 校长办公会 ...): a plan names the leadership bodies whose meetings count (C03).
    body: str = attrs.field(default="", metadata={"zh": "会议 (党委常委会、校长办公会等)"})
    chaired_by: str = attrs.field(default="", metadata={"zh": "主持人"})
    minutes_ref: str = attrs.field(default="", metadata={"zh": "会议纪要编号"})
    decisions: tuple[str, ...] = attrs.field(default=(), metadata={"zh": "决定事项"})


@attrs.frozen
class SiteVisitDetails:
    """Leaders on site: research (调研) or an on-site office (现场办公)."""

    purpose: str = attrs.field(validator=_not_blank, metadata={"zh": "目的"})
    mode: str = attrs.field(default="调研", validator=attrs.validators.in_(("调研", "现场办公")), metadata={"zh": "方式"})
    findings: str = attrs.field(default="", metadata={"zh": "发现问题"})


@attrs.frozen
class PublicityDetails:
    """Policy publicity and opinions collected (政策宣传, 收集意见建议)."""

    topic: str = attrs.field(validator=_not_blank, metadata={"zh": "宣传主题"})
    feedback_items: tuple[str, ...] = attrs.field(default=(), metadata={"zh": "收集意见"})
    passed_to: str = attrs.field(default="", metadata={"zh": "反馈部门"})


@attrs.frozen
class GoodsDetails:
    """Goods given in kind (物资捐赠): what, how many, in what unit."""

    item: str = attrs.field(validator=_not_blank, metadata={"zh": "物品"})
    quantity: int = attrs.field(validator=attrs.validators.gt(0), metadata={"zh": "数量"})
    unit_of_measure: str = attrs.field(default="件", metadata={"zh": "计量单位"})


@attrs.frozen
class AppointmentDetails:
    """A role in the plan's organisation (C01): 组长, 分管副校长 ... held by a cadre."""

    role: str = attrs.field(validator=_not_blank, metadata={"zh": "职责"})
    document_ref: str = attrs.field(default="", metadata={"zh": "文件编号"})


@attrs.frozen
class SecondmentDetails:
    """A cadre seconded to the village or town (C06): 挂职领导, 工作队队长, 指导员."""

    role: str = attrs.field(validator=_not_blank, metadata={"zh": "派驻职务"})
    posted_to: str = attrs.field(default="", metadata={"zh": "派驻地"})
    moved_from: str = attrs.field(default="", metadata={"zh": "原派驻地"})


@attrs.frozen
class DevelopmentPlanDetails:
    """A village exit plan or a household development plan (C15), with its measures and status."""

    scope: str = attrs.field(validator=attrs.validators.in_(("village", "household")), metadata={"zh": "范围"})
    measures: tuple[str, ...] = attrs.field(default=(), metadata={"zh": "帮扶措施"})
    status: str = attrs.field(default="执行中", validator=attrs.validators.in_(("制定", "执行中", "已调整", "已完成")), metadata={"zh": "状态"})
    revision: int = attrs.field(default=1, validator=attrs.validators.ge(1), metadata={"zh": "修订次数"})


@attrs.frozen
class InspectionDetails:
    """Supervision (C34): a spot check (平时抽查) or the year-end inspection (年终检查)."""

    method: str = attrs.field(validator=attrs.validators.in_(("平时抽查", "年终检查")), metadata={"zh": "检查方式"})
    findings: str = attrs.field(default="", metadata={"zh": "发现问题"})
    circulated: bool = attrs.field(default=False, metadata={"zh": "是否通报"})
    # The cadres whose annual assessment the results entered (C34 with per = "cadre"): their codes.
    assessed_cadres: tuple[str, ...] = attrs.field(default=(), metadata={"zh": "结果纳入年度考核的干部 (编号)"})


@attrs.frozen
class PublicationDetails:
    """Good practice publicised (C36): what was published, where and by whom; the action's date is when."""

    title: str = attrs.field(validator=_not_blank, metadata={"zh": "标题"})
    medium: str = attrs.field(validator=_not_blank, metadata={"zh": "媒体 (报刊、网站、电视等)"})
    outlet: str = attrs.field(default="", metadata={"zh": "刊发单位 (如曲靖日报)"})
    url: str = attrs.field(default="", metadata={"zh": "网址"})


@hookimpl
def fupin_action_kinds() -> list[ActionKind]:
    """The core's action kinds."""
    return [
        ActionKind(
            "core.meeting",
            "领导班子专题研究",
            "Leadership meeting on the work",
            MeetingDetails,
            beneficiary_types=("village",),
            quantities=("people",),
            description="The leadership studies the poverty-alleviation work (C03).",
        ),
        ActionKind(
            "core.site_visit",
            "深入挂钩点调研或现场办公",
            "Leaders' site visit",
            SiteVisitDetails,
            beneficiary_types=("village", "household", "unit"),
            quantities=("people", "days"),
            description="Leaders go on site for research or an on-site office (C04).",
        ),
        ActionKind(
            "core.publicity",
            "政策宣传",
            "Policy publicity",
            PublicityDetails,
            beneficiary_types=("village", "household", "person"),
            quantities=("people",),
            description="Policies explained to villagers; their opinions collected and passed on (C14).",
        ),
        ActionKind(
            "core.goods",
            "物资捐赠",
            "Goods given in kind",
            GoodsDetails,
            quantities=("people",),
            description="Goods given to households, persons, schools or the village; amount_fen is their value.",
        ),
        ActionKind(
            "core.appointment",
            "领导小组任职",
            "Role in the leading group",
            AppointmentDetails,
            beneficiary_types=("village",),
            description="A cadre takes a role in the plan's leading group (C01); helpers name the cadre, start/end the term.",
        ),
        ActionKind(
            "core.secondment",
            "选派挂职",
            "Secondment",
            SecondmentDetails,
            beneficiary_types=("village", "unit"),
            quantities=("days",),
            description="A cadre seconded as attached leader, work-team leader or instructor (C06); start/end the posting.",
        ),
        ActionKind(
            "core.development_plan",
            "脱贫规划与发展计划",
            "Exit or development plan",
            DevelopmentPlanDetails,
            beneficiary_types=("village", "household"),
            description="The village exit plan or a household's development plan, tracked and adjusted (C15).",
        ),
        ActionKind(
            "core.inspection",
            "督促检查",
            "Supervision",
            InspectionDetails,
            beneficiary_types=("village", "unit"),
            description="Spot checks and the year-end inspection whose results enter the annual assessment (C34).",
        ),
        ActionKind(
            "core.publication",
            "宣传报道",
            "Publication",
            PublicationDetails,
            beneficiary_types=("village", "unit"),
            description="Good practice of the work publicised in a newspaper, on a website or on air (C36); the date is the day published.",
        ),
    ]


@hookimpl
def fupin_targets() -> list[Any]:
    """The core's commitment targets (C01, C03, C04, C06 to C16, C34, C36, C37)."""
    from fupin.core_targets import CORE_TARGETS

    return list(CORE_TARGETS)


@hookimpl
def fupin_importers() -> list[Any]:
    """The core's import kinds: the registry, actions, and the 挂包帮/转走访 records."""
    from fupin.io.actions import ACTIONS
    from fupin.io.fieldwork import FIELDWORK_KINDS
    from fupin.io.kinds import CORE_KINDS

    return [*CORE_KINDS, ACTIONS, *FIELDWORK_KINDS]
