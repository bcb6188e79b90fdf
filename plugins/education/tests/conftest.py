"""Fixtures of the fupin-education tests, on top of fupin's (``fupin.testing``)."""

from __future__ import annotations

from typing import Any

import pytest

import fupin_education
from fupin import Unit, load_plan

PLAN = "qjnu-tuomu"

#: The units the reference plan's education commitments name, and the departments that register.
UNITS = (
    ("QJNU", "曲靖师范学院", "高校", None),
    ("QJNU-EDU", "教师教育学院", "院系部门", "QJNU"),
    ("QJNU-LIT", "人文学院", "院系部门", "QJNU"),
    ("QJNU-STU", "学生工作处", "院系部门", "QJNU"),
    ("ZHZ-YZ", "者海镇一中", "学校", None),
    ("TMC-XX", "拖木村小学", "学校", None),
    ("HZ-YZ", "会泽一中", "学校", None),
)


@pytest.fixture
def pm(pm: Any) -> Any:
    """fupin's fresh plugin manager (no entry points) with this plugin registered."""
    pm.register(fupin_education, name="education")
    return pm


def seed_units(store: Any) -> Any:
    """The reference plan stored, its university with three departments, and the three schools."""
    plan = load_plan(PLAN)
    with store.transaction():
        for code, name, kind, parent in UNITS:
            store.add_unit(Unit.new(vocab=store.vocab, code=code, name=name, kind=kind, parent_code=parent))
    store.save_plan(plan)
    return plan


@pytest.fixture
def seeded(store: Any) -> Any:
    """The ``store`` fixture (SQLite and PostgreSQL) with the plan and its units; returns (store, plan)."""
    return store, seed_units(store)


@pytest.fixture
def seed() -> Any:
    """``seed(store)``: store the plan and its units in a store the test opened itself."""
    return seed_units
