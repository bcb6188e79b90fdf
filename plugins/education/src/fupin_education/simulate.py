"""Plausible education activity for ``fupin demo`` (the ``fupin_simulate`` hook).

For every year of the plan: programmes at the university for the teachers of
the schools the plan names (C23), training sessions in the town per subject
(C24), student teachers at the host schools each term (C25), 三下乡 teams in
the winter and summer vacations (C26), and one-to-one study pairs for the
in-school students of poor households (C27). The same teachers come back year
after year, so ``fupin education teachers`` shows a continuing-education
record.

Honest shortfalls, so the report has something true to say:

- 2015 (the plan starts in September): one programme at the university, and
  only two teachers of the second school could come (C23 not met);
- no study pair before the spring of 2016 (C27 not met in 2015);
- 2017: only two 三下乡 teams, both in the summer vacation (C26 not met).

Nothing about the reference plan is hard-coded: schools, subjects and host
schools come from the commitments' parameters, units are found by name.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import sqlalchemy as sa

from fupin import SupportAction

from fupin_education.kinds import INTERNSHIP, SANXIAXIANG, STUDY_PAIR, TEACHER_TRAINING, TEACHER_VISIT
from fupin.ext import plan_villages_condition

from fupin_education.targets import param, tables

_SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕鹏辉鑫宇浩凯健俊帆帅旭宁琳晶欣雪婷慧莉"
_SUBJECT_DEPARTMENTS = {"语文": "人文学院", "数学": "数学与统计学院", "英语": "外国语学院"}
_TEAMS = (
    ("支教服务团", ("支教", "支教", "宣讲")),
    ("医疗卫生服务团", ("义诊", "科普")),
    ("科技支农服务团", ("科普", "调研")),
    ("理论宣讲服务团", ("宣讲", "调研")),
    ("文艺服务团", ("文艺演出", "支教")),
)
_TOPICS = ("新课程标准下的课堂教学设计", "阅读与写作教学方法", "信息技术与学科教学融合", "分层教学与学困生辅导", "课堂提问与评价")


class _Demo:
    def __init__(self, store: Any, plan: Any, seed: int) -> None:
        self.store, self.plan = store, plan
        self.rng = random.Random(seed * 131 + 23)
        self.params = {c.target: dict(c.params) for c in plan.commitments if c.target.startswith("education.")}
        self.n = 0
        u = store.table("units")
        from fupin.ext import unit_tree

        with store.reading() as conn:
            rows = conn.execute(sa.select(u.c.code, u.c.name)).all()
            own = unit_tree(conn, plan.helping_unit.code)
        # Departments are looked up by name within the plan's own unit (another plan's college may have
        # a department of the same name); schools, which any plan may name, anywhere.
        self.code = {r.name: r.code for r in rows if r.code not in own} | {r.name: r.code for r in rows if r.code in own}
        self.own_names = {r.name: r.code for r in rows if r.code in own}
        self.village = plan.villages[0].code
        self.pools: dict[str, list[str]] = {}

    def name(self) -> str:
        return self.rng.choice(_SURNAMES) + "".join(self.rng.choice(_GIVEN) for _ in range(self.rng.randint(1, 2)))

    def unit(self, name: str) -> str:
        return self.own_names.get(name, self.plan.helping_unit.code)

    def teachers(self, school: str) -> list[str]:
        """The teachers of a school (the same people every year)."""
        if school not in self.pools:
            self.pools[school] = [f"{self.name()}@{school}" for _ in range(10)]
        return self.pools[school]

    def record(self, kind: str, start: dt.date, end: dt.date, unit: str, title: str, details: dict[str, Any],
               beneficiaries: list[str], **fields: Any) -> None:
        self.n += 1
        self.store.record_action(SupportAction.new(
            self.store.hooks.action_kind(kind), start=start, end=end, unit=unit, plan=self.plan.name, title=title,
            details=details, beneficiaries=beneficiaries, ref=f"EDU-{start.year}-{self.n:04d}-{self.plan.helping_unit.code}", **fields,
        ))

    def day(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(0, max((end - start).days, 0)))

    def in_plan(self, start: dt.date, end: dt.date) -> bool:
        return start >= self.plan.period_start and end <= self.plan.period_end

    # -- the streams --------------------------------------------------------------------------

    def teacher_visits(self, year: int) -> None:
        """C23: a spring and an autumn programme; 2015 only the autumn one, and the second school sends two."""
        schools = [self.code[s] for s in self.params.get("education.trainees_per_school", {}).get("schools", ()) if s in self.code]
        for month, per_school in ((4, 3), (11, 3)):
            start = self.day(dt.date(year, month, 5), dt.date(year, month, 20))
            end = start + dt.timedelta(days=self.rng.randint(4, 9))
            if not self.in_plan(start, end):
                continue
            trainees = []
            for i, school in enumerate(schools):
                count = 2 if (year == self.plan.period_start.year and i == 1) else per_school + self.rng.randint(0, 1)
                trainees += self.rng.sample(self.teachers(school), count)
            if not trainees:
                return
            self.record(TEACHER_VISIT, start, end, self.unit("教师教育学院"), "中小学教师来校参观学习培训",
                        {"programme": f"{year}年{'春季' if month == 4 else '秋季'}中小学骨干教师研修班", "trainees": trainees,
                         "visit_activities": self.rng.sample(["参观", "听课观摩", "免费课程", "图书馆", "教研交流"], 3),
                         "host": "教师教育学院", "free_of_charge": True},
                        [f"unit:{s}" for s in schools], quantities={"hours": 8 * ((end - start).days + 1) // 2, "people": len(trainees)})

    def teacher_trainings(self, year: int) -> None:
        """C24: one or two sessions per subject a year, in the schools of the town."""
        p = self.params.get("education.teacher_training_sessions", {})
        place = p.get("place_zh", "")
        schools = [self.code[s] for s in self.params.get("education.trainees_per_school", {}).get("schools", ()) if s in self.code]
        for subject in p.get("subjects", ()):
            professors = [self.name() for _ in range(2)]
            for _ in range(self.rng.randint(1, 2)):
                start = self.day(dt.date(year, 3, 10), dt.date(year, 12, 10))
                if not self.in_plan(start, start):
                    start = self.day(max(dt.date(year, 1, 1), self.plan.period_start) + dt.timedelta(days=30), dt.date(year, 12, 10))
                trainees = [t for s in schools for t in self.rng.sample(self.teachers(s), 2)]
                self.record(TEACHER_TRAINING, start, start, self.unit(_SUBJECT_DEPARTMENTS.get(subject, "教师教育学院")),
                            f"{subject}教授送教下乡", {"subject": subject, "topic": self.rng.choice(_TOPICS), "trainers": professors,
                                                  "trainees": trainees, "place": f"{place}{self.rng.choice(['中心学校', '一中'])}"},
                            [f"unit:{s}" for s in schools], quantities={"hours": self.rng.choice((3, 4, 6)), "people": len(trainees) + self.rng.randint(10, 30)})

    def internships(self, year: int) -> None:
        """C25: two or three student teachers per host school each term."""
        hosts = [self.code[s] for s in self.params.get("education.internships", {}).get("host_schools", ()) if s in self.code]
        for start_month, end_month in ((3, 6), (9, 12)):
            start = dt.date(year, start_month, self.rng.randint(1, 7))
            end = dt.date(year, end_month, self.rng.randint(20, 30))
            if not self.in_plan(start, end):
                continue
            supervisor = self.name()
            for host in hosts:
                for _ in range(self.rng.randint(2, 3)):
                    self.record(INTERNSHIP, start, end, self.unit("教师教育学院"), "教育实习",
                                {"student": self.name(), "student_no": f"{year - 3}{self.rng.randint(10000, 99999)}",
                                 "subject": self.rng.choice(["语文", "数学", "英语", "物理", "化学", "历史"]), "mentor": self.name(),
                                 "supervisor": supervisor, "lessons": self.rng.randint(24, 60),
                                 "evaluation": self.rng.choices(["优秀", "良好", "中等", "合格"], weights=[3, 5, 2, 1])[0]},
                                [f"unit:{host}"])

    def teams(self, year: int) -> None:
        """C26: 3 to 5 teams over the winter and summer vacations; 2017 only two, both in summer."""
        p = self.params.get("education.sanxiaxiang_teams", {})
        if not p:
            return
        lo, hi = int(p.get("min_teams", 3)), int(p.get("max_teams", 5))
        months = param(self.plan, "education.sanxiaxiang_teams", "vacation_months")
        if year == self.plan.years()[min(2, len(self.plan.years()) - 1)]:  # the third year (2017 for the reference plan)
            plan_ = [("summer", t) for t in self.rng.sample(_TEAMS, 2)]
        else:
            chosen = self.rng.sample(_TEAMS, self.rng.randint(lo, hi))
            plan_ = [("winter", chosen[0]), *[("summer", t) for t in chosen[1:]]]
            if len(chosen) > 3 and self.rng.random() < 0.5:
                plan_.append(("winter", chosen[1]))  # a team that goes out in both vacations
        for vacation, (team, activities) in plan_:
            month = int(months.get(vacation, [7])[0])
            start = dt.date(year, month, self.rng.randint(12, 25))
            end = start + dt.timedelta(days=self.rng.randint(7, 14))
            if not self.in_plan(start, end):
                continue
            self.record(SANXIAXIANG, start, end, self.unit("学生工作处"), f"{year}年{'寒假' if vacation == 'winter' else '暑假'}三下乡{team}",
                        {"team": team, "vacation": vacation, "supervisor": self.name(), "members": [self.name() for _ in range(self.rng.randint(8, 15))],
                         "activities": list(activities) + self.rng.sample(["宣讲", "调研", "科普"], 1), "places": [self.plan.villages[0].name_zh]},
                        [f"village:{self.village}"], quantities={"people": self.rng.randint(80, 400), "days": (end - start).days + 1})

    def study_pairs(self) -> None:
        """C27: from the spring of 2016, nearly every in-school student of a poor household has a staff member."""
        poor = list(param(self.plan, "education.one_to_one_support", "poor_statuses"))
        not_in_school = list(param(self.plan, "education.one_to_one_support", "not_in_school"))
        t = tables(self.store)
        p, h = t["persons"], t["households"]
        with self.store.reading() as conn:
            students = conn.execute(
                sa.select(p.c.id_number).join(h, h.c.id == p.c.household_id)
                .where(plan_villages_condition(self.plan), h.c.status.in_(poor),
                       p.c.student_status.is_not(None), p.c.student_status.not_in(not_in_school))
                .order_by(p.c.id_number)
            ).scalars().all()
        departments = ["人文学院", "数学与统计学院", "外国语学院", "教师教育学院", "学生工作处", "经济与管理学院"]
        first = max(dt.date(self.plan.period_start.year + 1, 3, 1), self.plan.period_start)
        for id_number in students:
            if self.rng.random() < 0.04:
                continue  # a few students still without a pair: the share stays honest
            start = self.day(first, first + dt.timedelta(days=60))
            department = self.rng.choice(departments)
            self.record(STUDY_PAIR, start, self.plan.period_end, self.unit(department), "教职工一对一结对助学",
                        {"staff": self.name(), "staff_unit": department,
                         "support": self.rng.sample(["学业辅导", "学习用品", "生活补助", "心理疏导", "家访"], 2), "note": "每学期联系不少于两次"},
                        [f"person:{id_number}"], amount_fen=self.rng.choice((0, 20000, 30000, 50000)), quantities={"hours": self.rng.randint(8, 30)})


def simulate(store: Any, plan: Any, seed: int) -> None:
    """Record the education stream's years for ``plan`` (deterministic for ``seed``)."""
    demo = _Demo(store, plan, seed)
    if not demo.params:
        return
    for year in plan.years():
        demo.teacher_visits(year)
        demo.teacher_trainings(year)
        demo.internships(year)
        demo.teams(year)
    demo.study_pairs()
