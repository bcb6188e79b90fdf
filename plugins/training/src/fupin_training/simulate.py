"""Demo activity of the stream (``fupin_simulate``): courses, assessments, party training, research projects.

Played on the plan's villages as a clerk's script would record it, every
choice drawn from one seeded generator. Courses are two sessions of one
technique in one villager group; the attendees are villagers able to work
(or weak labour) who are at home (not migrant workers), households without a technique
yet being asked first. Some attendees of one session only are assessed.

Honest shortfalls, left on purpose: no livestock course in the plan's third
year (C20 not met that year), and households with nobody able to attend
still have no technique at the end of the plan (C21 below 100 %).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from fupin import SupportAction

from fupin_training import queries as q
from fupin_training.kinds import AGRI_SESSION, PARTY_TRAINING, RESEARCH_PROJECT, SKILL_ASSESSMENT

#: Courses per year after the first: technique codes (the area is the code's first part).
COURSES = {
    1: ["fruit_trees.blueberry", "fruit_trees.walnut", "crops.tobacco", "crops.potato", "livestock.pig", "livestock.poultry"],
    2: ["fruit_trees.blueberry", "fruit_trees.pepper", "crops.tobacco", "crops.herbs"],  # no livestock course: C20 short
    3: ["fruit_trees.blueberry", "fruit_trees.walnut", "crops.tobacco", "crops.potato", "livestock.goat", "livestock.pig"],
    4: ["fruit_trees.blueberry", "crops.tobacco", "crops.buckwheat", "livestock.cattle", "livestock.vet"],
}
#: The first (partial) year: one course per area.
FIRST_YEAR = ["fruit_trees.blueberry", "crops.tobacco", "livestock.pig"]

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高罗郑"
_GIVEN = ("建华", "志强", "红梅", "国庆", "丽萍", "文斌", "永福", "秀英", "海涛", "春燕", "明辉", "晓东")
_TITLES = ("教授", "副教授", "讲师", "高级农艺师")
_PLACES = {
    "fruit_trees": ("{g}蓝莓示范基地", "{g}果园", "村委会活动室"),
    "crops": ("{g}烤房", "{g}示范田", "村委会活动室"),
    "livestock": ("{g}养殖小区", "{g}文化室", "村委会活动室"),
    "other": ("村委会活动室",),
}
#: Who can attend: able to work, or weak or half labour (the elderly who farm at home).
_ABLE = ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力")

RESEARCH = (
    # (start, end, title, technique, sector, yuan)
    ((0, 11, 20), (2, 12, 31), "高海拔地区蓝莓引种与栽培技术研究", "fruit_trees.blueberry", "", 80000),
    ((1, 3, 15), (3, 12, 31), "高原烤烟提质增效关键技术示范", "crops.tobacco", "", 60000),
    ((2, 4, 10), (4, 12, 31), "贫困户可持续生计与产业扶贫路径研究", "", "产业发展", 30000),
    ((3, 5, 8), (4, 12, 31), "山区生猪健康养殖技术集成与推广", "livestock.pig", "", 50000),
    ((4, 3, 1), (5, 12, 31), "马铃薯脱毒种薯繁育示范", "crops.potato", "", 40000),
)


def _unit(units: list[Any], keywords: tuple[str, ...], fallback: str) -> str:
    for u in units:
        if any(k in u.name for k in keywords):
            return u.code
    return fallback


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max((end - start).days, 0)))


class _Player:
    def __init__(self, store: Any, plan: Any, seed: int) -> None:
        self.store, self.plan = store, plan
        self.rng = random.Random(seed * 104729 + 21)
        self.counts: defaultdict[str, int] = defaultdict(int)
        units = [u for u in store.units() if u.parent_code == plan.helping_unit.code or u.code == plan.helping_unit.code]
        top = plan.helping_unit.code
        self.college = _unit(units, ("生物", "农", "生命"), top)
        self.econ = _unit(units, ("经济", "管理"), self.college)
        self.org = _unit(units, ("组织部", "党委"), top)
        self.research_office = _unit(units, ("科技", "科研"), top)
        self.cadres = {u: [c.code for c in store.cadres(u)] for u in {self.college, self.econ, self.org, self.research_office}}
        self.kinds = {k: store.hooks.action_kind(k) for k in (AGRI_SESSION, SKILL_ASSESSMENT, PARTY_TRAINING, RESEARCH_PROJECT)}

    def record(self, kind: str, unit: str, tag: str, start: dt.date, **fields: Any) -> str:
        self.counts[f"{unit}{start.year}{tag}"] += 1
        ref = f"{unit}-{start.year}-{tag}{self.counts[f'{unit}{start.year}{tag}']:03d}"
        self.store.record_action(SupportAction.new(self.kinds[kind], start=start, unit=unit, plan=self.plan.name, ref=ref, **fields))
        return ref

    def person(self) -> str:
        rng = self.rng
        return f"{rng.choice(_SURNAMES)}{rng.choice(_GIVEN)}"

    # -- villagers ---------------------------------------------------------------------------

    def villagers(self) -> dict[str, list[tuple[str, int, dt.date, bool]]]:
        """Group code -> (ID number, household id, birth date, at home) of persons able to work."""
        t = q.Tables.of(self.store)
        p, h = t.persons, t.households
        with self.store.reading() as conn:
            rows = conn.execute(
                sa.select(p.c.id_number, p.c.household_id, p.c.birth_date, p.c.work_status, h.c.group_code)
                .join(h, h.c.id == p.c.household_id)
                .where(q.plan_villages_condition(self.plan), p.c.labour.in_(_ABLE))
                .order_by(h.c.group_code, p.c.id)
            ).all()
            names = dict(conn.execute(sa.select(t.areas.c.code, t.areas.c.name).where(t.areas.c.code.in_(sorted({r.group_code for r in rows})))).all())
        self.group_names = names
        out: dict[str, list[tuple[str, int, dt.date, bool]]] = defaultdict(list)
        for r in rows:
            out[r.group_code].append((r.id_number, r.household_id, r.birth_date, r.work_status is None))
        return dict(out)

    # -- courses -------------------------------------------------------------------------------

    def courses(self, year: int, techniques: list[str], window: tuple[dt.date, dt.date], villagers: dict[str, list[Any]],
                skills: dict[int, set[str]], hours: dict[tuple[str, str], int]) -> None:
        rng = self.rng
        groups = sorted(villagers)
        if not groups:
            return
        for n, technique in enumerate(techniques):
            group = groups[(year + n) % len(groups)]
            gname = self.group_names.get(group, group)
            area = technique.split(".")[0]
            first = _day(rng, window[0], window[1] - dt.timedelta(days=40))
            second = first + dt.timedelta(days=rng.randint(14, 35))
            def age_ok(born: dt.date) -> bool:
                return 18 <= year - born.year <= 72
            pool = [v for v in villagers[group] if age_ok(v[2]) and (v[3] or rng.random() < 0.12)]
            weights = [6 if not skills[v[1]] else (2 if len(skills[v[1]]) == 1 else 1) for v in pool]
            size = min(len(pool), rng.randint(26, 40))
            chosen = _weighted_sample(rng, pool, weights, size)
            # A few come from the neighbouring group.
            other = villagers[groups[(year + n + 1) % len(groups)]]
            chosen += [v for v in rng.sample(other, min(len(other), rng.randint(0, 4))) if age_ok(v[2]) and v not in chosen]
            back = [v for v in chosen if rng.random() < 0.8]
            fresh = [v for v in pool if v not in chosen]
            back += rng.sample(fresh, min(len(fresh), rng.randint(2, 6)))
            trainers = [f"{self.person()}{rng.choice(_TITLES)}"]
            helpers = self.cadres.get(self.college, [])[:1] if rng.random() < 0.5 else []
            label = self.store.vocab.find("training_technique", technique)
            course = f"{label.zh if label else technique}实用技术培训班"
            for k, (day, attendees) in enumerate(((first, chosen), (second, back))):
                place = rng.choice(_PLACES.get(area, _PLACES["other"])).format(g=f"{gname}组")
                self.record(
                    AGRI_SESSION, self.college, "AS", day, title=f"{course} 第{k + 1}讲", helpers=helpers,
                    beneficiaries=[f"village:{group[:12]}"] + [f"person:{v[0]}" for v in attendees],
                    quantities={"hours": 4, "people": len(attendees) + rng.randint(0, 12)},
                    details={"technique": technique, "place": place, "trainers": trainers, "group": group, "course": course},
                )
                for v in attendees:
                    hours[(v[0], technique)] += 4
                    if hours[(v[0], technique)] >= 8:
                        skills[v[1]].add(technique)
            # Attendees of one session only may pass an assessment in the field.
            once = [v for v in chosen + back if hours[(v[0], technique)] < 8]
            for v in rng.sample(once, min(len(once), rng.randint(4, 9))):
                passed = rng.random() < 0.85
                self.record(
                    SKILL_ASSESSMENT, self.college, "SK", second + dt.timedelta(days=rng.randint(7, 30)),
                    title=f"{course} 结业考核", beneficiaries=[f"person:{v[0]}"],
                    details={"technique": technique, "assessor": trainers[0], "result": "pass" if passed else "fail", "method": "现场操作"},
                )
                if passed:
                    skills[v[1]].add(technique)

    # -- party training, research -------------------------------------------------------------

    def party(self, year: int, window: tuple[dt.date, dt.date], village: str) -> None:
        rng = self.rng
        helpers = self.cadres.get(self.org, [])[:2]
        if year == self.plan.period_start.year:
            self.record(PARTY_TRAINING, self.org, "PT", window[0] + dt.timedelta(days=30), end=self.plan.period_end,
                        title="农村党员干部培训规划", helpers=helpers, beneficiaries=[f"village:{village}"],
                        details={"format": "training_plan", "topic": "村党员干部培训规划 (方案期内)", "attendees": 0})
            plan = [("policy_lecture", "精准扶贫政策宣讲"), ("party_lesson", "两学一做专题党课"), ("training", "村两委干部培训")]
        else:
            plan = [("party_lesson", "七一专题党课"), ("party_lesson", "党章党规学习"), ("policy_lecture", "脱贫攻坚政策宣讲"),
                    ("training", "农村党员致富带头人培训")]
            if rng.random() < 0.5:
                plan.append(("policy_lecture", "产业扶贫政策解读"))
        for fmt, topic in plan:
            hours = 8 if fmt == "training" else rng.choice((2, 3))
            self.record(PARTY_TRAINING, self.org, "PT", _day(rng, window[0] + dt.timedelta(days=35), window[1] - dt.timedelta(days=10)),
                        title=topic, helpers=helpers, beneficiaries=[f"village:{village}"], quantities={"hours": hours},
                        details={"format": fmt, "topic": topic, "attendees": rng.randint(18, 34), "speaker": self.person()})

    def research(self, village: str) -> None:
        first = self.plan.period_start.year
        for (sy, sm, sd), (ey, em, ed), title, technique, sector, yuan in RESEARCH:
            start, end = dt.date(first + sy, sm, sd), dt.date(first + ey, em, ed)
            if start > self.plan.period_end:
                continue
            unit = self.econ if sector else self.college
            self.record(RESEARCH_PROJECT, self.research_office, "RP", start, end=end, title=title,
                        helpers=self.cadres.get(unit, [])[:1], beneficiaries=[f"village:{village}"], amount_fen=yuan * 100,
                        details={"lead": f"{self.person()}{self.rng.choice(_TITLES[:2])}", "technique": technique, "sector": sector,
                                 "project_no": f"FP{start.year}-{self.counts['rp'] + 1:02d}", "funder": "学校科研扶贫专项"})
            self.counts["rp"] += 1

    def play(self) -> None:
        plan = self.plan
        villagers = self.villagers()
        skills: dict[int, set[str]] = defaultdict(set)
        hours: dict[tuple[str, str], int] = defaultdict(int)
        years = plan.years()
        for village in plan.villages:
            mine = {g: v for g, v in villagers.items() if g.startswith(village.code)}
            for i, year in enumerate(years):
                start = max(dt.date(year, 1, 1), plan.period_start)
                end = min(dt.date(year, 12, 31), plan.period_end)
                if i == 0:
                    window = (max(start, dt.date(year, 10, 1)), min(end, dt.date(year, 12, 20)))
                    techniques = FIRST_YEAR
                else:
                    window = (dt.date(year, 2, 20), dt.date(year, 11, 30))
                    techniques = COURSES.get(i, COURSES[4])
                self.courses(year, techniques, (window[0], min(window[1], end)), mine, skills, hours)
                self.party(year, (start, end), village.code)
            self.research(village.code)


def _weighted_sample(rng: random.Random, items: list[Any], weights: list[int], k: int) -> list[Any]:
    """``k`` distinct items, drawn with the weights (Efraimidis–Spirakis keys)."""
    keyed = sorted(((rng.random() ** (1.0 / w), n) for n, w in enumerate(weights)), reverse=True)
    return [items[n] for _, n in keyed[:k]]


def simulate(store: Any, plan: Any, seed: int) -> None:
    """Record the stream's demo activity for ``plan`` (deterministic for ``seed``)."""
    _Player(store, plan, seed).play()
