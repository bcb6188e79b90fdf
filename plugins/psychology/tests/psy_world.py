"""The small village of fupin-psychology's tests (shared by conftest and the test modules)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fupin import Actor, Area, Household, Person, Store, Tag, Unit, load_plan
from fupin.ext import make_id_number

PLAN = "qjnu-tuomu"
VILLAGE = "530326106200"
GROUP = f"{VILLAGE}01"
NOTE = "孩子说晚上常梦见妈妈, 约定下周再谈"


def pid(n: int, born: dt.date, sex: str = "女") -> str:
    return make_id_number("530326", born, n, sex)


#: Household 1: a grandmother and two left-behind children; households 2 to 4: empty-nest couples.
CHILD1 = pid(11, dt.date(2008, 5, 1))
CHILD2 = pid(12, dt.date(2010, 3, 1), "男")
GRANDMA = pid(13, dt.date(1950, 1, 1))
ELDERLY = [pid(20 + i, dt.date(1945 + i, 2, 1), "男" if i % 2 else "女") for i in range(6)]


def household_no(n: int) -> str:
    return f"{GROUP}{n:04d}"


def seed_village(store: Any) -> Any:
    """The plan, its village with one group, QJNU, four households with tags from 2015-01-01."""
    plan = load_plan(PLAN)
    # Registry writes (each add_* checks its own permission too; units need units.write).
    with store.transaction("registry.write"):
        store.add_areas([
            Area("530000", "云南省", "province"), Area("530300", "曲靖市", "city", "530000"),
            Area("530326", "会泽县", "county", "530300"), Area("530326106", "者海镇", "town", "530326"),
            Area(VILLAGE, "拖木村", "village", "530326106"), Area(GROUP, "大沟边", "group", VILLAGE),
        ])
        store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university", vocab=store.vocab))
        store.add_unit(Unit.new(code="QJNU-PSY", name="心理健康教育中心", kind="department", parent_code="QJNU", vocab=store.vocab))
    store.save_plan(plan)
    people = {1: [(GRANDMA, "户主", "王奶奶"), (CHILD1, "之孙女", "小花"), (CHILD2, "之孙子", "小明")]}
    for i in range(3):
        people[2 + i] = [(ELDERLY[2 * i], "户主", f"老人{2 * i}"), (ELDERLY[2 * i + 1], "配偶", f"老人{2 * i + 1}")]
    with store.transaction("registry.write"):
        for n, members in people.items():
            store.add_household(Household.new(vocab=store.vocab, number=household_no(n), group_code=GROUP, head_name=members[0][2],
                                              attribute="一般贫困户", main_cause="缺劳力"), since=dt.date(2014, 10, 1))
            for id_number, relation, name in members:
                store.add_person(Person.new(vocab=store.vocab, id_number=id_number, household=household_no(n), name=name, relation=relation))
        for child in (CHILD1, CHILD2):
            store.add_tag(Tag(child, "留守儿童", dt.date(2015, 1, 1)))
        for person in ELDERLY:
            store.add_tag(Tag(person, "空巢老人", dt.date(2015, 1, 1)))
    return plan


SESSIONS_CSV = f"""记录编号,疏导日期,疏导人,方式,疏导对象,登记单位,时长(分钟),主题,风险等级,回访日期,转介,监护人同意,同意日期,方案,记录内容
PSY-1,2017-04-10,李心怡,个别疏导,{CHILD1},QJNU-PSY,40,亲子沟通、学习压力,中,2017-05-10,,王奶奶,2017-04-08,qjnu-tuomu,"{NOTE}"
PSY-2,2017-05-02,赵静,home_visit,{CHILD2},QJNU-PSY,30,思念父母,high,,school,王奶奶,2017-05-01,qjnu-tuomu,
PSY-3,2017-06-01,赵静,团体辅导,{'、'.join(ELDERLY[:5])},QJNU-PSY,90,孤独感,低,,,,,qjnu-tuomu,老人们聊得很开心
"""

CASES_CSV = f"""个案编号,户编号,社工,开案日期,状态,目标,步骤,结案日期,登记单位,方案
SW-1,{household_no(1)},社工 陈晓,2016-03-01,进行中,子女完成义务教育、改善家庭关系,2016-03-05 入户评估、2017-02-01 家庭会议,,QJNU-PSY,qjnu-tuomu
SW-2,{household_no(2)},社工 马丽,2017-03-01,已结案,按时就医服药,2017-03-09 入户评估,2017-11-30,QJNU-PSY,qjnu-tuomu
SW-3,{household_no(3)},社工 马丽,2017-06-01,进行中,建立邻里互助,,,QJNU-PSY,qjnu-tuomu
"""

SECRETS = (NOTE, "老人们聊得很开心", "gAAAA")


def setup_files(cli: Any, url: str, seed: Any, tmp_path: Path) -> tuple[Path, Path]:
    """Initialise ``url`` by the CLI, seed the village, write the two CSV files; their paths."""
    assert cli("--db", url, "init").exit_code == 0
    with Store.open(url, actor=Actor.from_env()) as store:
        seed(store)
    sessions, cases = tmp_path / "sessions.csv", tmp_path / "cases.csv"
    sessions.write_text(SESSIONS_CSV, encoding="utf-8")
    cases.write_text(CASES_CSV, encoding="utf-8")
    return sessions, cases


def clean(text: str, key: str | None = None) -> None:
    """Assert that no note, cipher (nor ``key``) shows in ``text``."""
    for secret in SECRETS + ((key,) if key else ()):
        assert secret not in text
