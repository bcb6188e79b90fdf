"""Batch import and export of the education stream: one import kind per action kind.

``fupin import education.internships FILE.xlsx``, ``fupin export
education.internships`` and ``fupin template education.internships`` then work
like the core's kinds: the common action columns (记录编号 as natural key, dates,
unit, plan, helpers, beneficiaries, amount) plus the kind's details and
quantities, with drop-down lists for the details drawn from a vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from fupin import ActionKind, SupportAction, Vocabulary
from fupin.ext import ActionsKind, actions_of

from fupin_education.kinds import INTERNSHIP, SANXIAXIANG, STUDY_PAIR, TEACHER_TRAINING, TEACHER_VISIT, vocab_fields


@attrs.define
class EducationActions(ActionsKind):
    """``actions_of`` whose single-valued vocabulary details read through the store's vocabulary."""

    def for_kinds(self, kinds: Mapping[str, ActionKind]) -> EducationActions:
        bound = super().for_kinds(kinds)
        lists = {f"details.{field}": name for k in bound.action_kinds.values() if k.details for field, name in vocab_fields(k.details)}
        return attrs.evolve(bound, columns=tuple(attrs.evolve(c, vocab=lists[c.name]) if c.name in lists else c for c in bound.columns))

    def build(self, values: dict[str, Any], vocab: Vocabulary) -> SupportAction:
        # A one-kind file needs no kind column, but ActionsKind.build reads values["kind"]
        # unconditionally (a KeyError without the column): give it the one kind.
        if not values.get("kind"):
            values["kind"] = self.only[0]
        return super().build(values, vocab)


def _kind(kind: str, name: str, label_zh: str, label_en: str) -> EducationActions:
    base = actions_of(kind, name=name, label_zh=label_zh, label_en=label_en)
    return EducationActions(**{f.name: getattr(base, f.name) for f in attrs.fields(ActionsKind) if f.init})


def import_kinds() -> list[ActionsKind]:
    """The five import kinds (``education.teacher_visits`` ... ``education.study_pairs``)."""
    return [
        _kind(TEACHER_VISIT, "education.teacher_visits", "中小学教师来校培训", "Teachers trained at the university"),
        _kind(TEACHER_TRAINING, "education.teacher_trainings", "送教下乡教师培训", "Teacher training in the town"),
        _kind(INTERNSHIP, "education.internships", "教育实习", "Teaching internships"),
        _kind(SANXIAXIANG, "education.sanxiaxiang_teams", "三下乡服务团", "三下乡 teams"),
        _kind(STUDY_PAIR, "education.study_pairs", "一对一结对助学", "One-to-one study pairs"),
    ]
