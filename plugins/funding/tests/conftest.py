"""Fixtures of fupin-funding's tests: the plugin registered on fupin's fixtures, and a small village.

fupin's fixtures (``store``, ``cli``, ``database_url``, ``sqlite_url``, ``pm``)
come from ``fupin.testing``; ``pm`` is overridden to register this plugin, so
``store`` and ``cli`` see it on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest

import fupin_funding
from fupin import Area, Household, Person, Tag, get_plugin_manager, load_plan
from fupin.ext import make_id_number

# The tests run with --import-mode=importlib: make the shared helpers importable.
sys.path.insert(0, str(Path(__file__).parent))
from funding_world import add_university  # noqa: E402

PLAN = "qjnu-tuomu"
VILLAGE = "530326106200"
GROUP = f"{VILLAGE}01"


@pytest.fixture
def pm() -> Any:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(fupin_funding, name="funding")
    return pm


def pid(n: int, m: int, year: int = 1970) -> str:
    return make_id_number("530326", dt.date(year + m, 1, 1) + dt.timedelta(days=n), n * 10 + m, "男" if m % 2 else "女")


def hh(n: int) -> str:
    return f"{GROUP}{n:04d}"


class Village:
    """Households: 1 poor with two pupils (one 小学, one 非在校生 but tagged 在校生) and a 非在校生 parent;
    2 poor with a 学前教育 child; 3 not poor (已脱贫(不再享受政策)) with a pupil; 4 an elder living alone (孤寡老人);
    5 a family that took the elder in."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.student_a = pid(1, 2, 2005)
        self.student_b = pid(1, 3, 2003)
        self.elder = pid(4, 1, 1940)


@pytest.fixture
def village(store: Any) -> Village:
    plan = load_plan(PLAN)
    with store.transaction():
        store.add_areas([
            Area("530000", "云南省", "province"), Area("530300", "曲靖市", "city", "530000"),
            Area("530326", "会泽县", "county", "530300"), Area("530326106", "者海镇", "town", "530326"),
            Area(VILLAGE, "拖木村", "village", "530326106"), Area(GROUP, "大沟边", "group", VILLAGE),
        ])
        add_university(store)
    store.save_plan(plan)
    since = dt.date(2014, 10, 1)
    members = {
        1: [("户主", 1975, "非在校生"), ("之子", 2005, "小学"), ("之女", 2003, "非在校生")],
        2: [("户主", 1980, "非在校生"), ("之子", 2012, "学前教育")],
        3: [("户主", 1978, "非在校生"), ("之子", 2006, "小学")],
        4: [("户主", 1940, "非在校生")],
        5: [("户主", 1970, "非在校生")],
    }
    for n, people in members.items():
        store.add_household(Household.new(vocab=store.vocab, number=hh(n), group_code=GROUP, head_name=f"户主{n}",
                                          attribute="一般贫困户", main_cause="缺技术"), since=since)
        for m, (relation, year, student) in enumerate(people, start=1):
            store.add_person(Person.new(vocab=store.vocab, id_number=pid(n, m, year - m), household=hh(n), name=f"成员{n}-{m}",
                                        relation=relation, student_status=student))
    store.add_tag(Tag(pid(1, 3, 2003 - 3), "在校生", since))
    store.add_tag(Tag(pid(4, 1, 1940 - 1), "孤寡老人", since))
    store.update_household(hh(3), {"status": "已脱贫(不再享受政策)"}, effective=dt.date(2016, 12, 1), reason="脱贫")
    v = Village(store)
    v.student_a, v.student_b, v.elder = pid(1, 2, 2005 - 2), pid(1, 3, 2003 - 3), pid(4, 1, 1940 - 1)
    v.pupil_exited = pid(3, 2, 2006 - 2)
    v.plan = plan
    return v
