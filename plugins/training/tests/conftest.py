"""Fixtures of fupin-training's tests: the plugin registered on fupin's fixtures, and a small village.

fupin's own fixtures (``store``, ``cli``, ``database_url``, ``sqlite_url``,
``pm``) come from ``fupin.testing`` (a pytest plugin installed with fupin);
``pm`` is overridden here to register this plugin, so ``store`` and
``cli`` see it on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import fupin_training
from fupin import Area, Cadre, Household, Person, Plan, SupportAction, Unit, get_plugin_manager, load_plan
from fupin.ext import make_id_number

PLAN = "qjnu-tuomu"
VILLAGE = "530326106200"
GROUPS = {f"{VILLAGE}01": "大沟边", f"{VILLAGE}02": "发和落"}
COLLEGE = "QJNU-BIO"
TRAINER = "QJNU-C001"


@pytest.fixture
def pm() -> Any:
    """A fresh plugin manager: the built-in plugins and this one, nothing installed."""
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(fupin_training, name="training")
    return pm


def person_id(household: int, member: int) -> str:
    """A valid ID number for member ``member`` of household ``household``."""
    return make_id_number("530326", dt.date(1970 + member, 1, 1) + dt.timedelta(days=household), household * 10 + member, "男" if member % 2 else "女")


def household_no(n: int) -> str:
    """Number of household ``n`` (households 1-2 in group 01, 3 in group 02)."""
    group = "01" if n <= 2 else "02"
    return f"{VILLAGE}{group}{n:04d}"


class World:
    """Three poor households of the plan's village: 1 (two members), 2 (one member), 3 (one member, another group)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.n = 0

    @staticmethod
    def person(household: int, member: int) -> str:
        """ID number of member ``member`` of household ``household``."""
        return person_id(household, member)

    @staticmethod
    def household(n: int) -> str:
        """Number of household ``n``."""
        return household_no(n)

    def small_sessions(self) -> None:
        """Store the plan with C20's min_attendees at 1: the tests' village has four people (the rule is tested apart)."""
        text = self.store.plan(PLAN).text
        old = "min_attendees = 5                  # a session naming fewer villagers"
        assert old in text
        self.store.save_plan(Plan.from_toml(text.replace(old, "min_attendees = 1                  # a session naming fewer villagers")))

    def kind(self, name: str) -> Any:
        return self.store.hooks.action_kind(name)

    def record(self, kind: str, day: str, *, ref: str | None = None, unit: str = COLLEGE, plan: str | None = PLAN, **fields: Any) -> SupportAction:
        self.n += 1
        return self.store.record_action(SupportAction.new(
            self.kind(kind), start=day, unit=unit, plan=plan, ref=ref or f"T-{self.n:03d}", **fields))

    def session(self, day: str, technique: str, people: list[str], *, hours: int = 4, group: str = f"{VILLAGE}01", ref: str | None = None) -> SupportAction:
        return self.record(
            "training.agri_session", day, ref=ref, helpers=[TRAINER],
            beneficiaries=[f"village:{VILLAGE}"] + [f"person:{p}" for p in people], quantities={"hours": hours},
            details={"technique": technique, "place": "村委会活动室", "trainers": ["王教授"], "group": group},
        )

    def assessment(self, day: str, technique: str, person: str, result: str = "合格", ref: str | None = None) -> SupportAction:
        return self.record("training.skill_assessment", day, ref=ref, beneficiaries=[f"person:{person}"],
                           details={"technique": technique, "assessor": "王教授", "result": result})

    def party(self, day: str, fmt: str, *, end: str | None = None, ref: str | None = None) -> SupportAction:
        return self.record("training.party_training", day, end=end, ref=ref, unit="QJNU", beneficiaries=[f"village:{VILLAGE}"],
                           details={"format": fmt, "topic": "专题", "attendees": 20})

    def project(self, start: str, end: str, *, ref: str | None = None, technique: str = "蓝莓") -> SupportAction:
        return self.record("training.research_project", start, end=end, ref=ref, unit="QJNU", title="蓝莓引种研究",
                           beneficiaries=[f"village:{VILLAGE}"], amount_fen=5_000_000,
                           details={"lead": "李教授", "technique": technique})


@pytest.fixture
def world(store: Any) -> World:
    """The plan, its village with two villager groups, QJNU and its college, one cadre, three poor households."""
    plan = load_plan(PLAN)
    with store.transaction():
        store.add_areas([
            Area("530000", "云南省", "province"), Area("530300", "曲靖市", "city", "530000"),
            Area("530326", "会泽县", "county", "530300"), Area("530326106", "者海镇", "town", "530326"),
            Area(VILLAGE, "拖木村", "village", "530326106"),
            *(Area(code, name, "group", VILLAGE) for code, name in GROUPS.items()),
        ])
        store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university", vocab=store.vocab))
        store.add_unit(Unit.new(code=COLLEGE, name="生物资源与食品工程学院", kind="department", parent_code="QJNU", vocab=store.vocab))
        store.add_cadre(Cadre.new(code=TRAINER, name="干部一", unit=COLLEGE, rank="处级", vocab=store.vocab))
    store.save_plan(plan)
    for n, members in ((1, 2), (2, 1), (3, 1)):
        number = household_no(n)
        store.add_household(Household.new(vocab=store.vocab, number=number, group_code=number[:14], head_name=f"户主{n}",
                                          attribute="一般贫困户", main_cause="缺技术"), since=dt.date(2014, 10, 1))
        for m in range(1, members + 1):
            store.add_person(Person.new(vocab=store.vocab, id_number=person_id(n, m), household=number, name=f"成员{n}-{m}",
                                        relation="户主" if m == 1 else "配偶", labour="普通劳动力"))
    return World(store)
