"""Soil testing and fertiliser recommendation (测土配方施肥).

The college's students and staff take soil samples from households' fields,
analyse them in a laboratory and give each household a fertiliser
recommendation. One support action records one round of sampling.
"""

from __future__ import annotations

from typing import Any

import attrs

from fupin import ActionKind, Problem, ValidationError

#: The kind's name: the plugin's name, a dot, the kind.
SOIL_TESTING = "lifesci.soil_testing"

#: Who a soil-testing action can help: the households whose fields were
#: sampled, or a whole village when every field of it was.
BENEFICIARY_TYPES = ("household", "village")


def _at_least_one(_inst: object, attr: attrs.Attribute, value: int) -> None:
    if value < 1:
        raise ValidationError.of(attr.name, "样本数至少为 1 / at least one sample", value)


def _not_blank(_inst: object, attr: attrs.Attribute, value: str) -> None:
    if not value.strip():
        raise ValidationError.of(attr.name, "必填 / required", value)


@attrs.frozen
class SoilTesting:
    """The details of a soil-testing action.

    Attributes:
        samples: number of soil samples taken (at least one).
        lab: the laboratory that analysed them.
        fields: the fields sampled, as the households name them (a list in files).
        recommendation: the fertiliser recommendation given to the households.
    """

    samples: int = attrs.field(validator=_at_least_one)
    lab: str = attrs.field(validator=_not_blank)
    fields: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    recommendation: str = ""


def soil_testing_kind() -> ActionKind:
    """The ``lifesci.soil_testing`` action kind."""
    return ActionKind(
        SOIL_TESTING,
        label_zh="测土配方施肥",
        label_en="Soil testing and fertiliser recommendation",
        details=SoilTesting,
        beneficiary_types=BENEFICIARY_TYPES,
        quantities=("samples",),
        description=(
            "Soil samples taken from households' fields, analysed in the college's "
            "laboratory, with a fertiliser recommendation for each household."
        ),
    )


def check_beneficiaries(action: Any) -> list[Problem]:
    """A soil-testing action must name at least one household or village."""
    if any(b.type in BENEFICIARY_TYPES for b in action.beneficiaries):
        return []
    return [
        Problem(
            "beneficiaries",
            "测土配方施肥须有受益农户或村 / soil testing needs at least one household or village",
        )
    ]
