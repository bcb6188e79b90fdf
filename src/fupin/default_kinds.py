"""The built-in plugin ``core``: support-action kinds every plan needs.

It uses the same hooks as any other plugin (Datasette's DEFAULT_PLUGINS), so
the core gets no special path: leadership meetings (C03), leaders' site visits
(C04), policy publicity (C14) and goods given in kind. The streams (education,
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
    ]


@hookimpl
def fupin_importers() -> list[Any]:
    """The core's import kinds: areas, units, cadres, households, persons, tags, actions."""
    from fupin.io.actions import ACTIONS
    from fupin.io.kinds import CORE_KINDS

    return [*CORE_KINDS, ACTIONS]
